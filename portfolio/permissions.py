"""IAM statements of the lifecycle and training-trigger Lambdas and of the launch role,
one function per capability (the deployment handlers': ``hosting_permissions``).

Every ARN is built with ``${AWS::Partition}``, ``${AWS::Region}`` and
``${AWS::AccountId}`` (``template_common.arns``); per-project resources are matched
by the ``sagemaker-`` name prefix every project name starts with
(``naming.NAME_PREFIX``).
"""

from __future__ import annotations

from typing import Any

from awacs import codebuild as codebuild_actions
from awacs import codecommit as codecommit_actions
from awacs import dynamodb as ddb_actions
from awacs import iam as iam_actions
from awacs import s3 as s3_actions
from awacs import sagemaker as sm_actions
from awacs import secretsmanager as secretsmanager_actions
from awacs.aws import Allow, Condition, Deny, Statement, StringEquals, StringLike
from troposphere import GetAtt, Ref

from lambda_project_lifecycle.naming import NAME_PREFIX
from template_common.arns import (
    iam_role_arn,
    regional_arn,
    s3_arn,
    sagemaker_arn,
    secret_arn,
)
from template_common.connections import connection_actions, connection_arns


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


def pipeline_statements() -> list[Statement]:
    """Delete the project's pipelines (the seed's builds make them), stopping running
    executions first."""
    return [
        Statement(
            Sid="ProjectPipelines",
            Effect=Allow,
            Action=[
                sm_actions.DeletePipeline,
                sm_actions.ListPipelineExecutions,
                sm_actions.StopPipelineExecution,
                sm_actions.ListTags,
            ],
            Resource=[
                sagemaker_arn(f"pipeline/{NAME_PREFIX}-*"),
                sagemaker_arn(f"pipeline/{NAME_PREFIX}-*/execution/*"),
            ],
        ),
        Statement(
            Sid="ListingPipelinesHasNoResourceScope",
            Effect=Allow,
            Action=[sm_actions.ListPipelines],
            Resource=["*"],
        ),
    ]


def project_data_statements(data_bucket: Any) -> list[Statement]:
    """Delete every version of the objects under a project's prefix in the data bucket
    (``OnDelete=delete-all``)."""
    return [
        Statement(
            Sid="DeleteProjectData",
            Effect=Allow,
            Action=[s3_actions.DeleteObject, s3_actions.DeleteObjectVersion],
            Resource=[s3_arn(f"${{Bucket}}/{NAME_PREFIX}-*/*", Bucket=Ref(data_bucket))],
        ),
        Statement(
            Sid="ListProjectDataVersions",
            Effect=Allow,
            Action=[s3_actions.ListBucketVersions],
            Resource=[s3_arn("${Bucket}", Bucket=Ref(data_bucket))],
            Condition=Condition(StringLike("s3:prefix", f"{NAME_PREFIX}-*/")),
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


# --- repositories and training ---------------------------------------------------------

# Every project's training (CodeBuild) project.
PROJECT_BUILDS = f"project/{NAME_PREFIX}-*"


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
            Resource=[regional_arn("codecommit", f"{NAME_PREFIX}-*")],
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
            Resource=[secret_arn(f"{secret_prefix}*")],
        ),
        Statement(
            Sid="PushThroughConnections",
            Effect=Allow,
            Action=connection_actions("GetConnection", "UseConnection"),
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
            Resource=[regional_arn("codebuild", PROJECT_BUILDS)],
        ),
    ]


def training_launch_statements(
    secret_prefix: str, boundary: Any, model_role_path: str
) -> list[Statement]:
    """What the launch role needs for a product's training project and its roles: the
    training role (``sagemaker-*``) and the project's own model role (under
    ``model_role_path``), each created and changed only with ``boundary`` attached."""
    role_arn = iam_role_arn(f"{NAME_PREFIX}-*")
    project_roles = [role_arn, iam_role_arn(f"{model_role_path.strip('/')}/*")]
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
            Resource=[regional_arn("codebuild", PROJECT_BUILDS)],
        ),
        # The actions IAM checks iam:PermissionsBoundary on (Service Authorization
        # Reference, "Actions, resources, and condition keys for IAM"): a project role
        # exists, and its policies change, only with the platform's boundary attached.
        Statement(
            Sid="ProjectRolesWithTheBoundary",
            Effect=Allow,
            Action=[
                iam_actions.CreateRole,
                iam_actions.PutRolePolicy,
                iam_actions.DeleteRolePolicy,
                iam_actions.AttachRolePolicy,
                iam_actions.DetachRolePolicy,
                iam_actions.PutRolePermissionsBoundary,
            ],
            Resource=project_roles,
            Condition=Condition(StringEquals("iam:PermissionsBoundary", boundary)),
        ),
        Statement(
            Sid="ProjectRoles",
            Effect=Allow,
            Action=[
                iam_actions.DeleteRole,
                iam_actions.GetRole,
                iam_actions.UpdateRole,
                iam_actions.GetRolePolicy,
                iam_actions.TagRole,
                iam_actions.UntagRole,
                # what CloudFormation's AWS::IAM::Role handlers also call on read, update
                # and delete (the resource schema's handler permissions)
                iam_actions.ListRolePolicies,
                iam_actions.ListAttachedRolePolicies,
                iam_actions.UpdateRoleDescription,
                iam_actions.UpdateAssumeRolePolicy,
            ],
            Resource=project_roles,
        ),
        Statement(
            Sid="NeverARoleWithoutTheBoundary",
            Effect=Deny,
            Action=[iam_actions.DeleteRolePermissionsBoundary],
            Resource=["*"],
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
            Action=connection_actions("UseConnection", "PassConnection", "GetConnection"),
            Resource=connection_arns(),
        ),
        Statement(
            Sid="TrainingSourceTokens",
            Effect=Allow,
            Action=[secretsmanager_actions.GetSecretValue],
            Resource=[secret_arn(f"{secret_prefix}*")],
        ),
    ]
