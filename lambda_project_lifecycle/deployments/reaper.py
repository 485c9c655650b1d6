"""Handler (schedule, daily by default): delete development endpoints past their TTL.

A development endpoint carries ``mlops-portfolio:expires-at`` (set at each
deployment from the stage's ``ttl_hours``). When that time has passed, the
endpoint goes with its scaling targets, alarms, configs and models; its registry
record stays, serving nothing, as the mark of what was removed
(:meth:`records.EndpointRecord.mark_reaped`): the MLflow reconcile does not deploy
those versions again until an alias moves to another version or is set again.
Only endpoints tagged ``mlops-portfolio:stage=development`` whose name is their
project's development endpoint expire: production endpoints never do.

Backstop for project deletes: an endpoint (of either stage) whose registry
record says its project was deleted, or whose project is no longer in the
registry, goes too, once SageMaker is done creating or updating it. An
endpoint without a registry record is never touched.

One endpoint that cannot be removed does not stop the others: the failures are
logged, announced (FAILED) and returned.

Entry point: ``lambda_project_lifecycle.deployments.reaper.handler``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.aws_calls import call, pages
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import endpoints, records, teardown
from lambda_project_lifecycle.deployments.accounts import (
    HOSTED_STAGES,
    StageAccounts,
    stage_accounts_from_environment,
)
from lambda_project_lifecycle.deployments.context import utc_now
from lambda_project_lifecycle.deployments.errors import InvalidEventError, StageAccountError
from lambda_project_lifecycle.deployments.events import parse_time
from lambda_project_lifecycle.deployments.notifications import Notice, Notifier
from lambda_project_lifecycle.deployments.plan import TAG_EXPIRES_AT, TAG_STAGE
from lambda_project_lifecycle.deployments.settings import DeploySettings
from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.handler_logging import handler_logger
from lambda_project_lifecycle.naming import (
    NAME_PREFIX,
    PROJECT_ID_TAG,
    PROJECT_NAME_TAG,
    ProjectNames,
)

logger = handler_logger(__name__)

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
    accounts = stage_accounts_from_environment(clients, os.environ)
    run = reap(clients, settings, now=now(), notifier=notifier, accounts=accounts)
    answer: dict[str, Any] = {"action": "reaped", "endpoints": run.reaped}
    if run.failed:
        answer["failed"] = run.failed
    return answer


@dataclass
class ReaperRun:
    reaped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # endpoint -> why it is still there


def reap_expired(
    clients: AwsClients, settings: DeploySettings, *, now: datetime, notifier: Notifier | None
) -> list[str]:
    """Delete every expired development endpoint (and those of deleted projects)."""
    return reap(clients, settings, now=now, notifier=notifier).reaped


def reap(
    clients: AwsClients,
    settings: DeploySettings,
    *,
    now: datetime,
    notifier: Notifier | None,
    accounts: StageAccounts | None = None,
) -> ReaperRun:
    """Reap in the platform's account and in every stage account (``accounts``)."""
    run = ReaperRun()
    for hosting, where in _hosting_clients(clients, accounts, run):
        for summary in _stage_endpoints(hosting.sagemaker):
            name = summary["EndpointName"]
            try:
                notice = _reap_one(clients, hosting, settings, summary, now)
            except LifecycleError as exc:
                logger.error("Could not reap %s%s: %s", name, where, exc)
                run.failed[name] = str(exc)
                if notifier is not None:
                    _notify_failure(notifier, hosting, summary, str(exc))
                continue
            if notice is None:
                continue
            run.reaped.append(name)
            if notifier is not None:
                notifier.send(notice)
    return run


def _hosting_clients(
    clients: AwsClients, accounts: StageAccounts | None, run: ReaperRun
) -> list[tuple[AwsClients, str]]:
    """The platform's clients, then one set per stage account (an unreachable account is a
    failure of the run, named by its stage; the others are reaped)."""
    found: list[tuple[AwsClients, str]] = [(clients, "")]
    if accounts is None:
        return found
    seen: set[str] = set()
    for stage in accounts.stages():
        account = accounts.account_of(stage)
        if account is None or account in seen:
            continue
        seen.add(account)
        try:
            found.append((accounts.clients(stage), f" in account {account}"))
        except StageAccountError as exc:
            logger.error("Not reaping account %s: %s", account, exc)
            run.failed[f"account {account}"] = str(exc)
    return found


