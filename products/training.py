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

The role (``training_role``) is the build's role and the SageMaker pipeline's
execution role; deployed models run as a model role (the platform's shared one, or the
project's own: ``model_role``), never as it.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, If, Output, Ref, Template, codebuild, iam

from lambda_project_lifecycle.resource_properties import CONNECTION, SECRET
from lambda_project_lifecycle.triggers import BRANCH_PATTERN_FOR_WEBHOOKS
from products import mlflow_builds
from products.conditions import HAS_TRAINING, IS_HOSTED, USES_CONNECTION, add_conditions
from products.project_roles import project_tags
from products.training_role import add_training_role
from template_common.catalog import Product
from template_common.settings import TemplateSettings

BUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
BUILD_TIMEOUT_MINUTES = 120
PIPELINE_ROLE_VARIABLE = "SAGEMAKER_PIPELINE_ROLE_ARN"
# The build's own timeout, so the seed code stops waiting for its pipeline (and says
# so) before CodeBuild stops the build without a word (seed code: pipelines/ci.py).
BUILD_TIMEOUT_VARIABLE = "BUILD_TIMEOUT_MINUTES"


def add_training(
    template: Template,
    product: Product,
    settings: TemplateSettings,
    lifecycle: Any,
    parameters: dict[str, Ref],
) -> None:
    add_conditions(template, parameters)
    mlflow = product.registry == "mlflow"
    if mlflow:
        mlflow_builds.add_condition(template, parameters)
    tags = project_tags()
    role = add_training_role(template, product, settings, lifecycle, parameters, tags)
    source_auth = codebuild.SourceAuth(
        Type=If(USES_CONNECTION, "CODECONNECTIONS", "SECRETS_MANAGER"),
        Resource=If(USES_CONNECTION, parameters[CONNECTION], parameters[SECRET]),
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
            Environment=_build_environment(role, lifecycle, mlflow=mlflow),
            **({"VpcConfig": mlflow_builds.vpc_config(lifecycle)} if mlflow else {}),
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


def _build_environment(role: iam.Role, lifecycle: Any, *, mlflow: bool) -> codebuild.Environment:
    environment = codebuild.Environment(
        Type="LINUX_CONTAINER", ComputeType="BUILD_GENERAL1_SMALL", Image=BUILD_IMAGE
    )
    variables = [
        codebuild.EnvironmentVariable(
            Name=PIPELINE_ROLE_VARIABLE, Type="PLAINTEXT", Value=GetAtt(role, "Arn")
        ),
        codebuild.EnvironmentVariable(
            Name=BUILD_TIMEOUT_VARIABLE, Type="PLAINTEXT", Value=str(BUILD_TIMEOUT_MINUTES)
        ),
    ]
    # Set past troposphere's check of the variables, which refuses an Fn::If.
    environment.properties["EnvironmentVariables"] = (
        mlflow_builds.environment_variables(variables, lifecycle) if mlflow else variables
    )
    return environment
