"""The permissions boundary every role a project stack creates carries.

The launch roles (Service Catalog's and the S3 template method's) may create, change and
delete a role only with this boundary attached (``iam:PermissionsBoundary``), so a product
template, or a template edited by whoever may launch one, cannot hand a project role more
than this policy allows, whatever the role's own policy says. It allows the services project
roles are granted (training: pipelines, jobs, model groups, data, logs, images, its
repository's credentials; models: archives, images, logs), S3 only in the project data
bucket, secrets only under the platform's secret prefix, ``iam:PassRole`` only of project
roles to SageMaker; and denies outright what no project role may ever do: change IAM, act on
the organization or the account, touch the platform's own resources.
"""

from __future__ import annotations

from typing import Any

from awacs import codebuild as codebuild_actions
from awacs import codecommit as codecommit_actions
from awacs import ecr as ecr_actions
from awacs import iam as iam_actions
from awacs import logs as logs_actions
from awacs import s3 as s3_actions
from awacs import sagemaker as sm_actions
from awacs import sagemaker_mlflow as sagemaker_mlflow_actions
from awacs import secretsmanager as secretsmanager_actions
from awacs.aws import Action, Allow, Condition, Deny, PolicyDocument, Statement, StringEquals
from troposphere import GetAtt, Join, Sub, Template, iam

from lambda_project_lifecycle.naming import NAME_PREFIX
from portfolio.mlflow_self_hosted import PLATFORM_CREDENTIALS_NAME
from template_common.arns import iam_role_arn, regional_arn, secret_arn
from template_common.build_network import build_network_statements
from template_common.checkov_skips import BOUNDARY_CAPS_NOT_GRANTS, skip_metadata
from template_common.connections import connection_actions, connection_arns
from template_common.settings import TemplateSettings

BOUNDARY_LOGICAL_ID = "ProjectRoleBoundary"

# IAM actions that change identities or policies: never a project role's.
IAM_CHANGES = (
    "Add*",
    "Attach*",
    "Change*",
    "Create*",
    "Deactivate*",
    "Delete*",
    "Detach*",
    "Enable*",
    "Put*",
    "Remove*",
    "Reset*",
    "Set*",
    "Tag*",
    "Untag*",
    "Update*",
    "Upload*",
)
# Services of the platform's own resources (registry, functions, stacks, parameters, topics,
# queues, keys, rules): a project role is granted none of them.
PLATFORM_SERVICES = ("cloudformation", "dynamodb", "events", "kms", "lambda", "sns", "sqs", "ssm")


def add_project_role_boundary(
    template: Template, settings: TemplateSettings, data_bucket: Any
) -> iam.ManagedPolicy:
    """The boundary, as a managed policy of the platform stack (``Ref`` is its ARN)."""
    return template.add_resource(
        iam.ManagedPolicy(
            BOUNDARY_LOGICAL_ID,
            # IAM names are the account's, the platform stack is one per Region (its data
            # bucket too): the Region in the name lets every Region's stack make its own.
            ManagedPolicyName=Sub(f"{settings.permissions_boundary_name}-${{AWS::Region}}"),
            Metadata=skip_metadata(BOUNDARY_CAPS_NOT_GRANTS),
            Description="Permissions boundary of every role a SageMaker project stack "
            "creates: the most any project role may do.",
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=boundary_statements(settings, data_bucket),
            ),
        )
    )


def boundary_statements(settings: TemplateSettings, data_bucket: Any) -> list[Statement]:
    bucket_arn = GetAtt(data_bucket, "Arn")
    return [
        Statement(
            Sid="SageMakerWork",
            Effect=Allow,
            Action=[sm_actions.Action("*"), sagemaker_mlflow_actions.Action("*")],
            Resource=["*"],
        ),
        Statement(
            Sid="ProjectDataBucketOnly",
            Effect=Allow,
            Action=[
                s3_actions.GetObject,
                s3_actions.PutObject,
                s3_actions.DeleteObject,
                s3_actions.ListBucket,
                s3_actions.GetBucketLocation,
            ],
            Resource=[bucket_arn, Join("", [bucket_arn, "/*"])],
        ),
        Statement(
            Sid="LogsAndImages",
            Effect=Allow,
            Action=[
                logs_actions.CreateLogGroup,
                logs_actions.CreateLogStream,
                logs_actions.PutLogEvents,
                logs_actions.DescribeLogStreams,
                ecr_actions.BatchGetImage,
                ecr_actions.GetDownloadUrlForLayer,
                ecr_actions.BatchCheckLayerAvailability,
                ecr_actions.GetAuthorizationToken,
            ],
            Resource=["*"],
        ),
        Statement(
            Sid="BuildReports",
            Effect=Allow,
            Action=[codebuild_actions.Action("*Report*"), codebuild_actions.BatchPutTestCases],
            Resource=[regional_arn("codebuild", f"report-group/{NAME_PREFIX}-*")],
        ),
        Statement(
            Sid="ProjectRepositories",
            Effect=Allow,
            Action=[codecommit_actions.GitPull],
            Resource=[regional_arn("codecommit", f"{NAME_PREFIX}-*")],
        ),
        Statement(
            Sid="RepositoryConnections",
            Effect=Allow,
            Action=connection_actions("UseConnection", "GetConnectionToken", "GetConnection"),
            Resource=connection_arns(),
        ),
        Statement(
            Sid="PlatformSecretsOnly",
            Effect=Allow,
            Action=[secretsmanager_actions.GetSecretValue],
            Resource=[secret_arn(f"{settings.repository_secret_prefix}*")],
        ),
        Statement(
            # Secrets Manager adds six characters to a secret's name in its ARN.
            Sid="SelfHostedMlflowPlatformUser",
            Effect=Allow,
            Action=[secretsmanager_actions.GetSecretValue],
            Resource=[secret_arn(f"{PLATFORM_CREDENTIALS_NAME}-??????")],
        ),
        # What CodeBuild does for a build in a VPC (the self-hosted MLflow server's).
        *build_network_statements(),
        Statement(
            Sid="PassProjectRolesToSageMaker",
            Effect=Allow,
            Action=[iam_actions.PassRole],
            Resource=[iam_role_arn(f"{NAME_PREFIX}-*")],
            Condition=Condition(StringEquals("iam:PassedToService", "sagemaker.amazonaws.com")),
        ),
        Statement(
            Sid="NeverIdentitiesOrOrganization",
            Effect=Deny,
            Action=[
                *(iam_actions.Action(change) for change in IAM_CHANGES),
                Action("organizations", "*"),
                Action("account", "*"),
            ],
            Resource=["*"],
        ),
        Statement(
            Sid="NeverThePlatformsResources",
            Effect=Deny,
            Action=[
                *(Action(service, "*") for service in PLATFORM_SERVICES),
                s3_actions.Action("DeleteBucket*"),
                s3_actions.Action("PutBucket*"),
                s3_actions.PutEncryptionConfiguration,
                s3_actions.PutLifecycleConfiguration,
            ],
            Resource=["*"],
        ),
    ]
