"""The platform's deployment machinery: three shared Lambdas, three rules, one model role.

* ``ModelDeployFunction`` on "SageMaker Model Package State Change" (approved or
  rejected packages of groups named ``sagemaker-*``);
* ``EndpointEventsFunction`` on "SageMaker Endpoint State Change" (InService or
  Failed endpoints named ``sagemaker-*``);
* ``DevEndpointReaperFunction`` on a schedule (daily by default).

One rule per event kind for every project, matched by name prefix (no wildcard
patterns). SageMaker runs every project's models as ``ModelExecutionRole``: it reads
only model archives (``*.tar.gz``) under project prefixes of the data bucket, pulls
images and writes endpoint logs; never as a project's training role, which may approve
model packages and read the repository token (``deployments.model_role``).
Nothing here is per project, and nothing has an idle price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awacs import secretsmanager as secrets_actions
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import Equals, GetAtt, Join, Not, Parameter, Ref, Template, events, iam
from troposphere import awslambda as lambda_

from lambda_project_lifecycle.environment import MODEL_ROLE_ENV, WEBHOOK_SECRET_ENV
from lambda_project_lifecycle.naming import NAME_PREFIX
from lambda_project_lifecycle.triggers import ENDPOINT_DETAIL_TYPE, MODEL_PACKAGE_DETAIL_TYPE
from portfolio.failed_events import FailedEvents, publish_statements
from portfolio.functions import SharedFunction, add_event_rule, add_function
from portfolio.hosting_permissions import (
    deployment_statements,
    deployment_teardown_statements,
)
from portfolio.permissions import registry_statements
from template_common.model_serving import model_serving_statements
from template_common.trust import trust_policy

MODEL_DEPLOY_HANDLER = "lambda_project_lifecycle.deployments.model_deploy.handler"
ENDPOINT_EVENTS_HANDLER = "lambda_project_lifecycle.deployments.endpoint_events.handler"
REAPER_HANDLER = "lambda_project_lifecycle.deployments.reaper.handler"
REAPER_SCHEDULE_DEFAULT = "rate(1 day)"
HAS_WEBHOOK = "HasNotificationWebhook"

MODEL_PACKAGE_PATTERN: dict[str, Any] = {
    "source": ["aws.sagemaker"],
    "detail-type": [MODEL_PACKAGE_DETAIL_TYPE],
    "detail": {
        "ModelPackageGroupName": [{"prefix": f"{NAME_PREFIX}-"}],
        "ModelApprovalStatus": ["Approved", "Rejected"],
    },
}
# SageMaker documents IN_SERVICE/FAILED in events; the API spelling is matched too.
ENDPOINT_PATTERN: dict[str, Any] = {
    "source": ["aws.sagemaker"],
    "detail-type": [ENDPOINT_DETAIL_TYPE],
    "detail": {
        "EndpointName": [{"prefix": f"{NAME_PREFIX}-"}],
        "EndpointStatus": ["IN_SERVICE", "FAILED", "InService", "Failed"],
    },
}


@dataclass(frozen=True)
class DeploymentResources:
    model_deploy: lambda_.Function
    endpoint_events: lambda_.Function
    reaper: lambda_.Function
    model_role: iam.Role
    rules: list[events.Rule]


def add_deployments(
    template: Template,
    code: lambda_.Code,
    *,
    registry: Any,
    data_bucket: Any,
    environment: dict[str, Any],
    failed_events: FailedEvents,
    project_model_roles: str,
) -> DeploymentResources:
    webhook_secret = template.add_parameter(
        Parameter(
            "NotificationWebhookSecretArn",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$",
            Description="Secrets Manager secret holding a Slack-compatible https webhook URL "
            "(the URL, or JSON with a url key) for deployment notices; empty for none.",
        )
    )
    schedule = template.add_parameter(
        Parameter(
            "DevEndpointReaperSchedule",
            Type="String",
            Default=REAPER_SCHEDULE_DEFAULT,
            AllowedPattern=r"^(rate|cron)\(.+\)$",
            Description="When expired development endpoints are deleted (EventBridge schedule).",
        )
    )
    template.add_condition(HAS_WEBHOOK, Not(Equals(Ref(webhook_secret), "")))
    model_role = _add_model_role(template, data_bucket)
    variables = {
        **environment,
        MODEL_ROLE_ENV: GetAtt(model_role, "Arn"),
        WEBHOOK_SECRET_ENV: Ref(webhook_secret),
    }
    registry_access = registry_statements(registry, write=True)
    # The deploy and endpoint-events handlers both deploy (a rollback, restored scaling).
    notices = publish_statements(failed_events.topic, failed_events.key)
    deploying = [
        *deployment_statements(model_role, data_bucket, notices, project_model_roles),
        *registry_access,
    ]
    model_deploy = add_function(
        template,
        SharedFunction(
            logical_id="ModelDeployFunction",
            handler=MODEL_DEPLOY_HANDLER,
            description="mlops-portfolio: deploys approved model packages, rolls back rejected.",
            statements=deploying,
            environment=variables,
            timeout_seconds=60,
            failed_events=failed_events,
        ),
        code,
    )
    endpoint_events = add_function(
        template,
        SharedFunction(
            logical_id="EndpointEventsFunction",
            handler=ENDPOINT_EVENTS_HANDLER,
            description="mlops-portfolio: tests new deployments and reports endpoint results.",
            statements=deploying,
            environment=variables,
            timeout_seconds=300,
            failed_events=failed_events,
        ),
        code,
    )
    reaper = add_function(
        template,
        SharedFunction(
            logical_id="DevEndpointReaperFunction",
            handler=REAPER_HANDLER,
            description="mlops-portfolio: deletes development endpoints past their TTL.",
            statements=[
                *deployment_teardown_statements(),
                *notices,
                *registry_access,
            ],
            environment=variables,
            timeout_seconds=300,
            failed_events=failed_events,
        ),
        code,
    )
    package_rule = add_event_rule(
        template,
        "ModelPackageStateChangeRule",
        model_deploy,
        "Approved or rejected model packages of every project -> deploy or roll back.",
        failed_events=failed_events,
        event_pattern=MODEL_PACKAGE_PATTERN,
    )
    endpoint_rule = add_event_rule(
        template,
        "EndpointStateChangeRule",
        endpoint_events,
        "Project endpoints InService or Failed -> integration tests and notices.",
        failed_events=failed_events,
        event_pattern=ENDPOINT_PATTERN,
    )
    reaper_rule = add_event_rule(
        template,
        "DevEndpointReaperRule",
        reaper,
        "Deletes development endpoints past their TTL.",
        failed_events=failed_events,
        schedule=Ref(schedule),
    )
    template.add_resource(
        iam.PolicyType(
            "NotificationWebhookSecretAccess",
            Condition=HAS_WEBHOOK,
            PolicyName="read-notification-webhook",
            Roles=[Ref(f"{fn.title}Role") for fn in (model_deploy, endpoint_events, reaper)],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="WebhookUrl",
                        Effect=Allow,
                        Action=[secrets_actions.GetSecretValue],
                        Resource=[Ref(webhook_secret)],
                    )
                ],
            ),
        )
    )
    return DeploymentResources(
        model_deploy,
        endpoint_events,
        reaper,
        model_role,
        [package_rule, endpoint_rule, reaper_rule],
    )


def _add_model_role(template: Template, data_bucket: Any) -> iam.Role:
    """The role SageMaker runs every project's deployed models with."""
    return template.add_resource(
        iam.Role(
            "ModelExecutionRole",
            Description="SageMaker runs the deployed models of every project with this role: "
            "model archives, image pulls and endpoint logs only.",
            AssumeRolePolicyDocument=trust_policy("sagemaker.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="serve-project-models",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=model_serving_statements(
                            Join(
                                "",
                                [GetAtt(data_bucket, "Arn"), f"/{NAME_PREFIX}-*/*.tar.gz"],
                            )
                        ),
                    ),
                )
            ],
        )
    )
