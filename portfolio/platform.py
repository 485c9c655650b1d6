"""The platform stack: deployed once per account and region, shared by every project.

It holds the Service Catalog portfolio, its principals and the launch roles (of
Service Catalog and of the S3 template method); ``publish`` adds the products and
their versions through the Service Catalog API. Also the shared lifecycle Lambda, the deployment Lambdas and their
rules (``portfolio.deployments``), the project registry table,
the notification topic, and the SSM parameters that product templates resolve.
Artifacts (product templates, the Lambda zip, seed-code zips) are read from the
bootstrap stack's bucket, under keys given as parameters.
"""

from __future__ import annotations

from typing import Any

from awacs import cloudformation as cfn_actions
from awacs import s3 as s3_actions
from awacs import ssm as ssm_actions
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from awacs.sts import AssumeRole
from awacs.awslambda import InvokeFunction
from troposphere import (
    Equals,
    Export,
    GetAtt,
    Join,
    Not,
    Output,
    Parameter,
    Ref,
    Split,
    Sub,
    Template,
    dynamodb,
    iam,
    servicecatalog,
    sns,
    ssm,
)
from troposphere import awslambda as lambda_

from lambda_project_lifecycle.environment import (
    ARTIFACTS_BUCKET_ENV,
    MLFLOW_TRACKING_URI_ENV,
    NOTIFICATION_TOPIC_ENV,
    PORTFOLIO_VERSION_ENV,
    PROJECT_DATA_BUCKET_ENV,
    REGISTRY_TABLE_ENV,
    SEED_CODE_KEY_ENV,
)
from lambda_project_lifecycle.naming import NAME_PREFIX
from lambda_project_lifecycle.repositories.settings import MLFLOW_TRACKING_URI_PROPERTY
from lambda_project_lifecycle.scenarios import SCENARIOS
from lambda_project_lifecycle.training_trigger import DETAIL_TYPE, PUSH_EVENTS
from portfolio.buckets import add_private_bucket
from portfolio.deployments import add_deployments
from portfolio.functions import SharedFunction, add_event_rule, add_function, trust_policy
from portfolio.permissions import (
    deployment_teardown_statements,
    model_group_statements,
    registry_statements,
    repository_statements,
    training_launch_statements,
    training_trigger_statements,
)
from portfolio.settings import TemplateSettings

LIFECYCLE_HANDLER = "lambda_project_lifecycle.lifecycle.handler"
LIFECYCLE_TIMEOUT_SECONDS = 300
# How long CloudFormation waits for the lifecycle's answer (the custom resource's
# ServiceTimeout, set by every product template): a minute more than the Lambda may run.
LIFECYCLE_SERVICE_TIMEOUT_SECONDS = LIFECYCLE_TIMEOUT_SECONDS + 60
# CloudFormation invokes the lifecycle asynchronously. A retry would run the same request
# again after it was answered (and re-make what the rollback deletes), so there is none;
# a request queued longer than this could not be answered before CloudFormation stops
# waiting, so Lambda drops it.
LIFECYCLE_MAX_EVENT_AGE_SECONDS = LIFECYCLE_SERVICE_TIMEOUT_SECONDS - LIFECYCLE_TIMEOUT_SECONDS
LIFECYCLE_MEMORY_MB = 512  # seeding (dulwich, zlib) runs faster with the CPU that comes with it
TRAINING_TRIGGER_HANDLER = "lambda_project_lifecycle.training_trigger.handler"
STUDIO_ROLE_PATTERN_DEFAULT = "role/service-role/AmazonSageMaker-ExecutionRole-*"
STUDIO_VISIBILITY_TAG = "sagemaker:studio-visibility"
# Service Catalog's own copies of product templates carry this S3 object tag; the launch
# role reads them (the Service Catalog Administrator Guide's launch-constraint policy).
SERVICE_CATALOG_COPY_TAG = "s3:ExistingObjectTag/servicecatalog:provisioning"
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"


