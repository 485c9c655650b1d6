"""The MLflow sync: aliases on MLflow model versions drive deployments (the MLflow flavour).

* ``MlflowWebhookFunction`` behind a Lambda function URL: the receiver of a self-hosted
  MLflow server's webhooks (``model_version_alias.created``/``deleted``). MLflow cannot
  sign with SigV4, so the URL takes no IAM authentication; the handler verifies each
  delivery's HMAC signature with ``MlflowWebhookSecret`` (generated here; the self-hosted
  server registers its webhook with it and the URL at each start, see
  ``portfolio.mlflow_server_command``; register a server of the team's with them), refuses
  deliveries older than 5 minutes and repeated delivery ids.
* ``MlflowReconcileFunction`` on a schedule: compares every project's ``approved``
  alias with what its endpoints serve and converges: it heals a missed delivery, and is
  the only trigger for SageMaker managed MLflow, which sends no webhooks.
  Its rule retries and keeps what it could not deliver, like every rule of the platform.

Both deploy through the same engine as the model-deploy handler, with its statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awacs import secretsmanager as secrets_actions
from awacs.aws import Allow, Statement
from troposphere import GetAtt, Output, Parameter, Ref, Template, events, secretsmanager
from troposphere import awslambda as lambda_

from lambda_project_lifecycle.environment import MLFLOW_WEBHOOK_SECRET_ENV
from portfolio.failed_events import FailedEvents
from portfolio.functions import SharedFunction, add_event_rule, add_function
from template_common.checkov_skips import (
    FUNCTION_URL_VERIFIED_BY_SIGNATURE,
    MLFLOW_SECRET_DEFAULT_KEY,
    skip_metadata,
)

WEBHOOK_HANDLER = "lambda_project_lifecycle.deployments.mlflow_webhook.handler"
RECONCILE_HANDLER = "lambda_project_lifecycle.deployments.mlflow_reconcile.handler"
RECONCILE_SCHEDULE_DEFAULT = "rate(10 minutes)"
SECRET_LENGTH = 48
# The receiver's URL and signing secret: the self-hosted server registers its webhook with them.
WEBHOOK_URL_ID = "MlflowWebhookUrl"
WEBHOOK_SECRET_ID = "MlflowWebhookSecret"


@dataclass(frozen=True)
class MlflowSyncResources:
    webhook: lambda_.Function
    reconcile: lambda_.Function
    rules: list[events.Rule]


def add_mlflow_sync(
    template: Template,
    code: lambda_.Code,
    *,
    statements: list[Statement],
    environment: dict[str, Any],
    failed_events: FailedEvents,
) -> MlflowSyncResources:
    """The two MLflow sync functions; ``statements`` and ``environment``: the deployers'."""
    schedule = template.add_parameter(
        Parameter(
            "MlflowReconcileSchedule",
            Type="String",
            Default=RECONCILE_SCHEDULE_DEFAULT,
            AllowedPattern=r"^(rate|cron)\(.+\)$",
            Description="How often MLflow aliases are compared with what is deployed "
            "(EventBridge schedule).",
        )
    )
    secret = template.add_resource(
        secretsmanager.Secret(
            WEBHOOK_SECRET_ID,
            Description="mlops-portfolio: the secret MLflow signs its webhook deliveries with.",
            GenerateSecretString=secretsmanager.GenerateSecretString(
                PasswordLength=SECRET_LENGTH, ExcludePunctuation=True
            ),
            Metadata=skip_metadata(MLFLOW_SECRET_DEFAULT_KEY),
        )
    )
    read_secret = Statement(
        Sid="MlflowWebhookSecret",
        Effect=Allow,
        Action=[secrets_actions.GetSecretValue],
        Resource=[Ref(secret)],
    )
    webhook = add_function(
        template,
        SharedFunction(
            logical_id="MlflowWebhookFunction",
            handler=WEBHOOK_HANDLER,
            description="mlops-portfolio: MLflow alias webhooks -> deploy, update, roll back.",
            statements=[*statements, read_secret],
            environment={**environment, MLFLOW_WEBHOOK_SECRET_ENV: Ref(secret)},
            timeout_seconds=60,
            failed_events=failed_events,
        ),
        code,
    )
    url = template.add_resource(
        lambda_.Url(
            WEBHOOK_URL_ID,
            AuthType="NONE",
            TargetFunctionArn=GetAtt(webhook, "Arn"),
            Metadata=skip_metadata(FUNCTION_URL_VERIFIED_BY_SIGNATURE),
        )
    )
    template.add_resource(
        lambda_.Permission(
            "MlflowWebhookUrlInvoke",
            Action="lambda:InvokeFunctionUrl",
            FunctionName=Ref(webhook),
            Principal="*",
            FunctionUrlAuthType="NONE",
        )
    )
    reconcile = add_function(
        template,
        SharedFunction(
            logical_id="MlflowReconcileFunction",
            handler=RECONCILE_HANDLER,
            description="mlops-portfolio: makes endpoints serve what MLflow aliases name.",
            statements=statements,
            environment=environment,
            timeout_seconds=300,
            failed_events=failed_events,
        ),
        code,
    )
    rule = add_event_rule(
        template,
        "MlflowReconcileRule",
        reconcile,
        "Compares every MLflow project's approved aliases with its endpoints.",
        failed_events=failed_events,
        schedule=Ref(schedule),
    )
    template.add_output(Output("MlflowWebhookUrl", Value=GetAtt(url, "FunctionUrl")))
    template.add_output(Output("MlflowWebhookSecretArn", Value=Ref(secret)))
    return MlflowSyncResources(webhook, reconcile, [rule])
