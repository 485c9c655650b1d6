"""The project's training role: the role of its CodeBuild build and of its SageMaker
pipelines (it trusts both services). Deployed models never run as it (``model_role``).

The role reaches the project's model groups, its prefix in the project data bucket,
its pipelines and the jobs they run, container images to pull, its logs, and
``PassRole`` on itself only (deleting model packages only in the production groups,
where promotion removes its own second copy). Its name comes from the lifecycle
custom resource (``Fn::GetAtt``), which derives it in ``naming.py``.
"""

from __future__ import annotations

from typing import Any

from awacs import codebuild as codebuild_actions
from awacs import codecommit as codecommit_actions
from awacs import iam as iam_actions
from awacs import logs as logs_actions
from awacs import s3 as s3_actions
from awacs import sagemaker as sm_actions
from awacs import sagemaker_mlflow as sagemaker_mlflow_actions
from awacs import secretsmanager as secretsmanager_actions
from awacs.aws import (
    Allow,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from awacs.sts import AssumeRole
from troposphere import GetAtt, If, Ref, Sub, Tags, Template, iam

from lambda_project_lifecycle.resource_properties import CONNECTION, SECRET
from products import mlflow_builds
from products.conditions import HAS_TRAINING, IS_CODECOMMIT, USES_CONNECTION, USES_TOKEN
from products.project_roles import permissions_boundary
from template_common.arns import iam_role_arn, regional_arn, s3_arn
from template_common.catalog import Product
from template_common.connections import connection_actions
from template_common.images import image_pull_statements
from template_common.settings import TemplateSettings


def add_training_role(
    template: Template,
    product: Product,
    settings: TemplateSettings,
    lifecycle: Any,
    parameters: dict[str, Ref],
    tags: Tags,
) -> iam.Role:
    return template.add_resource(
        iam.Role(
            "TrainingRole",
            Condition=HAS_TRAINING,
            RoleName=GetAtt(lifecycle, "TrainingRoleName"),
            Description="Training of one SageMaker project: its CodeBuild build and its "
            "SageMaker pipelines.",
            AssumeRolePolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal(
                            "Service", ["codebuild.amazonaws.com", "sagemaker.amazonaws.com"]
                        ),
                        Action=[AssumeRole],
                    )
                ],
            ),
            Policies=[
                iam.Policy(
                    PolicyName="project-training",
                    # A plain document: awacs has no place for the Fn::If of conditional statements.
                    PolicyDocument={
                        "Version": "2012-10-17",
                        "Statement": training_statements(product, settings, lifecycle, parameters),
                    },
                )
            ],
            PermissionsBoundary=permissions_boundary(settings),
            Tags=tags,
        )
    )


