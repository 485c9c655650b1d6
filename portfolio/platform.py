"""The platform stack: deployed once per account and region, shared by every project.

It holds the Service Catalog portfolio, its principals and the launch roles of both
template methods (``portfolio.service_catalog``; ``publish`` adds the products and their
versions through the Service Catalog API), the shared lifecycle Lambda,
the deployment Lambdas and their rules (``portfolio.deployments``), the project
registry table, the notification topic, and the SSM parameters that product
templates resolve. Artifacts (product templates, the Lambda zip, seed-code zips)
are read from the bootstrap stack's bucket, under keys given as parameters.
"""

from __future__ import annotations

from typing import Any

from troposphere import (
    Export,
    GetAtt,
    Output,
    Parameter,
    Ref,
    Sub,
    Template,
    dynamodb,
    events,
    ssm,
)
from troposphere import awslambda as lambda_

from lambda_project_lifecycle.environment import (
    ARTIFACTS_BUCKET_ENV,
    MODEL_ROLE_ISOLATION_ENV,
    NOTIFICATION_TOPIC_ENV,
    PORTFOLIO_VERSION_ENV,
    PROJECT_DATA_BUCKET_ENV,
    REGISTRY_TABLE_ENV,
    REGISTRY_TTL_ATTRIBUTE,
    SEED_CODE_KEY_ENV,
)
from lambda_project_lifecycle.naming import NAME_PREFIX
from lambda_project_lifecycle.resource_properties import (
    MODEL_ROLE_ISOLATION_CHOICES,
    MODEL_ROLE_ISOLATION_PARAMETER,
)
from lambda_project_lifecycle.scenarios import SCENARIOS
from lambda_project_lifecycle.triggers import (
    CODECOMMIT_DETAIL_TYPE,
    PUSH_EVENTS,
    TRAINED_BRANCHES_EVENT_PATTERN,
)
from portfolio.buckets import add_private_bucket
from portfolio.deployments import add_deployments
from portfolio.failed_events import (
    FailedEvents,
    add_failed_events,
    add_notification_topic,
    allow_rules_to_dead_letter,
)
from portfolio.functions import SharedFunction, add_event_rule, add_function
from portfolio.hosting_permissions import deployment_teardown_statements
from portfolio.mlflow_sync import add_mlflow_sync
from portfolio.mlflow_tracking import add_tracking_server, build_environment, connect_functions
from portfolio.mlflow_tracking import environment as tracking_environment
from portfolio.permissions import (
    model_group_statements,
    pipeline_statements,
    project_data_statements,
    registry_statements,
    repository_statements,
    training_trigger_statements,
)
from portfolio.project_role_boundary import add_project_role_boundary
from portfolio.service_catalog import add_launch_role, add_portfolio, template_method_trust
from portfolio.stage_account_access import (
    add_stage_account_access,
    data_bucket_grants,
    stage_account_environment,
)
from template_common.arns import s3_arn
from template_common.checkov_skips import (
    TABLE_DEFAULT_ENCRYPTION,
    skip_metadata,
)
from template_common.lifecycle_function import (
    LIFECYCLE_MAX_EVENT_AGE_SECONDS,
    LIFECYCLE_TIMEOUT_SECONDS,
)
from template_common.settings import TemplateSettings
from template_common.trust import trust_policy

LIFECYCLE_HANDLER = "lambda_project_lifecycle.lifecycle.handler"
LIFECYCLE_MEMORY_MB = 512  # seeding (dulwich, zlib) runs faster with the CPU that comes with it
TRAINING_TRIGGER_HANDLER = "lambda_project_lifecycle.training_trigger.handler"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
FAILED_EVENTS_QUEUE_OUTPUT = "FailedEventsQueueUrl"


def seed_code_key_parameter(scenario: str) -> str:
    return f"{scenario.capitalize()}SeedCodeKey"


