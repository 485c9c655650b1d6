"""The webhook handler's answers that need no MLflow server: the secret from Secrets Manager,
events that deploy nothing, a body over the limit. AWS is moto."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from lambda_project_lifecycle.deployments import mlflow_webhook
from lambda_project_lifecycle.deployments.mlflow_sync import MlflowSync
from lambda_project_lifecycle.deployments.webhook_signature import signature
from lambda_project_lifecycle.environment import MLFLOW_WEBHOOK_SECRET_ENV
from tests.lambda_project_lifecycle.deployments.mlflow_world import function_url_event
from tests.support.deployments import DeployWorld

SECRET = "generated-by-the-platform-stack"


def signed(body: str, delivery_id: str = "d-1", secret: str = SECRET) -> dict[str, Any]:
    stamp = str(int(time.time()))
    return function_url_event(
        {
            "X-MLflow-Delivery-Id": delivery_id,
            "X-MLflow-Timestamp": stamp,
            "X-MLflow-Signature": signature(secret, delivery_id, stamp, body),
        },
        body,
    )


def payload(entity: str, action: str, **data: str) -> str:
    return json.dumps({"entity": entity, "action": action, "timestamp": "", "data": data})


@pytest.fixture
def sync(world: DeployWorld) -> MlflowSync:
    return MlflowSync(world.deployer(), world.clients.http)


def test_the_secret_is_read_from_secrets_manager_once_per_container(
    world: DeployWorld, sync: MlflowSync, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = world.client("secretsmanager").create_secret(
        Name="mlops-portfolio/mlflow-webhook", SecretString=SECRET
    )["ARN"]
    monkeypatch.setenv(MLFLOW_WEBHOOK_SECRET_ENV, arn)
    monkeypatch.setattr(mlflow_webhook, "_SECRETS", {})
    body = payload("model_version", "created", name="m", version="1")

    good = mlflow_webhook.handle_event(signed(body), None, sync)
    bad = mlflow_webhook.handle_event(signed(body, "d-2", secret="guessed"), None, sync)

    assert good["statusCode"] == 200
    assert bad["statusCode"] == 401
    assert {arn: SECRET} == mlflow_webhook._SECRETS


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (payload("model_version", "created", name="m", version="1"), "not an MLflow model"),
        (payload("model_version_tag", "set", name="m", alias="x"), "deploys nothing"),
        (payload("model_version_alias", "updated", name="m", alias="approved"), "deploys nothing"),
        ('{"not": "an alias event"}', "not an MLflow model version alias event"),
        ("not json", "not an MLflow model version alias event"),
    ],
)
def test_signed_events_that_are_not_alias_changes_are_acknowledged_and_ignored(
    sync: MlflowSync, body: str, why: str
) -> None:
    answer = mlflow_webhook.handle_event(signed(body), None, sync, secret=SECRET)

    assert answer["statusCode"] == 200
    result = json.loads(answer["body"])
    assert result["action"] == "ignored"
    assert why in result["detail"]


def test_a_body_over_64_kib_is_refused_before_anything_is_read(sync: MlflowSync) -> None:
    body = payload("model_version_alias", "created", name="m" * 70_000, alias="approved")

    answer = mlflow_webhook.handle_event(signed(body), None, sync, secret=SECRET)

    assert answer["statusCode"] == 413
