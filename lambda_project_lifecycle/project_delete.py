"""Project Delete: the steps of the ``Custom::ProjectLifecycle`` resource's Delete.

The project is flagged as being deleted (approvals of it are ignored from then on) ->
endpoints, endpoint configs, models, alarms and autoscaling targets of the project
(whatever ``OnDelete`` says: endpoints are never data; one SageMaker is still creating or
updating is removed by the endpoint-events handler once it is free) -> the project's
pipelines (definitions its repository holds, never data) -> model groups as ``OnDelete``
says -> its objects in the project data bucket (``delete-all`` only) -> repository as
``OnDelete`` says -> registry records.

Every step is idempotent: a retried Delete, or one after a Create that failed half-way,
converges. ``checkpoint`` is called before every change: once the request is answered
(the deadline timer), the work stops.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lambda_project_lifecycle import (
    model_groups,
    project_data,
    project_pipelines,
    project_registry,
)
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.custom_resource import Checkpoint
from lambda_project_lifecycle.deployments import teardown
from lambda_project_lifecycle.deployments.accounts import stage_accounts_for
from lambda_project_lifecycle.project import ProjectSpec
from lambda_project_lifecycle.repositories import lifecycle_steps
from lambda_project_lifecycle.stage_accounts import StageAccountIds

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeleteSettings:
    """What a Delete reads from the Lambda's settings."""

    registry_table: str
    project_data_bucket: str
    stage_accounts: StageAccountIds | None


def delete_project(
    spec: ProjectSpec,
    event: Mapping[str, Any],
    clients: AwsClients,
    settings: DeleteSettings,
    checkpoint: Checkpoint,
) -> None:
    """Remove what the project made, keeping what ``OnDelete`` keeps."""
    table = settings.registry_table
    delete_all = spec.on_delete == "delete-all"
    checkpoint("flagging the project as being deleted")
    # First: from now on the deployment handlers ignore approvals of this project, so
    # none of them makes an endpoint after the teardown below.
    project_registry.mark_project_deleting(clients.dynamodb, table, spec.project_id)
    checkpoint("removing the project's endpoints")
    accounts = stage_accounts_for(clients, settings.stage_accounts)
    deployments = teardown.remove_project_deployments(
        clients,
        spec.names,
        table,
        now=datetime.now(UTC),
        hosting=accounts.clients,
        stages=accounts.stages(),
    )
    pipelines = project_pipelines.remove_project_pipelines(
        clients.sagemaker,
        spec.names,
        request_id=str(event.get("RequestId", "")),
        checkpoint=checkpoint,
    )
    removal = model_groups.remove_model_groups(
        spec, clients.sagemaker, delete_packages=delete_all, checkpoint=checkpoint
    )
    objects = (
        project_data.remove_project_data(
            clients.client("s3"), settings.project_data_bucket, spec.names, checkpoint=checkpoint
        )
        if delete_all
        else 0
    )
    repository = lifecycle_steps.delete_repository(
        spec, event, clients, table, checkpoint=checkpoint
    )
    checkpoint("removing the project from the registry")
    project_registry.remove_project(clients.dynamodb, table, spec)
    logger.info(
        "Deleted project %s: endpoints %s (removed once SageMaker is done with them: %s), "
        "pipelines %s, groups deleted %s, kept %s, packages deleted %d; data objects %s; "
        "repository %s",
        spec.project_id,
        deployments.endpoints,
        deployments.pending,
        pipelines,
        removal.deleted,
        removal.kept,
        removal.packages_deleted,
        f"{objects} deleted" if delete_all else "kept",
        repository.outcome if repository else "none",
    )
