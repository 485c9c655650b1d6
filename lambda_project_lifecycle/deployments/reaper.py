"""Handler (schedule, daily by default): delete development endpoints past their TTL.

A development endpoint carries ``mlops-portfolio:expires-at`` (set at each
deployment from the stage's ``ttl_hours``). When that time has passed, the
endpoint goes with its scaling targets, alarms, configs and models, and its
registry entry. Only endpoints tagged ``mlops-portfolio:stage=development``
whose name is their project's development endpoint are ever touched:
production endpoints never expire.

Entry point: ``lambda_project_lifecycle.deployments.reaper.handler``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import endpoints, records, teardown
from lambda_project_lifecycle.deployments.aws import call
from lambda_project_lifecycle.deployments.deployer import utc_now
from lambda_project_lifecycle.deployments.errors import InvalidEventError
from lambda_project_lifecycle.deployments.events import parse_time
from lambda_project_lifecycle.deployments.notifications import Notice, Notifier
from lambda_project_lifecycle.deployments.plan import (
    TAG_EXPIRES_AT,
    TAG_PROJECT_ID,
    TAG_PROJECT_NAME,
    TAG_STAGE,
)
from lambda_project_lifecycle.deployments.settings import DeploySettings
from lambda_project_lifecycle.naming import NAME_PREFIX, ProjectNames

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

STAGE = "development"


# Created on first use and kept for the warm invocations of this Lambda container.
_CLIENTS = AwsClients()


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return handle_event(event, context, clients=_CLIENTS)


def handle_event(
    event: Mapping[str, Any],
    context: Any,
    *,
    clients: AwsClients | None = None,
    settings: DeploySettings | None = None,
    now: Callable[[], datetime] = utc_now,
    notifier: Notifier | None = None,
) -> dict[str, Any]:
    settings = settings or DeploySettings.from_environment()
    clients = clients or AwsClients()
    notifier = notifier or Notifier(
        clients.client("sns"),
        settings.topic_arn,
        secrets=clients.client("secretsmanager") if settings.webhook_secret_arn else None,
        webhook_secret_arn=settings.webhook_secret_arn,
    )
    reaped = reap_expired(clients, settings, now=now(), notifier=notifier)
    return {"action": "reaped", "endpoints": reaped}


def reap_expired(
    clients: AwsClients, settings: DeploySettings, *, now: datetime, notifier: Notifier | None
) -> list[str]:
    """Delete every expired development endpoint; returns their names."""
    sagemaker = clients.sagemaker
    reaped = []
    for summary in _development_endpoints(sagemaker):
        name = summary["EndpointName"]
        reply = call(
            f"Reading tags of {name}", sagemaker.list_tags, ResourceArn=summary["EndpointArn"]
        )
        tags = {t["Key"]: t["Value"] for t in reply.get("Tags", [])}
        if tags.get(TAG_STAGE) != STAGE or not tags.get(TAG_PROJECT_ID):
            continue
        try:
            expires = parse_time(tags.get(TAG_EXPIRES_AT) or "")
        except InvalidEventError:
            logger.warning("Leaving %s: its %s tag is not a time", name, TAG_EXPIRES_AT)
            continue
        if not tags.get(TAG_EXPIRES_AT) or expires > now:
            continue
        names = ProjectNames(tags.get(TAG_PROJECT_NAME, ""), tags[TAG_PROJECT_ID])
        if names.endpoint(STAGE) != name:
            logger.warning("Leaving %s: its tags name another project's endpoint", name)
            continue
        if summary.get("EndpointStatus") in endpoints.BUSY_STATES:
            logger.info("Leaving %s until it is no longer %s", name, summary["EndpointStatus"])
            continue
        removed = teardown.remove_stage(clients, names, STAGE)
        records.delete(clients.dynamodb, settings.registry_table, name)
        reaped.append(name)
        logger.info("Reaped %s (expired %s): %s", name, tags[TAG_EXPIRES_AT], removed.as_dict())
        if notifier is not None:
            notifier.send(
                Notice(
                    status="REMOVED",
                    project_name=names.project_name,
                    project_id=names.project_id,
                    stage=STAGE,
                    endpoint_name=name,
                    summary=f"the development endpoint expired at {tags[TAG_EXPIRES_AT]} and was "
                    "deleted; approve a package to deploy again",
                    details=removed.as_dict(),
                )
            )
    return reaped


def _development_endpoints(sagemaker: Any) -> list[dict[str, Any]]:
    found = []
    kwargs: dict[str, Any] = {"NameContains": f"-{STAGE}", "MaxResults": 100}
    while True:
        page = call("Listing endpoints", sagemaker.list_endpoints, **kwargs)
        for summary in page.get("Endpoints", []):
            name = summary["EndpointName"]
            if name.startswith(f"{NAME_PREFIX}-") and name.endswith(f"-{STAGE}"):
                found.append(summary)
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]