class ForEachResources:
    """An ``Fn::ForEach`` block of the AWS::LanguageExtensions transform among the resources.

    troposphere has no type for it; the template serializes anything with a
    ``title`` and a ``to_dict``.
    """

    def __init__(self, loop_name: str, identifier: str, collection: Any, fragments: dict[str, Any]):
        self.title = f"Fn::ForEach::{loop_name}"
        self._body = [identifier, collection, fragments]

    def to_dict(self) -> list[Any]:
        return self._body


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
    role_arns = template.add_parameter(
        Parameter(
            "StudioExecutionRoleArns",
            Type="CommaDelimitedList",
            Default="",
            Description="ARNs of Studio execution roles that may launch the products (optional).",
        )
    )
    role_pattern = template.add_parameter(
        Parameter(
            "StudioRolePattern",
            Type="String",
            Default=STUDIO_ROLE_PATTERN_DEFAULT,
            Description="IAM pattern (after arn:<partition>:iam:::) of the roles that may launch "
            "the products; empty for none.",
        )
    )
    mlflow_uri = template.add_parameter(
        Parameter(
            MLFLOW_TRACKING_URI_PROPERTY,
            Type="String",
            Default="",
            Description="MLflow tracking server (https:// URL or SageMaker MLflow tracking server "
            "ARN) of projects of the MLflow products that name none themselves.",
        )
    )
    template.add_condition("HasStudioRoleArns", Not(Equals(Join("", Ref(role_arns)), "")))
    template.add_condition("HasStudioRolePattern", Not(Equals(Ref(role_pattern), "")))

    portfolio = template.add_resource(
        servicecatalog.Portfolio(
            "Portfolio",
            DisplayName=settings.portfolio_name,
            ProviderName=settings.provider_name,
            Description="SageMaker project templates: baseline and advanced MLOps scenarios.",
        )
    )
    _add_principals(template, portfolio, role_arns, role_pattern)

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
        )
    )
    topic = template.add_resource(
        sns.Topic(
            "NotificationTopic",
            DisplayName="mlops-portfolio notifications",
            KmsMasterKeyId="alias/aws/sns",
        )
    )
    data_bucket = add_private_bucket(template, "ProjectDataBucket")
    code = lambda_.Code(S3Bucket=Ref(bucket), S3Key=Ref(lambda_key))
    environment = {
        REGISTRY_TABLE_ENV: Ref(registry),
        NOTIFICATION_TOPIC_ENV: Ref(topic),
        ARTIFACTS_BUCKET_ENV: Ref(bucket),
        PROJECT_DATA_BUCKET_ENV: Ref(data_bucket),
        PORTFOLIO_VERSION_ENV: settings.version,
        MLFLOW_TRACKING_URI_ENV: Ref(mlflow_uri),
        **{SEED_CODE_KEY_ENV.format(scenario=s.upper()): Ref(key) for s, key in seed_keys.items()},
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
                *registry_statements(registry, write=True),
                *deployment_teardown_statements(),
                *repository_statements(
                    [
                        Sub(
                            "arn:${AWS::Partition}:s3:::${ArtifactsBucket}/${Key}",
                            Key=Ref(key),
                        )
                        for key in seed_keys.values()
                    ],
                    settings.repository_secret_prefix,
                ),
            ],
            environment=environment,
            timeout_seconds=LIFECYCLE_TIMEOUT_SECONDS,
            memory_mb=LIFECYCLE_MEMORY_MB,
            async_retries=0,
            async_max_event_age_seconds=LIFECYCLE_MAX_EVENT_AGE_SECONDS,
        ),
        code,
    )
    _add_training_trigger(template, registry, code)
    deployments = add_deployments(
        template,
        code,
        registry=registry,
        topic=topic,
        data_bucket=data_bucket,
        environment=environment,
    )
    launch_role = _add_launch_role(
        template,
        "LaunchRole",
        "Service Catalog launches the project products with this role.",
        trust_policy("servicecatalog.amazonaws.com"),
        function,
        settings,
    )
    # The S3 template method: SageMaker creates a project's stack from the template in S3
    # with this role (CloudFormation's), on behalf of a Studio user.
    template_launch_role = _add_launch_role(
        template,
        "TemplateLaunchRole",
        "SageMaker projects of the S3 template method launch with this role.",
        _template_method_trust(),
        function,
        settings,
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
    template.add_output(
        Output("ModelExecutionRoleArn", Value=GetAtt(deployments.model_role, "Arn"))
    )
    return template


def _add_training_trigger(template: Template, registry: Any, code: lambda_.Code) -> None:
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
        ),
        code,
    )
    add_event_rule(
        template,
        "CodeCommitPushRule",
        trigger,
        "Pushes to the prod, dev and feature-* branches of every project repository.",
        event_pattern={
            "source": ["aws.codecommit"],
            "detail-type": [DETAIL_TYPE],
            "detail": {
                "event": list(PUSH_EVENTS),
                "referenceType": ["branch"],
                "repositoryName": [{"prefix": f"{NAME_PREFIX}-"}],
                "referenceName": ["prod", "dev", {"prefix": "feature-"}],
            },
        },
    )


