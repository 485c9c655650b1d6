"""IAM statements of the deployment handlers and of project delete, one function per
capability.

They act on project endpoints, configs, models (all named ``sagemaker-*``), their
rollback alarms and their autoscaling targets, and run models as the platform's model role
(never a project's training role).
"""

from __future__ import annotations

from typing import Any

from awacs import application_autoscaling as aas_actions
from awacs import cloudwatch as cw_actions
from awacs import iam as iam_actions
from awacs import s3 as s3_actions
from awacs import sagemaker as sm_actions
from awacs.aws import Allow, Condition, Statement, StringEquals, StringLike
from troposphere import GetAtt, Join, Sub

from lambda_project_lifecycle.naming import NAME_PREFIX
from template_common.arns import iam_role_arn, regional_arn, sagemaker_arn


def _project_hosting_arns() -> list[Sub]:
    return [
        sagemaker_arn(f"endpoint/{NAME_PREFIX}-*"),
        sagemaker_arn(f"endpoint-config/{NAME_PREFIX}-*"),
        sagemaker_arn(f"model/{NAME_PREFIX}-*"),
    ]


def _project_alarm_arns() -> list[Sub]:
    """Rollback alarms, and the alarms target tracking makes for project endpoints."""
    return [
        regional_arn("cloudwatch", f"alarm:{NAME_PREFIX}-*"),
        regional_arn("cloudwatch", f"alarm:TargetTracking-endpoint/{NAME_PREFIX}-*"),
    ]


# Application Auto Scaling names a scalable target by a random id (scalable-target/<id>), not
# by the endpoint, so no ARN names a project's. Its write actions take the condition keys
# application-autoscaling:service-namespace and application-autoscaling:scalable-dimension
# (Service Authorization Reference, "Actions, resources, and condition keys for AWS
# Application Auto Scaling"; Application Auto Scaling User Guide, "How Application Auto
# Scaling works with IAM"): they are narrowed to SageMaker variants' instance counts. The
# Describe actions have neither resource types nor condition keys: "*".
SAGEMAKER_VARIANTS = {
    "application-autoscaling:service-namespace": "sagemaker",
    "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount",
}


def _variant_scaling(sid: str, actions: list[Any]) -> Statement:
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=actions,
        Resource=[regional_arn("application-autoscaling", "scalable-target/*")],
        Condition=Condition(StringEquals(SAGEMAKER_VARIANTS)),
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
                # a model another run deleted meanwhile is confirmed gone with DescribeModel
                sm_actions.DescribeModel,
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
            Resource=_project_alarm_arns(),
        ),
        Statement(
            Sid="AlarmListsHaveNoResourceScope",
            Effect=Allow,
            Action=[cw_actions.DescribeAlarms],
            Resource=["*"],
        ),
        Statement(
            Sid="ScalingReadsHaveNoResourceScope",
            Effect=Allow,
            Action=[aas_actions.DescribeScalableTargets, aas_actions.DescribeScalingPolicies],
            Resource=["*"],
        ),
        _variant_scaling(
            "VariantScalingTeardown",
            [aas_actions.DeleteScalingPolicy, aas_actions.DeregisterScalableTarget],
        ),
    ]


def deployment_statements(
    model_role: Any, data_bucket: Any, notices: list[Statement], project_model_roles: str
) -> list[Statement]:
    """Deploy approved packages: models, configs, endpoints, alarms, scaling, tests, notices.

    Projects' models run as the shared ``model_role`` or as a project's own model role
    (the roles under the IAM path ``project_model_roles``), both for model archives only;
    never as a project's training role, which this may not pass.
    """
    return [
        *deployment_teardown_statements(),
        project_hosting_statement(),
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
            Sid="PassModelRolesToSageMaker",
            Effect=Allow,
            Action=[iam_actions.PassRole],
            Resource=[
                GetAtt(model_role, "Arn"),
                iam_role_arn(f"{project_model_roles.strip('/')}/*"),
            ],
            Condition=Condition(StringEquals("iam:PassedToService", "sagemaker.amazonaws.com")),
        ),
        *alarm_and_scaling_statements(),
        *deployment_data_statements(data_bucket),
        *notices,
    ]


def project_hosting_statement() -> Statement:
    """Make, update and call project models, endpoint configs and endpoints."""
    return Statement(
        Sid="ProjectHosting",
        Effect=Allow,
        Action=[
            sm_actions.CreateModel,
            sm_actions.DescribeModel,
            sm_actions.CreateEndpointConfig,
            sm_actions.CreateEndpoint,
            sm_actions.UpdateEndpoint,
            sm_actions.AddTags,
            sm_actions.DeleteTags,
            sm_actions.InvokeEndpoint,
        ],
        Resource=_project_hosting_arns(),
    )


def alarm_and_scaling_statements() -> list[Statement]:
    """Rollback alarms and variant autoscaling of project endpoints."""
    return [
        Statement(
            Sid="RollbackAlarms",
            Effect=Allow,
            Action=[cw_actions.PutMetricAlarm, cw_actions.TagResource],
            Resource=_project_alarm_arns(),
        ),
        _variant_scaling(
            "VariantScaling", [aas_actions.RegisterScalableTarget, aas_actions.PutScalingPolicy]
        ),
        # Application Auto Scaling checks that the caller of RegisterScalableTarget may
        # itself change the variant's instance count (its "permissions validation").
        Statement(
            Sid="VariantScalingValidation",
            Effect=Allow,
            Action=[sm_actions.UpdateEndpointWeightsAndCapacities],
            Resource=[sagemaker_arn(f"endpoint/{NAME_PREFIX}-*")],
        ),
        Statement(
            Sid="ScalingServiceLinkedRole",
            Effect=Allow,
            Action=[iam_actions.CreateServiceLinkedRole],
            Resource=[
                iam_role_arn(
                    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
                    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
                )
            ],
            Condition=Condition(
                StringLike("iam:AWSServiceName", "sagemaker.application-autoscaling.amazonaws.com")
            ),
        ),
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
