"""Handler: an MLflow webhook delivery (Lambda function URL) -> deploy, update, roll back.

The function URL takes no IAM authentication (MLflow cannot sign with SigV4); every
delivery is verified instead (:mod:`.webhook_signature`) with the secret the platform
keeps in Secrets Manager (``MLFLOW_WEBHOOK_SECRET_ARN``), the one the webhook was
registered with. Unsigned, tampered or stale deliveries are answered 401 and logged
without their body. A delivery id already handled is answered 200 and ignored (the
registry keeps each id for a day). Events: ``model_version_alias`` ``created`` (set or
moved) and ``deleted``; others are acknowledged and ignored. When the tracking server
cannot be asked, the answer is 503 (MLflow retries; the reconcile heals what is left).

Entry point: ``lambda_project_lifecycle.deployments.mlflow_webhook.handler``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.aws_calls import call
from lambda_project_lifecycle.deployments.context import utc_now
from lambda_project_lifecycle.deployments.deployer import CONTAINER_CLIENTS
from lambda_project_lifecycle.deployments.mlflow_rest import MlflowUnreachableError
from lambda_project_lifecycle.deployments.mlflow_sync import MlflowSync
from lambda_project_lifecycle.deployments.outcomes import Outcome, ignored
from lambda_project_lifecycle.deployments.webhook_signature import (
    UnauthenticatedDeliveryError,
    verify,
)
from lambda_project_lifecycle.environment import MLFLOW_WEBHOOK_SECRET_ENV, REGISTRY_TTL_ATTRIBUTE
from lambda_project_lifecycle.errors import LifecycleError, error_code
from lambda_project_lifecycle.handler_logging import handler_logger
from lambda_project_lifecycle.triggers import MLFLOW_ALIAS_ENTITY

logger = handler_logger(__name__)

DELIVERY_RETENTION = timedelta(days=1)
ALIAS_ENTITY = MLFLOW_ALIAS_ENTITY
MAX_BODY_BYTES = 64 * 1024

# The secret, read once per container (a rotated secret: a new container reads it).
_SECRETS: dict[str, str] = {}


def handle_event(
    event: Mapping[str, Any],
    context: Any,
    sync: MlflowSync | None = None,
    *,
    secret: str | None = None,
    now: Callable[[], datetime] = utc_now,
) -> dict[str, Any]:
    """Answer one delivery (``sync``, ``secret``: by default from the environment)."""
    body = _body(event)
    if body is None:
        return _answer(413, {"error": f"the body is over {MAX_BODY_BYTES} bytes"})
    at = now()
    try:
        delivery = verify(event.get("headers") or {}, body, secret or _secret(), at)
    except UnauthenticatedDeliveryError as exc:
        logger.warning("Refused an MLflow webhook delivery: %s", exc)  # never the body
        return _answer(401, {"error": "unauthenticated delivery"})
    sync = sync or MlflowSync.from_environment()
    context_ = sync.deployer.context
    table = context_.settings.registry_table
    if not _first_delivery(context_.platform.dynamodb, table, delivery.delivery_id, at):
        logger.info("MLflow delivery %s was handled already", delivery.delivery_id)
        return _answer(
            200, ignored(f"delivery {delivery.delivery_id} was handled already").as_dict()
        )
    try:
        outcome = _dispatch(sync, body, at)
    except MlflowUnreachableError as exc:
        _forget_delivery(context_.platform.dynamodb, table, delivery.delivery_id)
        logger.error("MLflow delivery %s not handled: %s", delivery.delivery_id, exc)
        return _answer(503, {"error": str(exc)})
    except LifecycleError as exc:
        _forget_delivery(context_.platform.dynamodb, table, delivery.delivery_id)
        logger.error("MLflow delivery %s failed: %s", delivery.delivery_id, exc)
        return _answer(500, {"error": str(exc)})
    except Exception:
        # Unexpected: MLflow's retry of this delivery must not be taken for a replay.
        _forget_delivery(context_.platform.dynamodb, table, delivery.delivery_id)
        raise
    logger.info("MLflow delivery %s: %s %s", delivery.delivery_id, outcome.action, outcome.detail)
    return _answer(200, {"delivery_id": delivery.delivery_id, **outcome.as_dict()})


def _dispatch(sync: MlflowSync, body: str, at: datetime) -> Outcome:
    try:
        payload = json.loads(body)
        entity, action = str(payload["entity"]), str(payload["action"])
        data = payload["data"]
        name, alias = str(data["name"]), str(data["alias"])
    except (ValueError, KeyError, TypeError):
        return ignored("not an MLflow model version alias event")
    if entity != ALIAS_ENTITY:
        return ignored(f"{entity}.{action} deploys nothing")
    if action == "created":
        return sync.alias_set(name, alias, str(data.get("version", "")), at)
    if action == "deleted":
        return sync.alias_removed(name, alias, at)
    return ignored(f"{entity}.{action} deploys nothing")


def _first_delivery(dynamodb: Any, table: str, delivery_id: str, at: datetime) -> bool:
    """Record ``delivery_id``; False when it was recorded already."""
    expires = int((at + DELIVERY_RETENTION).timestamp())
    try:
        dynamodb.put_item(
            TableName=table,
            Item={
                "pk": {"S": project_registry.mlflow_delivery_key(delivery_id)},
                "ReceivedAt": {"S": at.astimezone(UTC).isoformat()},
                REGISTRY_TTL_ATTRIBUTE: {"N": str(expires)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _forget_delivery(dynamodb: Any, table: str, delivery_id: str) -> None:
    """A delivery that failed is retried by MLflow: let the retry through."""
    call(
        f"Forgetting MLflow delivery {delivery_id}",
        dynamodb.delete_item,
        TableName=table,
        Key={"pk": {"S": project_registry.mlflow_delivery_key(delivery_id)}},
    )


def _body(event: Mapping[str, Any]) -> str | None:
    raw = event.get("body") or ""
    data = base64.b64decode(raw) if event.get("isBase64Encoded") else str(raw).encode()
    return None if len(data) > MAX_BODY_BYTES else data.decode("utf-8", errors="replace")


def _secret() -> str:
    arn = os.environ.get(MLFLOW_WEBHOOK_SECRET_ENV, "")
    if not arn:
        raise LifecycleError(
            f"The Lambda environment variable {MLFLOW_WEBHOOK_SECRET_ENV} is not set"
        )
    if arn not in _SECRETS:
        found = call(
            f"Reading the MLflow webhook secret {arn}",
            CONTAINER_CLIENTS.client("secretsmanager").get_secret_value,
            SecretId=arn,
        )
        _SECRETS[arn] = str(found["SecretString"])
    return _SECRETS[arn]


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, default=str),
    }


# The Lambda entry point, ``lambda_project_lifecycle.deployments.mlflow_webhook.handler``.
def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(event, context)