def _add_principals(
    template: Template, portfolio: Any, role_arns: Parameter, role_pattern: Parameter
) -> None:
    template.add_resource(
        ForEachResources(
            "StudioRoles",
            "RoleArn",
            Ref(role_arns),
            {
                "StudioRole&{RoleArn}": {
                    "Type": "AWS::ServiceCatalog::PortfolioPrincipalAssociation",
                    "Condition": "HasStudioRoleArns",
                    "Properties": {
                        "PortfolioId": Ref(portfolio),
                        "PrincipalARN": Ref("RoleArn"),
                        "PrincipalType": "IAM",
                    },
                }
            },
        )
    )
    template.add_resource(
        servicecatalog.PortfolioPrincipalAssociation(
            "StudioRolePatternPrincipal",
            Condition="HasStudioRolePattern",
            PortfolioId=Ref(portfolio),
            PrincipalARN=Sub("arn:${AWS::Partition}:iam:::${StudioRolePattern}"),
            PrincipalType="IAM_PATTERN",
        )
    )


def _template_method_trust() -> PolicyDocument:
    """CloudFormation, and the Studio execution roles the platform names (by ARN or pattern)."""
    studio_roles = Split(
        ",",
        Join(
            ",",
            [
                Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:${StudioRolePattern}"),
                Join(",", Ref("StudioExecutionRoleArns")),
            ],
        ),
    )
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", ["cloudformation.amazonaws.com"]),
                Action=[AssumeRole],
            ),
            Statement(
                Effect=Allow,
                Principal=Principal("AWS", [Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")]),
                Action=[AssumeRole],
                Condition=Condition(ArnLike("aws:PrincipalArn", studio_roles)),
            ),
        ],
    )


def _add_launch_role(
    template: Template,
    logical_id: str,
    description: str,
    trust: PolicyDocument,
    function: lambda_.Function,
    settings: TemplateSettings,
) -> iam.Role:
    stack_arn = Sub(
        "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/*"
    )
    return template.add_resource(
        iam.Role(
            logical_id,
            Description=description,
            AssumeRolePolicyDocument=trust,
            Policies=[
                iam.Policy(
                    PolicyName="launch-project-products",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Sid="ProductStacks",
                                Effect=Allow,
                                Action=[
                                    cfn_actions.CreateStack,
                                    cfn_actions.UpdateStack,
                                    cfn_actions.DeleteStack,
                                    cfn_actions.DescribeStacks,
                                    cfn_actions.DescribeStackEvents,
                                    cfn_actions.SetStackPolicy,
                                    cfn_actions.TagResource,
                                    cfn_actions.UntagResource,
                                ],
                                Resource=[stack_arn],
                            ),
                            Statement(
                                Sid="TemplateChecks",
                                Effect=Allow,
                                Action=[
                                    cfn_actions.ValidateTemplate,
                                    cfn_actions.GetTemplateSummary,
                                ],
                                Resource=["*"],
                            ),
                            # The S3 template method checks the templates' tags.
                            Statement(
                                Sid="ProductTemplates",
                                Effect=Allow,
                                Action=[s3_actions.GetObject, s3_actions.GetObjectTagging],
                                Resource=[Sub("arn:${AWS::Partition}:s3:::${ArtifactsBucket}/*")],
                            ),
                            # Service Catalog provisions from its own copy of each product
                            # version, in a bucket it owns and tags for provisioning.
                            Statement(
                                Sid="ServiceCatalogTemplateCopies",
                                Effect=Allow,
                                Action=[s3_actions.GetObject],
                                Resource=["*"],
                                Condition=Condition(StringEquals(SERVICE_CATALOG_COPY_TAG, "true")),
                            ),
                            Statement(
                                Sid="ResolveLifecycleFunction",
                                Effect=Allow,
                                Action=[ssm_actions.GetParameters, ssm_actions.GetParameter],
                                Resource=[
                                    Sub(
                                        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
                                        f":parameter{settings.lifecycle_function_arn_parameter}"
                                    )
                                ],
                            ),
                            Statement(
                                Sid="CallLifecycleFunction",
                                Effect=Allow,
                                Action=[InvokeFunction],
                                Resource=[GetAtt(function, "Arn")],
                            ),
                            Statement(
                                Sid="ResolveProjectDataBucket",
                                Effect=Allow,
                                Action=[ssm_actions.GetParameters, ssm_actions.GetParameter],
                                Resource=[
                                    Sub(
                                        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
                                        f":parameter{settings.project_data_bucket_parameter}"
                                    )
                                ],
                            ),
                            *training_launch_statements(settings.repository_secret_prefix),
                        ],
                    ),
                )
            ],
        )
    )
