"""The target-account stack: one per stage account and region, when stages have accounts.

What the platform (the tooling account) needs in an account that hosts a stage's
endpoints:

* ``DeploymentRole`` - the role the platform's deployment handlers assume there. It
  trusts only the handler roles the platform stack names (``PlatformHandlerRoleArns``)
  of ``PlatformAccountId``, and acts only on project endpoints, configs, models, their
  alarms and scaling; it reads model packages of the platform's registry only.
* ``ModelRole`` - the role the account's models run as: it reads only model archives
  (``sagemaker-*/*.tar.gz``) of the platform's project data bucket, pulls images and
  writes endpoint logs. The bucket's policy, in the platform stack, names this role.
* ``EndpointEventsForwardRule`` with ``EndpointEventsForwardRole`` - the account's
  project endpoint state changes go to the platform's default event bus (whose policy
  names this role), where the endpoint-events handler tests and reports them.
* Alarms need nothing more: the deployment role makes each endpoint's rollback alarms
  in the account, where the endpoint's metrics are.

The roles' names are fixed (``<name base>-deployment``, ``-model``, ``-endpoint-events``)
so that the platform can name them before they exist.
"""

from __future__ import annotations

from awacs import events as events_actions
from awacs import iam as iam_actions
from awacs import sagemaker as sm_actions
from awacs import sts
from awacs.aws import (
    Allow,
    AWSPrincipal,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Output, Parameter, Ref, Sub, Template, events, iam

from lambda_project_lifecycle.naming import NAME_PREFIX
from lambda_project_lifecycle.stage_accounts import (
    DEPLOYMENT_ROLE_SUFFIX,
    EVENT_FORWARDING_ROLE_SUFFIX,
    MODEL_ROLE_SUFFIX,
    role_name,
)
from portfolio.deployments import ENDPOINT_PATTERN
from portfolio.hosting_permissions import (
    alarm_and_scaling_statements,
    deployment_teardown_statements,
    project_hosting_statement,
)
from portfolio.stage_account_access import organization_read_statement
from template_common.arns import iam_role_arn
from template_common.model_serving import model_serving_statements
from template_common.settings import TemplateSettings

# The platform's own event bus, in this stack's region.
PLATFORM_BUS = "arn:${AWS::Partition}:events:${AWS::Region}:${PlatformAccountId}:event-bus/default"


def build(settings: TemplateSettings) -> Template:
    template = Template(
        Description=f"mlops-portfolio {settings.version}: what the platform needs in an account "
        "that hosts a deployment stage (deployment role, model role, endpoint event forwarding)."
    )
    platform_account = template.add_parameter(
        Parameter(
            "PlatformAccountId",
            Type="String",
            AllowedPattern=r"^\d{12}$",
            Description="The account of the platform stack (repositories, training, registry).",
        )
    )
    handler_roles = template.add_parameter(
        Parameter(
            "PlatformHandlerRoleArns",
            Type="CommaDelimitedList",
            Description="The platform's deployment handler roles (the platform stack's output "
            "DeploymentHandlerRoleArns): the only principals the deployment role trusts.",
        )
    )
    template.add_parameter(  # read by ModelRole's policy (Fn::Sub)
        Parameter(
            "ProjectDataBucket",
            Type="String",
            AllowedPattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            Description="The platform's project data bucket, whose model archives models read.",
        )
    )
    model_role = template.add_resource(
        iam.Role(
            "ModelRole",
            RoleName=role_name(settings.name_base, MODEL_ROLE_SUFFIX),
            Description="SageMaker runs the platform's project models in this account with this "
            "role: model archives of the platform's data bucket only.",
            AssumeRolePolicyDocument=_service_trust("sagemaker.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="serve-project-models",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=model_serving_statements(
                            Sub(
                                "arn:${AWS::Partition}:s3:::${ProjectDataBucket}/"
                                f"{NAME_PREFIX}-*/*.tar.gz"
                            )
                        ),
                    ),
                )
            ],
        )
    )
    deployment_role_name = role_name(settings.name_base, DEPLOYMENT_ROLE_SUFFIX)
    deployment_role = template.add_resource(
        iam.Role(
            "DeploymentRole",
            RoleName=deployment_role_name,
            Description="The platform's deployment handlers make, test and remove project "
            "endpoints in this account with this role.",
            AssumeRolePolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="PlatformDeploymentHandlersOnly",
                        Effect=Allow,
                        Principal=AWSPrincipal(Ref(handler_roles)),
                        Action=[sts.AssumeRole],
                        Condition=Condition(
                            StringEquals("aws:PrincipalAccount", Ref(platform_account))
                        ),
                    )
                ],
            ),
            Policies=[
                iam.Policy(
                    PolicyName="host-project-endpoints",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            *deployment_teardown_statements(),
                            project_hosting_statement(),
                            Statement(
                                Sid="PlatformModelPackagesRead",
                                Effect=Allow,
                                Action=[sm_actions.DescribeModelPackage],
                                Resource=[
                                    Sub(
                                        "arn:${AWS::Partition}:sagemaker:${AWS::Region}:"
                                        f"${{PlatformAccountId}}:model-package/{NAME_PREFIX}-*/*"
                                    )
                                ],
                            ),
                            Statement(
                                Sid="OwnRoleRead",
                                Effect=Allow,
                                Action=[iam_actions.GetRole],
                                Resource=[iam_role_arn(deployment_role_name)],
                            ),
                            Statement(
                                Sid="PassModelRoleToSageMaker",
                                Effect=Allow,
                                Action=[iam_actions.PassRole],
                                Resource=[GetAtt(model_role, "Arn")],
                                Condition=Condition(
                                    StringEquals("iam:PassedToService", "sagemaker.amazonaws.com")
                                ),
                            ),
                            *alarm_and_scaling_statements(),
                            organization_read_statement(),
                        ],
                    ),
                )
            ],
        )
    )
    forward_role = template.add_resource(
        iam.Role(
            "EndpointEventsForwardRole",
            RoleName=role_name(settings.name_base, EVENT_FORWARDING_ROLE_SUFFIX),
            Description="EventBridge forwards project endpoint state changes to the platform's "
            "event bus with this role.",
            AssumeRolePolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow,
                        Principal=Principal("Service", ["events.amazonaws.com"]),
                        Action=[sts.AssumeRole],
                        Condition=Condition(
                            StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))
                        ),
                    )
                ],
            ),
            Policies=[
                iam.Policy(
                    PolicyName="forward-to-platform-bus",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Sid="PlatformBusOnly",
                                Effect=Allow,
                                Action=[events_actions.PutEvents],
                                Resource=[Sub(PLATFORM_BUS)],
                            )
                        ],
                    ),
                )
            ],
        )
    )
    template.add_resource(
        events.Rule(
            "EndpointEventsForwardRule",
            Description="Project endpoint state changes -> the platform's event bus.",
            State="ENABLED",
            EventPattern=ENDPOINT_PATTERN,
            Targets=[
                events.Target(
                    Id="PlatformEventBus",
                    Arn=Sub(PLATFORM_BUS),
                    RoleArn=GetAtt(forward_role, "Arn"),
                )
            ],
        )
    )
    template.add_output(Output("DeploymentRoleArn", Value=GetAtt(deployment_role, "Arn")))
    template.add_output(Output("ModelRoleArn", Value=GetAtt(model_role, "Arn")))
    template.add_output(Output("EndpointEventsForwardRoleArn", Value=GetAtt(forward_role, "Arn")))
    return template


def _service_trust(service: str) -> PolicyDocument:
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", [service]),
                Action=[sts.AssumeRole],
                Condition=Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))),
            )
        ],
    )
