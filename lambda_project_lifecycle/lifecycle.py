"""The project lifecycle: the ``Custom::ProjectLifecycle`` resource of every product.

Create: validate -> model groups -> registry record.
Update: reconcile (missing groups, tags, settings); never deletes.
Delete: endpoints, endpoint configs, models, alarms and autoscaling targets of the
project (whatever ``OnDelete`` says: endpoints are never data) -> model groups as
``OnDelete`` says -> registry record.

Every step is idempotent, so a retried Create converges and a Delete after a
Create that failed half-way removes what that Create made.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambda_project_lifecycle import model_groups, project_registry
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.custom_resource import (
    DEFAULT_TIMEOUT_MARGIN_SECONDS,
    Outcome,
    Sender,
    answer_request,
    put_response,
)
from lambda_project_lifecycle.deployments import teardown
from lambda_project_lifecycle.errors import InvalidProjectError, LifecycleError
from lambda_project_lifecycle.project import ProjectSpec, changed_immutable_properties

logger = logging.getLogger(__name__)
# The Lambda runtime leaves the root logger at WARNING; the package logs its steps at INFO.
logging.getLogger("lambda_project_lifecycle").setLevel(logging.INFO)

REGISTRY_TABLE_ENV = "PROJECT_REGISTRY_TABLE"


@dataclass(frozen=True)
class Settings:
    """What the Lambda reads from its environment (argument > environment)."""

    registry_table: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        table = environ.get(REGISTRY_TABLE_ENV, "")
        if not table:
            raise LifecycleError(f"The Lambda environment variable {REGISTRY_TABLE_ENV} is not set")
        return cls(registry_table=table)


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
        return self._converge(spec, event)

    def update(self, event: Mapping[str, Any]) -> Outcome:
        changed = changed_immutable_properties(
            event.get("OldResourceProperties", {}), event.get("ResourceProperties", {})
        )
        if changed:
            raise InvalidProjectError(
                f"{', '.join(changed)} cannot change after the project is created; "
                "create a new project instead"
            )
        spec = ProjectSpec.from_properties(event.get("ResourceProperties", {}))
        return self._converge(spec, event)

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
        deployments = teardown.remove_project_deployments(
            self._clients, spec.names, self.settings.registry_table
        )
        removal = model_groups.remove_model_groups(
            spec, self._clients.sagemaker, delete_packages=spec.on_delete == "delete-all"
        )
        project_registry.remove_project(self._clients.dynamodb, self.settings.registry_table, spec)
        logger.info(
            "Deleted project %s: endpoints %s, groups deleted %s, kept %s, packages deleted %d",
            spec.project_id,
            deployments.endpoints,
            removal.deleted,
            removal.kept,
            removal.packages_deleted,
        )
        return Outcome(spec.physical_resource_id)

    def _converge(self, spec: ProjectSpec, event: Mapping[str, Any]) -> Outcome:
        table = self.settings.registry_table
        groups = model_groups.ensure_model_groups(spec, self._clients.sagemaker)
        project_registry.save_project(
            self._clients.dynamodb, table, spec, stack_id=str(event.get("StackId", ""))
        )
        return Outcome(spec.physical_resource_id, project_attributes(spec, groups))


def project_attributes(spec: ProjectSpec, groups: Mapping[str, str]) -> dict[str, str]:
    """The ``Fn::GetAtt`` attributes of the custom resource."""
    data = {
        "ProjectPrefix": spec.names.prefix,
        "ModelGroups": ",".join(groups.values()),
    }
    for kind, name in groups.items():
        data[f"ModelGroup{kind.capitalize()}"] = name
    return data


def _fallback_physical_id(event: Mapping[str, Any]) -> str:
    try:
        return ProjectSpec.from_properties(event.get("ResourceProperties", {})).physical_resource_id
    except InvalidProjectError:
        return f"invalid-project-{str(event.get('RequestId', 'unknown'))[:36]}"
