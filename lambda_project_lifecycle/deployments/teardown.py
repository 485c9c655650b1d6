"""Removing what deployments made: a stage's endpoint, or all of a project's.

Order per stage: scaling policies and targets -> alarms -> endpoint -> endpoint
configs -> models -> the endpoint's registry record. Every step tolerates
what is already gone, so a retried delete converges. Configs and models are
found by name and deleted only when they carry the project's
``sagemaker:project-id`` tag.

SageMaker does not delete an endpoint while it is being created or updated. Such
a stage is left whole (:class:`EndpointBusyError`); on project delete its registry
record is kept, marked ``project_deleted``, and the endpoint-events handler
removes the stage when the endpoint leaves that state (the reaper is the backstop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import alarms, autoscaling, endpoints, records
from lambda_project_lifecycle.deployments.config import SETTINGS_OF_STAGE, STAGES
from lambda_project_lifecycle.deployments.errors import (
    EndpointBusyError,
)
from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.scenarios import STAGE_OF_GROUP

logger = logging.getLogger(__name__)


@dataclass
class Removed:
    endpoints: list[str] = field(default_factory=list)
    configs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    scaling_targets: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # endpoints removed once no longer busy

    def add(self, other: Removed) -> None:
        for name in ("endpoints", "configs", "models", "alarms", "scaling_targets", "pending"):
            getattr(self, name).extend(getattr(other, name))

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "endpoints": self.endpoints,
            "endpoint_configs": self.configs,
            "models": self.models,
            "alarms": self.alarms,
            "scaling_targets": self.scaling_targets,
            "pending": self.pending,
        }


def group_kinds_of_stage(stage: str) -> list[str]:
    """The group kinds whose models a stage serves (staging: production's)."""
    serves = SETTINGS_OF_STAGE.get(stage, stage)
    return [kind for kind, of_stage in STAGE_OF_GROUP.items() if of_stage == serves]


def config_marker(names: ProjectNames, stage: str) -> str:
    """What every endpoint config name of the stage contains (the name part may be cut)."""
    return f"-{names.project_id}-{stage}-"


def model_marker(names: ProjectNames, group_kind: str) -> str:
    return f"-{names.project_id}-{group_kind}-"


def alarm_prefix(names: ProjectNames, stage: str) -> str:
    return names.rollback_alarm(stage, "")[: -len("-5xx")]


def remove_stage_endpoint(clients: AwsClients, names: ProjectNames, stage: str) -> Removed:
    """Delete the stage's endpoint with its scaling targets and alarms (configs and models stay).

    Raises :class:`EndpointBusyError`, having changed nothing, while the endpoint is in
    progress (SageMaker would refuse to delete it).
    """
    endpoint = names.endpoint(stage)
    found = endpoints.describe_endpoint(clients.sagemaker, endpoint)
    status = str((found or {}).get("EndpointStatus", ""))
    if status in endpoints.IN_PROGRESS_STATES:
        raise EndpointBusyError(endpoint, status)
    removed = Removed()
    removed.scaling_targets = autoscaling.remove_scaling(
        clients.client("application-autoscaling"), endpoint
    )
    removed.alarms = alarms.remove_alarms(
        clients.client("cloudwatch"), endpoint, alarm_prefix(names, stage)
    )
    if found is not None and endpoints.delete_endpoint(clients.sagemaker, endpoint):
        removed.endpoints.append(endpoint)
    return removed


def remove_stage(clients: AwsClients, names: ProjectNames, stage: str) -> Removed:
    """Delete the stage's endpoint and everything made for it."""
    sagemaker = clients.sagemaker
    removed = remove_stage_endpoint(clients, names, stage)
    configs = endpoints.owned_configs(sagemaker, names, config_marker(names, stage))
    removed.configs = endpoints.delete_configs(
        sagemaker, [c["EndpointConfigName"] for c in configs]
    )
    removed.models = endpoints.delete_models(sagemaker, _stage_models(sagemaker, names, stage))
    return removed


def prune_superseded(
    clients: AwsClients, names: ProjectNames, stage: str, serving_config: str
) -> Removed:
    """After a deployment is InService: delete the stage's older configs and unused models.

    Configs created after the serving one are kept (a newer deployment may be on
    its way), and so are the models any kept config uses.
    """
    sagemaker = clients.sagemaker
    configs = endpoints.owned_configs(sagemaker, names, config_marker(names, stage))
    serving = next((c for c in configs if c["EndpointConfigName"] == serving_config), None)
    if serving is None:
        return Removed()
    kept = [
        c["EndpointConfigName"]
        for c in configs
        if c["EndpointConfigName"] == serving_config or c["CreationTime"] > serving["CreationTime"]
    ]
    doomed = [c["EndpointConfigName"] for c in configs if c["EndpointConfigName"] not in kept]
    used: set[str] = set()
    for name in kept:
        used |= endpoints.model_names_of_config(sagemaker, name)
    removed = Removed()
    removed.configs = endpoints.delete_configs(sagemaker, doomed)
    removed.models = endpoints.delete_models(
        sagemaker, [m for m in _stage_models(sagemaker, names, stage) if m not in used]
    )
    return removed


def _stage_models(sagemaker: Any, names: ProjectNames, stage: str) -> list[str]:
    return [
        model
        for kind in group_kinds_of_stage(stage)
        for model in endpoints.owned_models(sagemaker, names, model_marker(names, kind))
    ]


def remove_project_deployments(
    clients: AwsClients,
    names: ProjectNames,
    registry_table: str,
    *,
    now: datetime,
    hosting: Callable[[str], AwsClients] | None = None,
    stages: Sequence[str] = STAGES,
) -> Removed:
    """Project delete: every endpoint, config, model, alarm, scaling target and record.

    ``hosting`` gives the clients of the account that hosts each of ``stages`` (default:
    ``clients``, the platform's, which also hold the registry).

    A stage whose endpoint SageMaker is still creating or updating keeps everything and
    its record, marked ``project_deleted``: the endpoint-events handler (or the reaper)
    removes it once SageMaker lets go of it. Its name is in ``pending``.
    """
    removed = Removed()
    for stage in stages:
        removed.add(
            remove_deleted_projects_stage(
                clients,
                names,
                stage,
                registry_table,
                now=now,
                hosting=hosting(stage) if hosting else None,
            )
        )
    logger.info("Removed the deployments of project %s: %s", names.project_id, removed.as_dict())
    return removed


def remove_deleted_projects_stage(
    clients: AwsClients,
    names: ProjectNames,
    stage: str,
    registry_table: str,
    *,
    now: datetime,
    hosting: AwsClients | None = None,
) -> Removed:
    """One stage of a deleted project: everything and its record, or, while SageMaker is
    still creating or updating the endpoint, its record marked ``project_deleted``.
    ``hosting``: the clients of the stage's account (default ``clients``, the platform's)."""
    try:
        removed = remove_stage(hosting or clients, names, stage)
    except EndpointBusyError as exc:
        logger.info("%s: removed as soon as it is no longer %s", exc, exc.status)
        mark_project_deleted(clients, names, stage, registry_table, now=now)
        removed = Removed()
        removed.pending.append(exc.endpoint_name)
        return removed
    records.delete(clients.dynamodb, registry_table, names.endpoint(stage))
    return removed


def mark_project_deleted(
    clients: AwsClients, names: ProjectNames, stage: str, registry_table: str, *, now: datetime
) -> None:
    """Keep the stage's record as the note that its endpoint must go with the deleted project."""

    def deleted(record: records.EndpointRecord) -> None:
        record.project_deleted = True
        record.desired = {}
        record.pending = True
        record.status = records.DELETE_PENDING

    records.update(
        clients.dynamodb,
        registry_table,
        names,
        stage,
        deleted,
        now=lambda: now,
        then="retry the delete",
    )


def finish_project_delete(
    clients: AwsClients,
    record: records.EndpointRecord,
    registry_table: str,
    *,
    hosting: AwsClients | None = None,
) -> Removed:
    """Remove a stage kept by a project delete, then its record; EndpointBusyError if not yet.

    ``hosting``: the clients of the stage's account (default ``clients``, the platform's)."""
    names = ProjectNames(record.project_name, record.project_id)
    removed = remove_stage(hosting or clients, names, record.stage)
    records.delete(clients.dynamodb, registry_table, record.endpoint_name)
    logger.info(
        "Removed %s of deleted project %s: %s",
        record.endpoint_name,
        names.project_id,
        removed.as_dict(),
    )
    return removed
