"""IAM statements of the shared Lambdas, one function per capability.

Every ARN is built with ``${AWS::Partition}``, ``${AWS::Region}`` and
``${AWS::AccountId}``; per-project resources are matched by the ``sagemaker-``
name prefix every project name starts with (``naming.NAME_PREFIX``).
"""

from __future__ import annotations

from typing import Any

from awacs import application_autoscaling as aas_actions
from awacs import cloudwatch as cw_actions
from awacs import codebuild as codebuild_actions
from awacs import codecommit as codecommit_actions
from awacs import codeconnections as codeconnections_actions
from awacs import codestar_connections as codestar_connections_actions
from awacs import dynamodb as ddb_actions
from awacs import ecr as ecr_actions
from awacs import iam as iam_actions
from awacs import s3 as s3_actions
from awacs import sagemaker as sm_actions
from awacs import secretsmanager as secretsmanager_actions
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


# --- repositories (issue 3) ---------------------------------------------------------------


def codecommit_arn(repository: str) -> Sub:
    return Sub(
        f"arn:${{AWS::Partition}}:codecommit:${{AWS::Region}}:${{AWS::AccountId}}:{repository}"
    )


def connection_arns() -> list[Sub]:
    """The account's CodeConnections connections in this region, under both service names."""
    return [
        Sub(f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:connection/*")
        for service in ("codestar-connections", "codeconnections")
    ]


def repository_secret_arn(secret_prefix: str) -> Sub:
    return Sub(
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}"
        f":secret:{secret_prefix}*"
    )


def repository_statements(seed_code_objects: list[Any], secret_prefix: str) -> list[Statement]:
    """What the lifecycle Lambda needs to make, seed, tag and delete project repositories."""
    return [
        Statement(
            Sid="ProjectCodeCommitRepositories",
            Effect=Allow,
            Action=[
                codecommit_actions.CreateRepository,
                codecommit_actions.GetRepository,
                codecommit_actions.DeleteRepository,
                codecommit_actions.TagResource,
                codecommit_actions.ListTagsForResource,
                codecommit_actions.GitPull,
                codecommit_actions.GitPush,
            ],
            Resource=[codecommit_arn(f"{NAME_PREFIX}-*")],
        ),
        Statement(
            Sid="SeedCode",
            Effect=Allow,
            Action=[s3_actions.GetObject],
            Resource=seed_code_objects,
        ),
        Statement(
            Sid="RepositoryTokens",
            Effect=Allow,
            Action=[secretsmanager_actions.GetSecretValue],
            Resource=[repository_secret_arn(secret_prefix)],
        ),
        Statement(
            Sid="PushThroughConnections",
            Effect=Allow,
            Action=[
                codestar_connections_actions.GetConnection,
                codestar_connections_actions.UseConnection,
                codeconnections_actions.GetConnection,
                codeconnections_actions.UseConnection,
            ],
            Resource=connection_arns(),
        ),
    ]


def training_trigger_statements(table: Any) -> list[Statement]:
    """Read the registry, start a project's training build."""
    return [
        *registry_statements(table, write=False),
        Statement(
            Sid="StartProjectTraining",
            Effect=Allow,
            Action=[codebuild_actions.StartBuild],
            Resource=[
                Sub(
                    "arn:${AWS::Partition}:codebuild:${AWS::Region}:${AWS::AccountId}"
                    f":project/{NAME_PREFIX}-*"
                )
            ],
        ),
    ]


def training_launch_statements(secret_prefix: str) -> list[Statement]:
    """What the Service Catalog launch role needs for a product's training project and role."""
    role_arn = Sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{NAME_PREFIX}-*")
    return [
        Statement(
            Sid="TrainingProjects",
            Effect=Allow,
            Action=[
                codebuild_actions.CreateProject,
                codebuild_actions.UpdateProject,
                codebuild_actions.DeleteProject,
                codebuild_actions.BatchGetProjects,
                codebuild_actions.CreateWebhook,
                codebuild_actions.UpdateWebhook,
                codebuild_actions.DeleteWebhook,
            ],
            Resource=[
                Sub(
                    "arn:${AWS::Partition}:codebuild:${AWS::Region}:${AWS::AccountId}"
                    f":project/{NAME_PREFIX}-*"
                )
            ],
        ),
        Statement(
            Sid="TrainingRoles",
            Effect=Allow,
            Action=[
                iam_actions.CreateRole,
                iam_actions.DeleteRole,
                iam_actions.GetRole,
                iam_actions.UpdateRole,
                iam_actions.PutRolePolicy,
                iam_actions.GetRolePolicy,
                iam_actions.DeleteRolePolicy,
                iam_actions.TagRole,
                iam_actions.UntagRole,
                # what CloudFormation's AWS::IAM::Role handlers also call on read, update
                # and delete (the resource schema's handler permissions)
                iam_actions.ListRolePolicies,
                iam_actions.ListAttachedRolePolicies,
                iam_actions.UpdateRoleDescription,
                iam_actions.UpdateAssumeRolePolicy,
            ],
            Resource=[role_arn],
        ),
        Statement(
            Sid="PassTrainingRolesToCodeBuild",
            Effect=Allow,
            Action=[iam_actions.PassRole],
            Resource=[role_arn],
            Condition=Condition(StringEquals("iam:PassedToService", "codebuild.amazonaws.com")),
        ),
        Statement(
            Sid="TrainingSourceConnections",
            Effect=Allow,
            Action=[
                codestar_connections_actions.UseConnection,
                codestar_connections_actions.PassConnection,
                codestar_connections_actions.GetConnection,
                codeconnections_actions.UseConnection,
                codeconnections_actions.PassConnection,
                codeconnections_actions.GetConnection,
            ],
            Resource=connection_arns(),
        ),
        Statement(
            Sid="TrainingSourceTokens",
            Effect=Allow,
            Action=[secretsmanager_actions.GetSecretValue],
            Resource=[repository_secret_arn(secret_prefix)],
        ),
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


def _project_alarm_arns() -> list[Sub]:
    """Rollback alarms, and the alarms target tracking makes for project endpoints."""
    return [
        _alarm_arn(f"{NAME_PREFIX}-*"),
        _alarm_arn(f"TargetTracking-endpoint/{NAME_PREFIX}-*"),
    ]


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
        # Application Auto Scaling names a scalable target by a random id
        # (scalable-target/<id>), not by the endpoint, and has no condition key for the
        # resource id; only aws:ResourceTag, which targets registered before tagging would
        # fail. So scaling actions cannot be scoped to project endpoints: "*".
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


def image_pull_statements() -> list[Statement]:
    """Pull the container images of SageMaker jobs and models (AWS's and the account's)."""
    return [
        Statement(
            Sid="PullImages",
            Effect=Allow,
            Action=[
                ecr_actions.BatchGetImage,
                ecr_actions.GetDownloadUrlForLayer,
                ecr_actions.BatchCheckLayerAvailability,
            ],
            Resource=[Sub("arn:${AWS::Partition}:ecr:${AWS::Region}:*:repository/*")],
        ),
        Statement(
            Sid="EcrTokenHasNoResourceScope",
            Effect=Allow,
            Action=[ecr_actions.GetAuthorizationToken],
            Resource=["*"],
        ),
    ]


def project_training_roles() -> Sub:
    """Every project's training role (``sagemaker-<name>-<id>-training``, naming.py)."""
    return Sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{NAME_PREFIX}-*-training")


def deployment_statements(model_role: Any, data_bucket: Any, topic: Any) -> list[Statement]:
    """Deploy approved packages: models, configs, endpoints, alarms, scaling, tests, notices.

    A project's models run as its own training role (read with GetRole to check its
    project tag); ``model_role`` only for projects without one.
    """
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
            Sid="ProjectTrainingRolesRead",
            Effect=Allow,
            Action=[iam_actions.GetRole],
            Resource=[project_training_roles()],
        ),
        Statement(
            Sid="PassModelRolesToSageMaker",
            Effect=Allow,
            Action=[iam_actions.PassRole],
            Resource=[project_training_roles(), GetAtt(model_role, "Arn")],
            Condition=Condition(StringEquals("iam:PassedToService", "sagemaker.amazonaws.com")),
        ),
        Statement(
            Sid="RollbackAlarms",
            Effect=Allow,
            Action=[cw_actions.PutMetricAlarm, cw_actions.TagResource],
            Resource=_project_alarm_arns(),
        ),
        Statement(
            Sid="VariantScaling",
            Effect=Allow,
            Action=[aas_actions.RegisterScalableTarget, aas_actions.PutScalingPolicy],
            Resource=["*"],
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