def training_statements(
    product: Product, settings: TemplateSettings, lifecycle: Any, parameters: dict[str, Ref]
) -> list[Any]:
    """The training role's policy: the project's data, pipelines, jobs, logs and model groups
    (or MLflow tracking server), and its repository's credentials where it has them."""
    arn = regional_arn
    prefix = {"Prefix": GetAtt(lifecycle, "ProjectPrefix")}
    arn_prefix = {"ArnPrefix": GetAtt(lifecycle, "ProjectPrefixArnName")}
    bucket = f"{{{{resolve:ssm:{settings.project_data_bucket_parameter}}}}}"
    statements: list[Any] = [
        Statement(
            Sid="BuildLogs",
            Effect=Allow,
            Action=[
                logs_actions.CreateLogGroup,
                logs_actions.CreateLogStream,
                logs_actions.PutLogEvents,
            ],
            Resource=[
                arn(
                    "logs",
                    "log-group:/aws/codebuild/${Name}",
                    Name=GetAtt(lifecycle, "TrainingProjectName"),
                ),
                arn(
                    "logs",
                    "log-group:/aws/codebuild/${Name}:*",
                    Name=GetAtt(lifecycle, "TrainingProjectName"),
                ),
                # The jobs of its pipelines write to SageMaker's shared job log groups (their
                # stream names are the jobs' names, which the Pipelines service chooses).
                *[
                    arn("logs", f"log-group:/aws/sagemaker/{jobs}{streams}")
                    for jobs in ("TrainingJobs", "ProcessingJobs", "TransformJobs")
                    for streams in ("", ":log-stream:*")
                ],
            ],
        ),
        Statement(
            Sid="ProjectData",
            Effect=Allow,
            Action=[s3_actions.GetObject, s3_actions.PutObject, s3_actions.DeleteObject],
            Resource=[s3_arn(f"{bucket}/${{Prefix}}/*", **prefix)],
        ),
        Statement(
            Sid="ListProjectData",
            Effect=Allow,
            Action=[s3_actions.ListBucket, s3_actions.GetBucketLocation],
            Resource=[s3_arn(bucket)],
            Condition=Condition(
                StringLike("s3:prefix", [Sub("${Prefix}/*", **prefix), Sub("${Prefix}", **prefix)])
            ),
        ),
        Statement(
            Sid="ProjectPipelines",
            Effect=Allow,
            Action=[
                sm_actions.CreatePipeline,
                sm_actions.UpdatePipeline,
                sm_actions.DescribePipeline,
                sm_actions.DescribePipelineDefinitionForExecution,
                sm_actions.StartPipelineExecution,
                sm_actions.StopPipelineExecution,
                sm_actions.DescribePipelineExecution,
                sm_actions.ListPipelineExecutionSteps,
                sm_actions.ListPipelineExecutions,
                sm_actions.AddTags,
                sm_actions.ListTags,
            ],
            Resource=[
                arn("sagemaker", "pipeline/${ArnPrefix}-*", **arn_prefix),
            ],
        ),
        Statement(
            Sid="PipelineJobs",
            Effect=Allow,
            Action=[
                sm_actions.CreateProcessingJob,
                sm_actions.DescribeProcessingJob,
                sm_actions.StopProcessingJob,
                sm_actions.CreateTrainingJob,
                sm_actions.DescribeTrainingJob,
                sm_actions.StopTrainingJob,
                sm_actions.AddTags,
            ],
            Resource=[
                arn("sagemaker", "processing-job/pipelines-*"),
                arn("sagemaker", "training-job/pipelines-*"),
            ],
        ),
        *image_pull_statements(),
        Statement(
            Sid="PassItselfToSageMaker",
            Effect=Allow,
            Action=[iam_actions.PassRole],
            Resource=[iam_role_arn("${Name}", Name=GetAtt(lifecycle, "TrainingRoleName"))],
            Condition=Condition(StringEquals("iam:PassedToService", "sagemaker.amazonaws.com")),
        ),
        Statement(
            Sid="ReportBuildStatus",
            Effect=Allow,
            Action=[
                codebuild_actions.CreateReportGroup,
                codebuild_actions.CreateReport,
                codebuild_actions.UpdateReport,
                codebuild_actions.BatchPutTestCases,
            ],
            Resource=[
                arn(
                    "codebuild",
                    "report-group/${Name}-*",
                    Name=GetAtt(lifecycle, "TrainingProjectName"),
                )
            ],
        ),
        If(
            IS_CODECOMMIT,
            Statement(
                Sid="ProjectRepository",
                Effect=Allow,
                Action=[codecommit_actions.GitPull],
                Resource=[arn("codecommit", "${Name}", Name=GetAtt(lifecycle, "RepositoryName"))],
            ),
            Ref("AWS::NoValue"),
        ),
        If(
            USES_CONNECTION,
            Statement(
                Sid="RepositoryConnection",
                Effect=Allow,
                Action=connection_actions("UseConnection", "GetConnectionToken", "GetConnection"),
                Resource=[parameters[CONNECTION]],
            ),
            Ref("AWS::NoValue"),
        ),
        If(
            USES_TOKEN,
            Statement(
                Sid="RepositoryToken",
                Effect=Allow,
                Action=[secretsmanager_actions.GetSecretValue],
                Resource=[parameters[SECRET]],
            ),
            Ref("AWS::NoValue"),
        ),
    ]
    if product.registry == "sagemaker":
        groups = [
            GetAtt(lifecycle, f"ModelGroup{kind.capitalize()}ArnName")
            for kind in product.scenario.model_group_kinds
        ]
        statements.append(
            Statement(
                Sid="ProjectModelGroups",
                Effect=Allow,
                Action=[
                    sm_actions.CreateModelPackage,
                    sm_actions.DescribeModelPackage,
                    sm_actions.UpdateModelPackage,
                    sm_actions.DescribeModelPackageGroup,
                    sm_actions.AddTags,
                    sm_actions.ListTags,
                ],
                Resource=[
                    *(arn("sagemaker", "model-package-group/${Name}", Name=g) for g in groups),
                    *(arn("sagemaker", "model-package/${Name}/*", Name=g) for g in groups),
                ],
            )
        )
        # Promotion deletes its own second copy when a concurrent prod build copied the
        # same commit first (seed code, pipelines/promotion.py): production groups only.
        statements.append(
            Statement(
                Sid="PromotionDuplicates",
                Effect=Allow,
                Action=[sm_actions.DeleteModelPackage],
                Resource=[
                    arn(
                        "sagemaker",
                        "model-package/${Name}/*",
                        Name=GetAtt(lifecycle, f"ModelGroup{kind.capitalize()}ArnName"),
                    )
                    for kind in product.scenario.production_kinds
                ],
            )
        )
        statements.append(
            Statement(
                Sid="ListingHasNoResourceScope",
                Effect=Allow,
                Action=[sm_actions.ListModelPackages, sm_actions.ListModelPackageGroups],
                Resource=["*"],
            )
        )
    else:
        # The MLflow flavour registers into MLflow; a SageMaker managed tracking server or
        # serverless MLflow App (the platform's managed option; its API also needs
        # CallMlflowAppApi) authorizes by IAM: the project's own server only (the one its
        # project.json names; for a self-hosted server, which ignores this statement, one
        # named after the project).
        statements.append(
            Statement(
                Sid="ManagedMlflowTrackingServers",
                Effect=Allow,
                Action=[sagemaker_mlflow_actions.Action("*"), sm_actions.CallMlflowAppApi],
                Resource=[GetAtt(lifecycle, "MlflowTrackingServerArn")],
            )
        )
        # A self-hosted server of the platform's: its user's secret, a place in its VPC.
        statements += mlflow_builds.role_statements(lifecycle)
    return statements
