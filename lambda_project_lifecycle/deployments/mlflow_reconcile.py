"""Handler (schedule): make every MLflow project's endpoints serve what its aliases say.

The safety net for a webhook that never arrived, and the only trigger for SageMaker
managed MLflow servers and apps, which send no webhooks. Each run looks at up
to :data:`MODELS_PER_RUN` registered models of the project registry
(``mlflow-model#``), continuing where the previous run stopped
(``mlflow-reconcile#cursor``), so a run stays short however many projects there are.
A model whose alias already matches what is deployed changes nothing. A tracking
server that cannot be asked is reported (``unreachable``) and nothing of its models
changes; the other models go on.

Entry point: ``lambda_project_lifecycle.deployments.mlflow_reconcile.handler``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.aws_calls import call
from lambda_project_lifecycle.deployments.context import utc_now
from lambda_project_lifecycle.deployments.mlflow_rest import (
    MlflowRequestError,
    MlflowUnreachableError,
)
from lambda_project_lifecycle.deployments.mlflow_sync import MlflowSync
from lambda_project_lifecycle.handler_logging import handler_logger

logger = handler_logger(__name__)

MODELS_PER_RUN = 50
MODEL_PREFIX = "mlflow-model#"
CURSOR_KEY = "mlflow-reconcile#cursor"


def handle_event(
    event: Mapping[str, Any],
    context: Any,
    sync: MlflowSync | None = None,
    *,
    now: Callable[[], datetime] = utc_now,
    limit: int = MODELS_PER_RUN,
) -> dict[str, Any]:
    sync = sync or MlflowSync.from_environment()
    dynamodb = sync.deployer.context.platform.dynamodb
    table = sync.deployer.context.settings.registry_table
    names, cursor = _next_models(dynamodb, table, limit)
    at = now()
    results: dict[str, Any] = {}
    unreachable: dict[str, str] = {}
    for name in names:
        try:
            outcome = sync.reconcile_model(name, at)
        except (MlflowUnreachableError, MlflowRequestError) as exc:
            logger.error("Not reconciled: %s", exc)
            unreachable[name] = str(exc)
            continue
        results[name] = outcome.as_dict()
    _save_cursor(dynamodb, table, cursor)
    changed = [n for n, r in results.items() if r["action"] not in ("unchanged", "ignored")]
    logger.info(
        "Reconciled %d MLflow models: %d changed, %d unreachable",
        len(names),
        len(changed),
        len(unreachable),
    )
    return {
        "models": len(names),
        "changed": changed,
        "results": results,
        "unreachable": unreachable,
        "complete": cursor is None,
    }


def _next_models(dynamodb: Any, table: str, limit: int) -> tuple[list[str], dict[str, Any] | None]:
    """Up to ``limit`` registered model names after the saved cursor, and the next cursor."""
    saved = project_registry.load_record(dynamodb, table, CURSOR_KEY)
    start = json.loads(saved["Start"]) if saved and saved.get("Start") else None
    names: list[str] = []
    while True:
        request: dict[str, Any] = {
            "TableName": table,
            "FilterExpression": "begins_with(pk, :prefix)",
            "ExpressionAttributeValues": {":prefix": {"S": MODEL_PREFIX}},
            "ProjectionExpression": "pk",
        }
        if start:
            request["ExclusiveStartKey"] = start
        page = call(f"Listing the MLflow models of {table}", dynamodb.scan, **request)
        names += [item["pk"]["S"][len(MODEL_PREFIX) :] for item in page.get("Items", [])]
        start = page.get("LastEvaluatedKey")
        if len(names) > limit:
            # the key is the table's only key: the next run starts after the last one taken
            names = names[:limit]
            return names, {"pk": {"S": MODEL_PREFIX + names[-1]}}
        if not start:
            return names, None


def _save_cursor(dynamodb: Any, table: str, cursor: dict[str, Any] | None) -> None:
    project_registry.put_record(
        dynamodb, table, {"pk": CURSOR_KEY, "Start": json.dumps(cursor) if cursor else ""}
    )


# The Lambda entry point, ``lambda_project_lifecycle.deployments.mlflow_reconcile.handler``.
def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(event, context)