def build(settings: TemplateSettings) -> Template:
    template = Template(
        Description=f"mlops-portfolio {settings.version}: Service Catalog portfolio of SageMaker "
        "project templates and the shared project-lifecycle Lambda."
    )
    template.set_transform(LANGUAGE_EXTENSIONS)
    bucket = template.add_parameter(
        Parameter(
            "ArtifactsBucket",
            Type="String",
            Description="Bucket of the bootstrap stack: templates, Lambda and seed-code zips.",
        )
    )
    lambda_key = template.add_parameter(
        Parameter("LifecycleCodeKey", Type="String", Description="Object key of the Lambda zip.")
    )
    seed_keys = {
        scenario: template.add_parameter(
            Parameter(
                seed_code_key_parameter(scenario),
                Type="String",
                Description=f"Object key of the {scenario} seed-code zip.",
            )
        )
        for scenario in SCENARIOS
    }
    portfolio = add_portfolio(template, settings)
    isolation = template.add_parameter(
        Parameter(
            MODEL_ROLE_ISOLATION_PARAMETER,
            Type="String",
            Default=settings.model_role_isolation,
            AllowedValues=list(MODEL_ROLE_ISOLATION_CHOICES),
            Description="What deployed models run as: shared (the platform's model role) or "
            "per-project (each project's own; new projects need product versions built with "
            "model_role_isolation per-project).",
        )
    )
    registry = template.add_resource(
        dynamodb.Table(
            "ProjectRegistry",
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                dynamodb.AttributeDefinition(AttributeName="pk", AttributeType="S")
            ],
            KeySchema=[dynamodb.KeySchema(AttributeName="pk", KeyType="HASH")],
            PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
                PointInTimeRecoveryEnabled=True
            ),
            SSESpecification=dynamodb.SSESpecification(SSEEnabled=True),
            TimeToLiveSpecification=dynamodb.TimeToLiveSpecification(
                AttributeName=REGISTRY_TTL_ATTRIBUTE, Enabled=True
            ),
            Metadata=skip_metadata(TABLE_DEFAULT_ENCRYPTION),
        )
    )
    topic, topic_key = add_notification_topic(template)
    accounts = settings.stage_accounts
    data_bucket = add_private_bucket(
        template, "ProjectDataBucket", grants=data_bucket_grants(accounts, "ProjectDataBucket")
    )
    failed_events = add_failed_events(template, topic, topic_key)
    tracking_server = add_tracking_server(template, data_bucket)
    code = lambda_.Code(S3Bucket=Ref(bucket), S3Key=Ref(lambda_key))
    environment = {
        REGISTRY_TABLE_ENV: Ref(registry),
        NOTIFICATION_TOPIC_ENV: Ref(topic),
        ARTIFACTS_BUCKET_ENV: Ref(bucket),
        PROJECT_DATA_BUCKET_ENV: Ref(data_bucket),
        PORTFOLIO_VERSION_ENV: settings.version,
        **tracking_environment(tracking_server),
        MODEL_ROLE_ISOLATION_ENV: Ref(isolation),
        **{SEED_CODE_KEY_ENV.format(scenario=s.upper()): Ref(key) for s, key in seed_keys.items()},
        **stage_account_environment(accounts),
    }
    function = add_function(
        template,
        SharedFunction(
            logical_id="LifecycleFunction",
            function_name=settings.lifecycle_function_name,
            handler=LIFECYCLE_HANDLER,
            description="mlops-portfolio: creates, updates and deletes SageMaker projects.",
            statements=[
                *model_group_statements(),
                *pipeline_statements(),
                *project_data_statements(data_bucket),
                *registry_statements(registry, write=True),
                *deployment_teardown_statements(),
                *repository_statements(
                    [
                        s3_arn("${ArtifactsBucket}/${Key}", Key=Ref(key))
                        for key in seed_keys.values()
                    ],
                    settings.repository_secret_prefix,
                ),
            ],
            environment={**environment, **build_environment(tracking_server)},
            timeout_seconds=LIFECYCLE_TIMEOUT_SECONDS,
            memory_mb=LIFECYCLE_MEMORY_MB,
            async_retries=0,
            async_max_event_age_seconds=LIFECYCLE_MAX_EVENT_AGE_SECONDS,
            failed_events=failed_events,
        ),
        code,
    )
    push_rule = _add_training_trigger(template, registry, code, failed_events)
    deployments = add_deployments(
        template,
        code,
        registry=registry,
        data_bucket=data_bucket,
        environment=environment,
        failed_events=failed_events,
        project_model_roles=settings.model_role_path,
    )
    mlflow_sync = add_mlflow_sync(
        template,
        code,
        statements=deployments.deploying,
        environment=deployments.environment,
        failed_events=failed_events,
    )
    allow_rules_to_dead_letter(
        template, failed_events, [push_rule, *deployments.rules, *mlflow_sync.rules]
    )
    if accounts is not None:
        add_stage_account_access(
            template,
            accounts,
            handlers=(
                deployments.model_deploy,
                deployments.endpoint_events,
                deployments.reaper,
                mlflow_sync.webhook,
                mlflow_sync.reconcile,
            ),
            lifecycle=function,
        )
    connect_functions(template, tracking_server)
    boundary = add_project_role_boundary(template, settings, data_bucket)
    launch_role = add_launch_role(
        template,
        "LaunchRole",
        "Service Catalog launches the project products with this role.",
        trust_policy("servicecatalog.amazonaws.com"),
        function,
        settings,
        stacks="SC-*",
        boundary=boundary,
    )
    # The S3 template method: SageMaker creates a project's stack from the template in S3
    # with this role (as CloudFormation's), on behalf of a Studio user.
    template_launch_role = add_launch_role(
        template,
        "TemplateLaunchRole",
        "SageMaker projects of the S3 template method launch with this role.",
        template_method_trust(),
        function,
        settings,
        stacks="*",
        boundary=boundary,
    )

    for logical_id, name, value, description in (
        (
            "LifecycleFunctionArnParameter",
            settings.lifecycle_function_arn_parameter,
            GetAtt(function, "Arn"),
            "ARN of the shared project-lifecycle Lambda.",
        ),
        (
            "ArtifactsBucketParameter",
            settings.artifacts_bucket_parameter,
            Ref(bucket),
            "Bucket of the portfolio's artifacts.",
        ),
        (
            "ProjectDataBucketParameter",
            settings.project_data_bucket_parameter,
            Ref(data_bucket),
            "Bucket of the projects' data and pipeline artifacts (one prefix per project).",
        ),
        (
            "ProjectRoleBoundaryParameter",
            settings.permissions_boundary_parameter,
            Ref(boundary),
            "Permissions boundary (managed policy ARN) every project role carries.",
        ),
        (
            "MlflowTrackingServerParameter",
            settings.mlflow_tracking_server_parameter,
            Ref(tracking_server.option),
            "The MLflow products' tracking server option (external, managed, self-hosted): "
            "the product templates' conditions read it.",
        ),
        (
            "VersionParameter",
            settings.version_parameter,
            settings.version,
            "Version of the published portfolio.",
        ),
    ):
        template.add_resource(
            ssm.Parameter(
                logical_id, Name=name, Type="String", Value=value, Description=description
            )
        )

    template.add_output(Output("PortfolioId", Value=Ref(portfolio)))
    template.add_output(Output("LaunchRoleArn", Value=GetAtt(launch_role, "Arn")))
    template.add_output(Output("TemplateLaunchRoleArn", Value=GetAtt(template_launch_role, "Arn")))
    template.add_output(
        Output(
            "LifecycleFunctionArn",
            Value=GetAtt(function, "Arn"),
            Export=Export(Sub("${AWS::StackName}-LifecycleFunctionArn")),
        )
    )
    template.add_output(Output("ProjectRegistryTable", Value=Ref(registry)))
    template.add_output(Output("NotificationTopicArn", Value=Ref(topic)))
    template.add_output(Output("ProjectDataBucketName", Value=Ref(data_bucket)))
    template.add_output(Output(FAILED_EVENTS_QUEUE_OUTPUT, Value=Ref(failed_events.queue)))
    template.add_output(
        Output("ModelExecutionRoleArn", Value=GetAtt(deployments.model_role, "Arn"))
    )
    return template


