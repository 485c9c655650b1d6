"""The project's training: a CodeBuild project on the project repository, and its role.

Both are per-project resources CloudFormation owns in the product stack; they
have no idle price. Names come from the lifecycle custom resource
(``Fn::GetAtt``), which derives them in ``naming.py``: one source of truth.

* CodeCommit: builds are started by the platform's training trigger (one
  EventBridge rule for every project repository).
* GitHub, GitLab, Bitbucket: a CodeBuild webhook with a filter group for pushes
  to ``prod``, ``dev`` and ``feature-*``; the source credential is the
  project's connection or token secret.
* A plain git URL: no training project (no CodeBuild source fits every host).

The role is the build's role, the SageMaker pipeline's execution role and the
role the platform's deploy handlers run the project's deployed models as (it
trusts both services): the project's model groups, its prefix in the project
data bucket, its pipelines and the jobs they run, container images to pull, its
logs, and ``PassRole`` on itself only (deleting model packages only in the
production groups, where promotion removes its own second copy).
"""

from __future__ import annotations

from typing import Any

from awacs import codebuild as codebuild_actions
from awacs import codecommit as codecommit_actions
from awacs import codeconnections as codeconnections_actions
from awacs import codestar_connections as codestar_connections_actions
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
from troposphere import (
    And,
    Equals,
    GetAtt,
    If,
    Not,
    Output,
    Ref,
    Sub,
    Tags,
    Template,
    codebuild,
    iam,
)

from lambda_project_lifecycle.training_trigger import BRANCH_PATTERN_FOR_WEBHOOKS
from portfolio.permissions import image_pull_statements
from portfolio.settings import TemplateSettings
from products.catalog import Product

BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
BUILD_TIMEOUT_MINUTES = 120
PIPELINE_ROLE_VARIABLE = "SAGEMAKER_PIPELINE_ROLE_ARN"
# The build's own timeout, so the seed code stops waiting for its pipeline (and says
# so) before CodeBuild stops the build without a word (seed code: pipelines/ci.py).
BUILD_TIMEOUT_VARIABLE = "BUILD_TIMEOUT_MINUTES"

HAS_TRAINING = "HasTrainingProject"
IS_CODECOMMIT = "IsCodeCommitRepository"
IS_HOSTED = "IsHostedRepository"
USES_CONNECTION = "UsesConnection"
USES_TOKEN = "UsesTokenSecret"


def add_conditions(template: Template, parameters: dict[str, Ref]) -> None:
    provider, connection = parameters["RepositoryProvider"], parameters["ConnectionArn"]
    template.add_condition(HAS_TRAINING, Not(Equals(provider, "git")))
    template.add_condition(IS_CODECOMMIT, Equals(provider, "codecommit"))
    template.add_condition(
        IS_HOSTED, And(Not(Equals(provider, "git")), Not(Equals(provider, "codecommit")))
    )
    template.add_condition(USES_CONNECTION, Not(Equals(connection, "")))
    template.add_condition(
        USES_TOKEN,
        And(Not(Equals(provider, "git")), Not(Equals(parameters["RepositorySecretArn"], ""))),
    )


