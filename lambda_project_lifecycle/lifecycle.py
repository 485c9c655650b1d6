"""The project lifecycle: the ``Custom::ProjectLifecycle`` resource of every product.

Create: validate -> repository (made and seeded) -> model groups -> registry records.
Update: reconcile (missing repository or groups, tags, settings); never deletes.
Delete: the project is flagged as being deleted (approvals of it are ignored from
then on) -> endpoints, endpoint configs, models, alarms and autoscaling targets of the
project (whatever ``OnDelete`` says: endpoints are never data; one SageMaker is still
creating or updating is removed by the endpoint-events handler once it is free) ->
model groups as ``OnDelete`` says -> repository as ``OnDelete`` says -> registry records.

Every step is idempotent, so a retried Create converges and a Delete after a
Create that failed half-way removes what that Create made.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambda_project_lifecycle import environment, model_groups, project_registry
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.custom_resource import (
    DEFAULT_TIMEOUT_MARGIN_SECONDS,
    Outcome,
    Sender,
    answer_request,
    put_response,
)
from lambda_project_lifecycle.deployments import teardown
from lambda_project_lifecycle.environment import REGISTRY_TABLE_ENV
from lambda_project_lifecycle.errors import InvalidProjectError, LifecycleError
from lambda_project_lifecycle.project import ProjectSpec, changed_immutable_properties
from lambda_project_lifecycle.repositories import lifecycle_steps

logger = logging.getLogger(__name__)
# The Lambda runtime leaves the root logger at WARNING; the package logs its steps at INFO.
logging.getLogger("lambda_project_lifecycle").setLevel(logging.INFO)


@dataclass(frozen=True)
class Settings:
    """What the Lambda reads from its environment (argument > environment)."""

    registry_table: str
    artifacts_bucket: str = ""
    project_data_bucket: str = ""
    seed_code_keys: Mapping[str, str] = field(default_factory=dict)  # scenario -> object key
    mlflow_tracking_uri: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        table = environ.get(REGISTRY_TABLE_ENV, "")
        if not table:
            raise LifecycleError(f"The Lambda environment variable {REGISTRY_TABLE_ENV} is not set")
        prefix = environment.SEED_CODE_KEY_ENV.format(scenario="")
        return cls(
            registry_table=table,
            artifacts_bucket=environ.get(environment.ARTIFACTS_BUCKET_ENV, ""),
            project_data_bucket=environ.get(environment.PROJECT_DATA_BUCKET_ENV, ""),
            seed_code_keys={
                name[len(prefix) :].lower(): value
                for name, value in environ.items()
                if name.startswith(prefix) and value
            },
            mlflow_tracking_uri=environ.get(environment.MLFLOW_TRACKING_URI_ENV, ""),
        )

    @property
    def seed_source(self) -> lifecycle_steps.SeedSource:
        return lifecycle_steps.SeedSource(
            self.artifacts_bucket,
            self.project_data_bucket,
            self.seed_code_keys,
            self.mlflow_tracking_uri,
        )


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any] | None:
    """Lambda entry point: ``lambda_project_lifecycle.lifecycle.handler``."""
    return handle_event(event, context)


def handle_event(
    event: Mapping[str, Any],
    context: Any,
    *,
    clients: AwsClients | None = None,
    settings: Settings | None = None,
    send: Sender = put_response,
    timeout_margin_seconds: float = DEFAULT_TIMEOUT_MARGIN_SECONDS,
) -> dict[str, Any] | None:
    """Answer one CloudFormation request; returns the answer that was sent."""
    logger.info(
        "%s %s for stack %s",
        event.get("RequestType"),
        event.get("LogicalResourceId"),
        event.get("StackId"),
    )
    lifecycle = ProjectLifecycle(clients or AwsClients(), settings)
    return answer_request(
        event,
        context,
        create=lifecycle.create,
        update=lifecycle.update,
        delete=lifecycle.delete,
        fallback_physical_id=_fallback_physical_id(event),
        send=send,
        timeout_margin_seconds=timeout_margin_seconds,
    )


class ProjectLifecycle:
    def __init__(self, clients: AwsClients, settings: Settings | None) -> None:
        self._clients = clients
        self._settings = settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_environment()
        return self._settings

    def create(self, event: Mapping[str, Any]) -> Outcome:
        spec = ProjectSpec.from_properties(event.get("ResourceProperties", {}))
        return self._converge(spec, event, reconcile=False)

    def update(self, event: Mapping[str, Any]) -> Outcome:
        changed = changed_immutable_properties(
            event.get("OldResourceProperties", {}), event.get("ResourceProperties", {})
        ) + lifecycle_steps.changed_repository_properties(event)
        if changed:
            raise InvalidProjectError(
                f"{', '.join(changed)} cannot change after the project is created; "
                "create a new project instead"
            )
        spec = ProjectSpec.from_properties(event.get("ResourceProperties", {}))
        return self._converge(spec, event, reconcile=True)

    def delete(self, event: Mapping[str, Any]) -> Outcome:
        physical_id = str(event.get("PhysicalResourceId", ""))
        try:
            spec = ProjectSpec.from_properties(event.get("ResourceProperties", {}))
        except InvalidProjectError as exc:
            # Nothing can have been made from properties that never validated.
            logger.info("Nothing to delete: %s", exc)
            return Outcome(physical_id)
        if physical_id and physical_id != spec.physical_resource_id:
            logger.info("Nothing to delete: %s is not this project's resource id", physical_id)
            return Outcome(physical_id)
        # First: from now on the deployment handlers ignore approvals of this project, so
        # none of them makes an endpoint after the teardown below.
        project_registry.mark_project_deleting(
            self._clients.dynamodb, self.settings.registry_table, spec.project_id
        )
        deployments = teardown.remove_project_deployments(
            self._clients, spec.names, self.settings.registry_table, now=datetime.now(UTC)
        )
        removal = model_groups.remove_model_groups(
            spec, self._clients.sagemaker, delete_packages=spec.on_delete == "delete-all"
        )
        repository = lifecycle_steps.delete_repository(
            spec, event, self._clients, self.settings.registry_table
        )
        project_registry.remove_project(self._clients.dynamodb, self.settings.registry_table, spec)
        logger.info(
            "Deleted project %s: endpoints %s (removed once SageMaker is done with them: %s), "
            "groups deleted %s, kept %s, packages deleted %d; repository %s",
            spec.project_id,
            deployments.endpoints,
            deployments.pending,
            removal.deleted,
            removal.kept,
            removal.packages_deleted,
            repository.outcome if repository else "none",
        )
        return Outcome(spec.physical_resource_id)

    def _converge(self, spec: ProjectSpec, event: Mapping[str, Any], *, reconcile: bool) -> Outcome:
        table = self.settings.registry_table
        context = lifecycle_steps.repository_context(spec, event, self._clients)
        repository = lifecycle_steps.create_repository(
            context,
            self.settings.seed_source,
            reconcile=reconcile,
            properties=event.get("ResourceProperties", {}),
        )
        try:
            groups = model_groups.ensure_model_groups(spec, self._clients.sagemaker)
            project_registry.save_project(
                self._clients.dynamodb, table, spec, stack_id=str(event.get("StackId", ""))
            )
            project_registry.save_repository(
                self._clients.dynamodb,
                table,
                lifecycle_steps.repository_record(context, repository),
            )
        except Exception:
            if not reconcile:
                repository.undo()  # a failed Create leaves no repository of its own behind
            raise
        data = project_attributes(spec, groups)
        data.update(repository.attributes())
        return Outcome(spec.physical_resource_id, data)


def project_attributes(spec: ProjectSpec, groups: Mapping[str, str]) -> dict[str, str]:
    """The ``Fn::GetAtt`` attributes of the custom resource."""
    data = {
        "ProjectPrefix": spec.names.prefix,
        "ModelGroups": ",".join(groups.values()),
    }
    for kind, name in groups.items():
        data[f"ModelGroup{kind.capitalize()}"] = name
        data[f"ModelGroup{kind.capitalize()}ArnName"] = (
            name.lower()
        )  # SageMaker ARNs are lower case
    data["ProjectPrefixArnName"] = spec.names.prefix.lower()
    data["TrainingProjectName"] = spec.names.training_project()
    data["TrainingRoleName"] = spec.names.training_role()
    return data


def _fallback_physical_id(event: Mapping[str, Any]) -> str:
    try:
        return ProjectSpec.from_properties(event.get("ResourceProperties", {})).physical_resource_id
    except InvalidProjectError:
        return f"invalid-project-{str(event.get('RequestId', 'unknown'))[:36]}"