def _add_training_trigger(
    template: Template, registry: Any, code: lambda_.Code, failed_events: FailedEvents
) -> events.Rule:
    """One rule for the pushes to every project's CodeCommit repository, one function."""
    trigger = add_function(
        template,
        SharedFunction(
            logical_id="TrainingTriggerFunction",
            handler=TRAINING_TRIGGER_HANDLER,
            description="mlops-portfolio: starts a project's training build on a push to "
            "prod, dev or feature-* of its CodeCommit repository.",
            statements=training_trigger_statements(registry),
            environment={REGISTRY_TABLE_ENV: Ref(registry)},
            timeout_seconds=30,
            failed_events=failed_events,
        ),
        code,
    )
    return add_event_rule(
        template,
        "CodeCommitPushRule",
        trigger,
        "Pushes to the prod, dev and feature-* branches of every project repository.",
        failed_events=failed_events,
        event_pattern={
            "source": ["aws.codecommit"],
            "detail-type": [CODECOMMIT_DETAIL_TYPE],
            "detail": {
                "event": list(PUSH_EVENTS),
                "referenceType": ["branch"],
                "repositoryName": [{"prefix": f"{NAME_PREFIX}-"}],
                "referenceName": list(TRAINED_BRANCHES_EVENT_PATTERN),
            },
        },
    )