def _reap_one(
    clients: AwsClients,
    hosting: AwsClients,
    settings: DeploySettings,
    summary: dict[str, Any],
    now: datetime,
) -> Notice | None:
    """Remove the endpoint if it expired or its project is gone; the notice to send, if so.

    ``hosting``: the clients of the endpoint's account; ``clients``: the platform's."""
    sagemaker = hosting.sagemaker
    name = summary["EndpointName"]
    tags = _tags(sagemaker, summary)
    project_id = tags.get(PROJECT_ID_TAG)
    if not project_id:
        return None
    if summary.get("EndpointStatus") in endpoints.BUSY_STATES:
        logger.info("Leaving %s until it is no longer %s", name, summary["EndpointStatus"])
        return None
    orphan = _orphaned_record(clients, settings, name, project_id)
    if orphan is not None:
        removed = teardown.finish_project_delete(
            clients, orphan, settings.registry_table, hosting=hosting
        )
        logger.info("Reaped %s of deleted project %s: %s", name, project_id, removed.as_dict())
        return Notice(
            status="REMOVED",
            project_name=orphan.project_name,
            project_id=project_id,
            stage=orphan.stage,
            endpoint_name=name,
            summary=f"project {project_id} was deleted; its endpoint {name} is deleted now",
            details=removed.as_dict(),
        )
    if tags.get(TAG_STAGE) != STAGE:
        return None
    try:
        expires = parse_time(tags.get(TAG_EXPIRES_AT) or "")
    except InvalidEventError:
        logger.warning("Leaving %s: its %s tag is not a time", name, TAG_EXPIRES_AT)
        return None
    if not tags.get(TAG_EXPIRES_AT) or expires > now:
        return None
    names = ProjectNames(tags.get(PROJECT_NAME_TAG, ""), project_id)
    if names.endpoint(STAGE) != name:
        logger.warning("Leaving %s: its tags name another project's endpoint", name)
        return None
    removed = teardown.remove_stage(hosting, names, STAGE)
    records.keep_as_reaped(clients.dynamodb, settings.registry_table, names, STAGE, now=now)
    logger.info("Reaped %s (expired %s): %s", name, tags[TAG_EXPIRES_AT], removed.as_dict())
    return Notice(
        status="REMOVED",
        project_name=names.project_name,
        project_id=names.project_id,
        stage=STAGE,
        endpoint_name=name,
        summary=f"the development endpoint expired at {tags[TAG_EXPIRES_AT]} and was "
        "deleted; approve a package (MLflow: set the alias again) to deploy again",
        details=removed.as_dict(),
    )


def _orphaned_record(
    clients: AwsClients, settings: DeploySettings, name: str, project_id: str
) -> records.EndpointRecord | None:
    """The endpoint's record when its project was deleted (None for a live project's)."""
    record = records.load(clients.dynamodb, settings.registry_table, name)
    if record is None or record.project_id != project_id:
        return None
    if record.project_deleted:
        return record
    project = project_registry.load_project(
        clients.dynamodb, settings.registry_table, record.project_id
    )
    return record if project is None else None


def _tags(sagemaker: Any, summary: dict[str, Any]) -> dict[str, str]:
    reply = call(
        f"Reading tags of {summary['EndpointName']}",
        sagemaker.list_tags,
        ResourceArn=summary["EndpointArn"],
    )
    return {t["Key"]: t["Value"] for t in reply.get("Tags", [])}


def _notify_failure(
    notifier: Notifier, clients: AwsClients, summary: dict[str, Any], reason: str
) -> None:
    name = str(summary["EndpointName"])
    try:
        tags = _tags(clients.sagemaker, summary)
    except LifecycleError:
        tags = {}
    notifier.send(
        Notice(
            status="FAILED",
            project_name=tags.get(PROJECT_NAME_TAG, ""),
            project_id=tags.get(PROJECT_ID_TAG, ""),
            stage=tags.get(TAG_STAGE, ""),
            endpoint_name=name,
            summary=f"the reaper could not delete {name} (tried again on its next run): {reason}",
        )
    )


def _stage_endpoints(sagemaker: Any) -> list[dict[str, Any]]:
    """Endpoints named like a project's stage endpoint (``sagemaker-...-<stage>``)."""
    found = []
    for page in pages(
        "Listing endpoints",
        sagemaker.list_endpoints,
        NameContains=f"{NAME_PREFIX}-",
        MaxResults=100,
    ):
        for summary in page.get("Endpoints", []):
            name = summary["EndpointName"]
            if name.startswith(f"{NAME_PREFIX}-") and name.endswith(
                tuple(f"-{stage}" for stage in HOSTED_STAGES)
            ):
                found.append(summary)
    return found
