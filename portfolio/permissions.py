"""IAM statements of the shared Lambdas, one function per capability.

Every ARN is built with ``${AWS::Partition}``, ``${AWS::Region}`` and
``${AWS::AccountId}``; per-project resources are matched by the ``sagemaker-``
name prefix every project name starts with (``naming.NAME_PREFIX``).
"""

from __future__ import annotations

from typing import Any

from awacs import application_autoscaling as aas_actions
from awacs import cloudwatch as cw_actions
from awacs import dynamodb as ddb_actions
from awacs import iam as iam_actions
from awacs import s3 as s3_actions
from awacs import sagemaker as sm_actions
from awacs import sns as sns_actions
from awacs.aws import Allow, Condition, Statement, StringEquals, StringLike
from troposphere import GetAtt, Join, Ref, Sub

from lambda_project_lifecycle.naming import NAME_PREFIX


def sagemaker_arn(resource: str) -> Sub:
    """``arn:<partition>:sagemaker:<region>:<account>:<resource>``."""
    return Sub(f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


def model_group_statements() -> list[Statement]:
    return [
        Statement(
            Sid="ProjectModelGroups",
            Effect=Allow,
            Action=[
                sm_actions.CreateModelPackageGroup,
                sm_actions.DeleteModelPackageGroup,
                sm_actions.AddTags,
                sm_actions.ListTags,
            ],
            Resource=[sagemaker_arn(f"model-package-group/{NAME_PREFIX}-*")],
        ),
        Statement(
            Sid="ProjectModelPackages",
            Effect=Allow,
            Action=[sm_actions.DeleteModelPackage],
            Resource=[sagemaker_arn(f"model-package/{NAME_PREFIX}-*/*")],
        ),
        Statement(
            Sid="ListingHasNoResourceScope",
            Effect=Allow,
            Action=[sm_actions.ListModelPackageGroups, sm_actions.ListModelPackages],
            Resource=["*"],
        ),
    ]


def registry_statements(table: Any, *, write: bool) -> list[Statement]:
    actions = [ddb_actions.GetItem]
    if write:
        actions += [ddb_actions.PutItem, ddb_actions.DeleteItem, ddb_actions.UpdateItem]
    return [
        Statement(
            Sid="ProjectRegistry",
            Effect=Allow,
            Action=actions,
            Resource=[GetAtt(table, "Arn")],
        )
    ]


# --- deployments ------------------------------------------------------------------------
# The deployment handlers and project delete act on project endpoints, configs, models
# (all named sagemaker-*), their rollback alarms, and their autoscaling targets.


def _project_hosting_arns() -> list[Sub]:
    return [
        sagemaker_arn(f"endpoint/{NAME_PREFIX}-*"),
        sagemaker_arn(f"endpoint-config/{NAME_PREFIX}-*"),
        sagemaker_arn(f"model/{NAME_PREFIX}-*"),
    ]


def _alarm_arn(name_pattern: str) -> Sub:
    return Sub(
        f"arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:{name_pattern}"
    )


def deployment_teardown_statements() -> list[Statement]:
    """Delete a project's endpoints with their configs, models, alarms and scaling targets."""
    return [
        Statement(
            Sid="ProjectHostingTeardown",
            Effect=Allow,
            Action=[
                sm_actions.DescribeEndpoint,
                sm_actions.DescribeEndpointConfig,
                sm_actions.DeleteEndpoint,
                sm_actions.DeleteEndpointConfig,
                sm_actions.DeleteModel,
                sm_actions.ListTags,
            ],
            Resource=_project_hosting_arns(),
        ),
        Statement(
            Sid="HostingListsHaveNoResourceScope",
            Effect=Allow,
            Action=[
                sm_actions.ListEndpoints,
                sm_actions.ListEndpointConfigs,
                sm_actions.ListModels,
            ],
            Resource=["*"],
        ),
        Statement(
            Sid="ProjectAlarmsTeardown",
            Effect=Allow,
            Action=[cw_actions.DeleteAlarms],
            Resource=[
                _alarm_arn(f"{NAME_PREFIX}-*"),
                _alarm_arn(f"TargetTracking-endpoint/{NAME_PREFIX}-*"),
            ],
        ),
        Statement(
            Sid="AlarmListsHaveNoResourceScope",
            Effect=Allow,
            Action=[cw_actions.DescribeAlarms],
            Resource=["*"],
        ),
        Statement(
            Sid="VariantScalingTeardown",
            Effect=Allow,
            Action=[
                aas_actions.DescribeScalableTargets,
                aas_actions.DescribeScalingPolicies,
                aas_actions.DeleteScalingPolicy,
                aas_actions.DeregisterScalableTarget,
            ],
            Resource=["*"],
        ),
    ]


def deployment_statements(model_role: Any, data_bucket: Any, topic: Any) -> list[Statement]:
    """Deploy approved packages: models, configs, endpoints, alarms, scaling, tests, notices."""
    return [
        *deployment_teardown_statements(),
        Statement(
            Sid="ProjectHosting",
            Effect=Allow,
            Action=[
                sm_actions.CreateModel,
                sm_actions.DescribeModel,
                sm_actions.CreateEndpointConfig,
                sm_actions.CreateEndpoint,
                sm_actions.UpdateEndpoint,
                sm_actions.UpdateEndpointWeightsAndCapacities,
                sm_actions.AddTags,
                sm_actions.DeleteTags,
                sm_actions.InvokeEndpoint,
            ],
            Resource=_project_hosting_arns(),
        ),
        Statement(
            Sid="ProjectModelPackagesRead",
            Effect=Allow,
            Action=[sm_actions.DescribeModelPackage],
            Resource=[sagemaker_arn(f"model-package/{NAME_PREFIX}-*/*")],
        ),
        Statement(
            Sid="PackageListsHaveNoResourceScope",
            Effect=Allow,
            Action=[sm_actions.ListModelPackages],
            Resource=["*"],
        ),
        Statement(
            Sid="PassTheModelRoleToSageMaker",
            Effect=Allow,
            Action=[iam_actions.PassRole],
            Resource=[GetAtt(model_role, "Arn")],
            Condition=Condition(StringEquals("iam:PassedToService", "sagemaker.amazonaws.com")),
        ),
        Statement(
            Sid="RollbackAlarms",
            Effect=Allow,
            Action=[cw_actions.PutMetricAlarm, cw_actions.TagResource],
            Resource=[
                _alarm_arn(f"{NAME_PREFIX}-*"),
                _alarm_arn(f"TargetTracking-endpoint/{NAME_PREFIX}-*"),
            ],
        ),
        Statement(
            Sid="VariantScaling",
            Effect=Allow,
            Action=[aas_actions.RegisterScalableTarget, aas_actions.PutScalingPolicy],
            Resource=["*"],
        ),
        Statement(
            Sid="ScalingServiceLinkedRole",
            Effect=Allow,
            Action=[iam_actions.CreateServiceLinkedRole],
            Resource=[
                Sub(
                    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
                    "sagemaker.application-autoscaling.amazonaws.com/"
                    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
                )
            ],
            Condition=Condition(
                StringLike("iam:AWSServiceName", "sagemaker.application-autoscaling.amazonaws.com")
            ),
        ),
        *deployment_data_statements(data_bucket),
        notification_statement(topic),
    ]


def deployment_data_statements(data_bucket: Any) -> list[Statement]:
    """Read what a project's build publishes: s3://<bucket>/<prefix>/deploy/<branch>/..."""
    return [
        Statement(
            Sid="PublishedDeploySettings",
            Effect=Allow,
            Action=[s3_actions.GetObject],
            Resource=[Join("", [GetAtt(data_bucket, "Arn"), f"/{NAME_PREFIX}-*/deploy/*"])],
        ),
        Statement(
            Sid="ListPublishedPayloads",
            Effect=Allow,
            Action=[s3_actions.ListBucket],
            Resource=[GetAtt(data_bucket, "Arn")],
            Condition=Condition(StringLike("s3:prefix", f"{NAME_PREFIX}-*/deploy/*")),
        ),
    ]


def notification_statement(topic: Any) -> Statement:
    return Statement(
        Sid="Notifications", Effect=Allow, Action=[sns_actions.Publish], Resource=[Ref(topic)]
    )
