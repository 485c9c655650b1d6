"""What every part of the deployment engine shares: the project, the clients, the
settings, the clock, the notices and the results written onto a stage's record.

The platform's own clients read and write the project registry, the project data
bucket and the notices; the clients of a stage's account (``accounts``) make and
watch what the stage hosts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import records
from lambda_project_lifecycle.deployments.accounts import SameAccount, StageAccounts
from lambda_project_lifecycle.deployments.config import (
    StageConfig,
    hosting_instance_types,
    load_schema,
    load_stage_config,
)
from lambda_project_lifecycle.deployments.errors import DeploymentError, RecordConflictError
from lambda_project_lifecycle.deployments.notifications import Notice, Notifier
from lambda_project_lifecycle.deployments.outcomes import NOTICE_STATUS, Outcome
from lambda_project_lifecycle.deployments.records import EndpointRecord
from lambda_project_lifecycle.deployments.settings import DeploySettings
from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.project_registry import MODEL_ROLE_RECORD_KEY

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ProjectContext:
    """What the handlers need to know of a project, from its registry record."""

    names: ProjectNames
    scenario: str
    deleting: bool = False  # its Delete has started: approvals are ignored
    # The project's own model role (model_role_isolation "per-project"); "": the shared one.
    model_role_arn: str = ""

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ProjectContext:
        return cls(
            ProjectNames(str(record["ProjectName"]), str(record["ProjectId"])),
            str(record["Scenario"]),
            bool(record.get("Deleting", False)),
            str(record.get(MODEL_ROLE_RECORD_KEY) or ""),
        )

    @property
    def tags(self) -> list[dict[str, str]]:
        return self.names.tags()


class DeploymentContext:
    def __init__(
        self,
        clients: AwsClients,
        settings: DeploySettings,
        *,
        notifier: Notifier | None = None,
        now: Callable[[], datetime] = utc_now,
        accounts: StageAccounts | None = None,
    ) -> None:
        self.platform = clients
        self.settings = settings
        self.accounts: StageAccounts = accounts or SameAccount(clients)
        self.now = now
        self._notifier = notifier

    def hosting(self, stage: str) -> AwsClients:
        """The clients of the account that hosts ``stage``."""
        return self.accounts.clients(stage)

    @property
    def notifier(self) -> Notifier:
        if self._notifier is None:
            secret = self.settings.webhook_secret_arn
            self._notifier = Notifier(
                self.platform.client("sns"),
                self.settings.topic_arn,
                secrets=self.platform.client("secretsmanager") if secret else None,
                webhook_secret_arn=secret,
            )
        return self._notifier

    # --- the registry ------------------------------------------------------------------

    def load_project(self, project_id: str) -> ProjectContext | None:
        record = project_registry.load_project(
            self.platform.dynamodb, self.settings.registry_table, project_id
        )
        return ProjectContext.from_record(record) if record else None

    def load_model_group(self, group_name: str) -> dict[str, Any] | None:
        """Which project and stage a model group belongs to; None when it is not a project's."""
        return project_registry.load_model_group(
            self.platform.dynamodb, self.settings.registry_table, group_name
        )

    def load_record(self, endpoint_name: str) -> EndpointRecord | None:
        return records.load(self.platform.dynamodb, self.settings.registry_table, endpoint_name)

    def load_or_new_record(self, project: ProjectContext, stage: str) -> EndpointRecord:
        return records.load_or_new(
            self.platform.dynamodb, self.settings.registry_table, project.names, stage
        )

    def save_record(self, record: EndpointRecord) -> None:
        """Raises :class:`RecordConflictError` when another handler wrote it first."""
        records.save(self.platform.dynamodb, self.settings.registry_table, record, now=self.now())

    def update_record(
        self, project: ProjectContext, stage: str, change: Callable[[EndpointRecord], None]
    ) -> EndpointRecord:
        return records.update(
            self.platform.dynamodb,
            self.settings.registry_table,
            project.names,
            stage,
            change,
            now=self.now,
        )

    def save_result(self, record: EndpointRecord) -> None:
        """Write a result onto the record; a concurrent change wins, keeping only the result."""
        for _ in range(records.SAVE_ATTEMPTS):
            try:
                self.save_record(record)
                return
            except RecordConflictError:
                latest = self.load_record(record.endpoint_name)
                if latest is None:
                    return
                latest.last_result = record.last_result
                if not latest.pending:
                    latest.status = record.status
                record = latest
        raise DeploymentError(f"the registry record of {record.endpoint_name} kept changing")

    def record_result(self, endpoint_name: str, result: dict[str, Any]) -> None:
        record = self.load_record(endpoint_name)
        if record is None:
            return
        record.last_result = {**result, "at": self.now().isoformat()}
        self.save_result(record)

    # --- the project's settings and people ----------------------------------------------

    def stage_config(self, project: ProjectContext, stage: str) -> StageConfig:
        return load_stage_config(
            self.platform.client("s3"),
            self.settings.data_bucket,
            project.names.prefix,
            stage=stage,
            scenario=project.scenario,
            schema=load_schema(self.settings.schema_path),
            hosting_instance_types=hosting_instance_types(self.hosting(stage).sagemaker),
        )

    def announce(self, project: ProjectContext, outcome: Outcome) -> Outcome:
        status = NOTICE_STATUS.get(outcome.action)
        if status is None:
            return outcome
        delivery = self.notifier.send(
            Notice(
                status=status,
                project_name=project.names.project_name,
                project_id=project.names.project_id,
                stage=outcome.stage,
                endpoint_name=outcome.endpoint_name,
                summary=outcome.detail,
                details=outcome.data,
            )
        )
        outcome.data["notified"] = {
            "sns": bool(delivery.sns_message_id),
            "webhook": delivery.webhook,
        }
        return outcome

    def failed(
        self,
        project: ProjectContext,
        stage: str,
        reason: str,
        *,
        announce: bool = True,
        **data: Any,
    ) -> Outcome:
        """A deployment that cannot go ahead: the endpoint is left as it is; people are told
        (by the caller when ``announce`` is False)."""
        logger.error("Deployment to %s of %s failed: %s", stage, project.names.prefix, reason)
        endpoint = project.names.endpoint(stage)
        self.record_result(endpoint, {"status": "FAILED", "reason": reason, **data})
        outcome = Outcome("failed", endpoint, stage, reason, dict(data))
        return self.announce(project, outcome) if announce else outcome