def add_training(
    template: Template,
    product: Product,
    settings: TemplateSettings,
    lifecycle: Any,
    parameters: dict[str, Ref],
) -> None:
    add_conditions(template, parameters)
    tags = Tags(
        **{
            "sagemaker:project-name": Ref("SageMakerProjectName"),
            "sagemaker:project-id": Ref("SageMakerProjectId"),
        }
    )
    role = template.add_resource(
        iam.Role(
            "TrainingRole",
            Condition=HAS_TRAINING,
            RoleName=GetAtt(lifecycle, "TrainingRoleName"),
            Description="Training of one SageMaker project: its CodeBuild build, its "
            "SageMaker pipelines, and its deployed models.",
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
            Tags=tags,
        )
    )
    source_auth = codebuild.SourceAuth(
        Type=If(USES_CONNECTION, "CODECONNECTIONS", "SECRETS_MANAGER"),
        Resource=If(
            USES_CONNECTION, parameters["ConnectionArn"], parameters["RepositorySecretArn"]
        ),
    ).no_validation()
    project = template.add_resource(
        codebuild.Project(
            "TrainingProject",
            Condition=HAS_TRAINING,
            Name=GetAtt(lifecycle, "TrainingProjectName"),
            Description="Trains the project's model on pushes to prod, dev and feature-* "
            "(buildspec.yml of the repository).",
            ServiceRole=GetAtt(role, "Arn"),
            Source=codebuild.Source(
                Type=GetAtt(lifecycle, "TrainingSourceType"),
                Location=GetAtt(lifecycle, "RepositoryCloneUrl"),
                Auth=If(IS_HOSTED, source_auth, Ref("AWS::NoValue")),
            ).no_validation(),
            Triggers=If(
                IS_HOSTED,
                codebuild.ProjectTriggers(
                    Webhook=True,
                    FilterGroups=[
                        [
                            codebuild.WebhookFilter(Type="EVENT", Pattern="PUSH"),
                            codebuild.WebhookFilter(
                                Type="HEAD_REF", Pattern=BRANCH_PATTERN_FOR_WEBHOOKS
                            ),
                        ]
                    ],
                ),
                Ref("AWS::NoValue"),
            ),
            Artifacts=codebuild.Artifacts(Type="NO_ARTIFACTS"),
            Environment=codebuild.Environment(
                Type="LINUX_CONTAINER",
                ComputeType="BUILD_GENERAL1_SMALL",
                Image=BUILD_IMAGE,
                EnvironmentVariables=[
                    codebuild.EnvironmentVariable(
                        Name=PIPELINE_ROLE_VARIABLE, Type="PLAINTEXT", Value=GetAtt(role, "Arn")
                    ),
                    codebuild.EnvironmentVariable(
                        Name=BUILD_TIMEOUT_VARIABLE,
                        Type="PLAINTEXT",
                        Value=str(BUILD_TIMEOUT_MINUTES),
                    ),
                ],
            ),
            LogsConfig=codebuild.LogsConfig(
                CloudWatchLogs=codebuild.CloudWatchLogs(Status="ENABLED")
            ),
            TimeoutInMinutes=BUILD_TIMEOUT_MINUTES,
            Tags=tags,
        )
    )
    template.add_output(
        Output(
            "TrainingProject",
            Condition=HAS_TRAINING,
            Description="The CodeBuild project that trains on pushes to prod, dev and feature-*.",
            Value=Ref(project),
        )
    )
    template.add_output(
        Output(
            "RepositoryCloneUrl",
            Description="Clone the project's repository from here.",
            Value=GetAtt(lifecycle, "RepositoryCloneUrl"),
        )
    )


def training_statements(
    product: Product, settings: TemplateSettings, lifecycle: Any, parameters: dict[str, Ref]
) -> list[Any]:
    region_account = "${AWS::Partition}:{service}:${AWS::Region}:${AWS::AccountId}"

    def arn(service: str, resource: str, **variables: Any) -> Sub:
        return Sub(f"arn:{region_account.replace('{service}', service)}:{resource}", **variables)

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
                # Its deployed models (they run as this role) write to their endpoints' log
                # groups, named after the endpoint: sagemaker-<name>-<id>-<stage>, the name part
                # possibly shortened. No other project's endpoint logs.
                *[
                    arn(
                        "logs",
                        f"log-group:/aws/sagemaker/Endpoints/sagemaker-*-${{ProjectId}}-*{streams}",
                        ProjectId=Ref("SageMakerProjectId"),
                    )
                    for streams in ("", ":log-stream:*")
                ],
            ],
        ),
        Statement(
            Sid="ProjectData",
            Effect=Allow,
            Action=[s3_actions.GetObject, s3_actions.PutObject, s3_actions.DeleteObject],
            Resource=[Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}/${{Prefix}}/*", **prefix)],
        ),
        Statement(
            Sid="ListProjectData",
            Effect=Allow,
            Action=[s3_actions.ListBucket, s3_actions.GetBucketLocation],
            Resource=[Sub(f"arn:${{AWS::Partition}}:s3:::{bucket}")],
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
            Resource=[
                Sub(
                    "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Name}",
                    Name=GetAtt(lifecycle, "TrainingRoleName"),
                )
            ],
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
                Action=[
                    codestar_connections_actions.UseConnection,
                    codestar_connections_actions.GetConnectionToken,
                    codestar_connections_actions.GetConnection,
                    codeconnections_actions.UseConnection,
                    codeconnections_actions.GetConnectionToken,
                    codeconnections_actions.GetConnection,
                ],
                Resource=[parameters["ConnectionArn"]],
            ),
            Ref("AWS::NoValue"),
        ),
        If(
            USES_TOKEN,
            Statement(
                Sid="RepositoryToken",
                Effect=Allow,
                Action=[secretsmanager_actions.GetSecretValue],
                Resource=[parameters["RepositorySecretArn"]],
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
        # The MLflow flavour registers into MLflow; a SageMaker managed tracking server
        # authorizes by IAM: the project's own server only (the one its project.json names;
        # for a self-hosted server, which ignores this statement, one named after the project).
        statements.append(
            Statement(
                Sid="ManagedMlflowTrackingServers",
                Effect=Allow,
                Action=[sagemaker_mlflow_actions.Action("*")],
                Resource=[GetAtt(lifecycle, "MlflowTrackingServerArn")],
            )
        )
    return statements
