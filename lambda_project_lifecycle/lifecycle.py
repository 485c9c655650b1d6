"""The project lifecycle: the ``Custom::ProjectLifecycle`` resource of every product.

Create: validate -> repository (made and seeded) -> model groups -> registry records.
Update: reconcile (missing repository or groups, tags, settings); never deletes. What
may not change is compared with what the registry recorded on the last success, so
CloudFormation's rollback of a refused Update succeeds; a repository the registry
records needs neither its secret nor the seed code.
Delete: :mod:`lambda_project_lifecycle.project_delete` (endpoints, pipelines, model groups,
data objects and repository as ``OnDelete`` says, registry records).

Every step is idempotent, so a retried Create converges and a Delete after a
Create that failed half-way removes what that Create made. Once the request is
answered (the deadline timer answers FAILED shortly before the Lambda times
out), its work stops before the next change, and a Create takes back what it
made: CloudFormation's rollback Delete may run meanwhile, or be over.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambda_project_lifecycle import (
    environment,
    model_group_sharing,
    model_groups,
    project_delete,
    project_registry,
)
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.custom_resource import (
    DEFAULT_TIMEOUT_MARGIN_SECONDS,
    Outcome,
    Responder,
    Sender,
    answer_request,
    put_response,
)
from lambda_project_lifecycle.environment import REGISTRY_TABLE_ENV
from lambda_project_lifecycle.errors import InvalidProjectError, LifecycleError
from lambda_project_lifecycle.handler_logging import handler_logger
from lambda_project_lifecycle.location import StackLocation
from lambda_project_lifecycle.mlflow_build_access import (
    PlatformMlflowServer,
    check_tracking_server_kept,
)
from lambda_project_lifecycle.model_role_property import check_model_role_kept, project_model_role
from lambda_project_lifecycle.project import (
    IMMUTABLE_PROPERTIES,
    ProjectSpec,
    changed_immutable_properties,
    check_property_types,
)
from lambda_project_lifecycle.repositories import lifecycle_steps
from lambda_project_lifecycle.repositories.errors import RepositoryError
from lambda_project_lifecycle.repositories.providers import RepositoryContext
from lambda_project_lifecycle.resource_properties import (
    MLFLOW_TRACKING_URI_PROPERTY,
    MODEL_ROLE_ARN_PROPERTY,
    PER_PROJECT_MODEL_ROLE,
    REPOSITORY_PROPERTIES,
    SHARED_MODEL_ROLE,
)
from lambda_project_lifecycle.stage_accounts import STAGE_ACCOUNTS_ENV, StageAccountIds

logger = handler_logger(__name__)


@dataclass(frozen=True)
class Settings:
    """What the Lambda reads from its environment (argument > environment)."""

    registry_table: str
    artifacts_bucket: str = ""
    project_data_bucket: str = ""
    seed_code_keys: Mapping[str, str] = field(default_factory=dict)  # scenario -> object key
    mlflow_tracking_uri: str = ""
    # The accounts of the deployment stages (STAGE_ACCOUNTS); None: the platform's own.
    stage_accounts: StageAccountIds | None = None
    model_role_isolation: str = SHARED_MODEL_ROLE  # MODEL_ROLE_ISOLATION: shared | per-project
    # The self-hosted MLflow server the platform runs, as the projects' builds reach it.
    platform_mlflow: PlatformMlflowServer = field(default_factory=PlatformMlflowServer)

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
            stage_accounts=StageAccountIds.from_environment(environ.get(STAGE_ACCOUNTS_ENV)),
            model_role_isolation=environ.get(
                environment.MODEL_ROLE_ISOLATION_ENV, SHARED_MODEL_ROLE
            ),
            platform_mlflow=PlatformMlflowServer.from_environment(environ),
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
    fields = event if isinstance(event, Mapping) else {}
    logger.info(
        "%s %s for stack %s",
        fields.get("RequestType"),
        fields.get("LogicalResourceId"),
        fields.get("StackId"),
    )
    responder = Responder(event, send)
    lifecycle = ProjectLifecycle(clients or AwsClients(), settings, responder)
    return answer_request(
        event,
        context,
        create=lifecycle.create,
        update=lifecycle.update,
        delete=lifecycle.delete,
        fallback_physical_id=_fallback_physical_id(event),
        send=send,
        timeout_margin_seconds=timeout_margin_seconds,
        responder=responder,
    )


class ProjectLifecycle:
    """The operations of one request. ``responder`` (the request's) is checked before every
    step that changes something: once the request is answered, the work stops, and a Create
    undoes what it made (CloudFormation's rollback Delete may already have run)."""

    def __init__(
        self, clients: AwsClients, settings: Settings | None, responder: Responder | None = None
    ) -> None:
        self._clients = clients
        self._settings = settings
        self._responder = responder

    def _checkpoint(self, step: str) -> None:
        if self._responder is not None:
            self._responder.checkpoint(step)

    @property
    def _answered(self) -> bool:
        return self._responder is not None and self._responder.answered

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_environment()
        return self._settings

    def create(self, event: Mapping[str, Any]) -> Outcome:
        spec = ProjectSpec.from_properties(event.get("ResourceProperties", {}))
        return self._converge(spec, event, reconcile=False)

    def update(self, event: Mapping[str, Any]) -> Outcome:
        new = event.get("ResourceProperties", {})
        check_property_types(new)
        accepted = self._accepted_properties(event)
        changed = changed_immutable_properties(
            accepted, new
        ) + lifecycle_steps.changed_repository_properties(accepted, new)
        if changed:
            raise InvalidProjectError(
                f"{', '.join(changed)} cannot change after the project is created; "
                "create a new project instead"
            )
        check_model_role_kept(accepted, new)
        spec = ProjectSpec.from_properties(event.get("ResourceProperties", {}))
        return self._converge(spec, event, reconcile=True, accepted=accepted)

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
        settings = self.settings
        project_delete.delete_project(
            spec,
            event,
            self._clients,
            project_delete.DeleteSettings(
                settings.registry_table, settings.project_data_bucket, settings.stage_accounts
            ),
            self._checkpoint,
        )
        return Outcome(spec.physical_resource_id)

    def _accepted_properties(self, event: Mapping[str, Any]) -> Mapping[str, Any]:
        """The properties the project's last successful request was given, as the registry
        recorded them; else (no record of this stack's project) ``OldResourceProperties``.

        Compared with the recorded ones, the rollback of a refused Update (CloudFormation
        sends the old properties back) changes nothing and succeeds.
        """
        project_id = event.get("ResourceProperties", {}).get("ProjectId")
        if isinstance(project_id, str) and project_id:
            record = project_registry.load_project(
                self._clients.dynamodb, self.settings.registry_table, project_id
            )
            if (
                record is not None
                and record.get("StackId") == event.get("StackId")
                and isinstance(record.get("Properties"), dict)
            ):
                return dict(record["Properties"])
        return dict(event.get("OldResourceProperties", {}))

    def _converge(
        self,
        spec: ProjectSpec,
        event: Mapping[str, Any],
        *,
        reconcile: bool,
        accepted: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Create (``reconcile`` false) or Update; ``accepted``: an Update's last accepted
        properties (see :meth:`_accepted_properties`)."""
        table = self.settings.registry_table
        properties = event.get("ResourceProperties", {})
        model_role_arn = project_model_role(
            properties,
            required=not reconcile and self.settings.model_role_isolation == PER_PROJECT_MODEL_ROLE,
        )
        context = lifecycle_steps.repository_context(spec, event, self._clients)
        tracking_uri = self._tracking_uri(spec, properties, reconcile=reconcile)
        kept: dict[str, str] = {}
        if accepted is not None and spec.registry == "mlflow":
            kept = check_tracking_server_kept(
                accepted, properties, tracking_uri, self.settings.seed_source.mlflow_tracking_uri
            )
        recorded = lifecycle_steps.recorded_repository(context, table) if reconcile else None
        repository = lifecycle_steps.create_repository(
            context,
            self.settings.seed_source,
            reconcile=reconcile,
            tracking_uri=tracking_uri,
            recorded=recorded,
            checkpoint=self._checkpoint,
        )
        made_groups: list[str] = []
        try:
            groups = model_groups.ensure_model_groups(
                spec, self._clients.sagemaker, checkpoint=self._checkpoint, made=made_groups
            )
            model_group_sharing.share_model_groups(
                groups,
                self._clients.sagemaker,
                self.settings.stage_accounts,
                checkpoint=self._checkpoint,
            )
            self._checkpoint("writing the project to the registry")
            project_registry.save_project(
                self._clients.dynamodb,
                table,
                spec,
                stack_id=str(event.get("StackId", "")),
                properties={**recorded_properties(properties), **kept},
                mlflow_tracking_uri=tracking_uri,
                model_role_arn=model_role_arn,
            )
            self._checkpoint("writing the repository to the registry")
            project_registry.save_repository(
                self._clients.dynamodb,
                table,
                lifecycle_steps.repository_record(context, repository),
            )
        except Exception as exc:
            if reconcile:  # an Update never takes anything back
                raise
            # A failed Create leaves no repository of its own behind; one whose answer went
            # out already leaves nothing at all: the rollback Delete may be over.
            left = repository.undo()
            if self._answered:
                self._undo_create(spec, context, made_groups)
            if left and isinstance(exc, LifecycleError):
                raise RepositoryError(f"{exc}; {left}") from exc
            raise
        data = project_attributes(spec, groups)
        data.update(repository.attributes())
        if spec.registry == "mlflow":
            data["MlflowTrackingServerArn"] = lifecycle_steps.mlflow_server_arn(
                tracking_uri, StackLocation.from_event(event), spec.names.prefix
            )
            data.update(self.settings.platform_mlflow.build_attributes(tracking_uri))
        if reconcile:
            return Outcome(spec.physical_resource_id, data)

        def undo() -> None:
            repository.undo()
            self._undo_create(spec, context, made_groups)

        return Outcome(spec.physical_resource_id, data, on_late=undo)

    def _tracking_uri(
        self, spec: ProjectSpec, properties: Mapping[str, Any], *, reconcile: bool
    ) -> str:
        """The MLflow flavour's tracking server. Fixed when the repository is seeded (it is
        in project.json): an Update keeps the one the registry recorded."""
        if spec.registry != "mlflow":
            return ""
        if reconcile:
            record = project_registry.load_project(
                self._clients.dynamodb, self.settings.registry_table, spec.project_id
            )
            if record is not None and record.get("MlflowTrackingUri"):
                return str(record["MlflowTrackingUri"])
        return lifecycle_steps.mlflow_tracking_uri(properties, self.settings.seed_source)

    def _undo_create(
        self, spec: ProjectSpec, context: RepositoryContext, made_groups: list[str]
    ) -> None:
        """Take back a Create that was answered FAILED while it ran (best effort): the groups
        it made (still empty) and the project's registry records. CloudFormation deletes the
        resource of a failed Create, so nothing of the project may outlive that Delete."""
        table = self.settings.registry_table
        logger.warning(
            "Create of %s was answered before it finished: taking back groups %s and its "
            "registry records",
            spec.project_id,
            made_groups,
        )
        steps: list[tuple[str, Callable[[], object]]] = [
            (
                "model groups",
                lambda: model_groups.remove_model_groups(
                    spec, self._clients.sagemaker, delete_packages=False, only=made_groups
                ),
            ),
            (
                "repository record",
                lambda: lifecycle_steps.remove_repository_record(context, table),
            ),
            (
                "project records",
                lambda: project_registry.remove_project(self._clients.dynamodb, table, spec),
            ),
        ]
        for what, step in steps:
            try:
                step()
            except Exception:
                logger.exception("Could not take back the %s of project %s", what, spec.project_id)


def recorded_properties(properties: Mapping[str, Any]) -> dict[str, str]:
    """The properties an Update may not change, as the registry keeps them."""
    keys = (
        *IMMUTABLE_PROPERTIES,
        *REPOSITORY_PROPERTIES,
        MODEL_ROLE_ARN_PROPERTY,
        MLFLOW_TRACKING_URI_PROPERTY,
    )
    return {key: str(properties[key]) for key in keys if properties.get(key) is not None}


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
    """The id of a Create that failed before it knew its project's (of any request shape)."""
    if not isinstance(event, Mapping):
        return "invalid-request"
    properties = event.get("ResourceProperties")
    if isinstance(properties, Mapping):
        try:
            return ProjectSpec.from_properties(properties).physical_resource_id
        except InvalidProjectError:
            pass
    request_id = event.get("RequestId")
    suffix = request_id[:36] if isinstance(request_id, str) and request_id else "unknown"
    return f"invalid-project-{suffix}"
