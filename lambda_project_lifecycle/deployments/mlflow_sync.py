"""The MLflow sync: what an alias change asks of the deployment engine.

Both triggers end here: the webhook receiver (:mod:`.mlflow_webhook`, self-hosted
MLflow) and the scheduled reconcile (:mod:`.mlflow_reconcile`, SageMaker managed MLflow
and the safety net for a missed webhook). A registered model is a project's when the
project registry has it (``mlflow-model#<name>``, written at project Create); its
tracking server is the one the project was created with (``MlflowTrackingUri``), called
over its REST API: an ``https://`` URL directly (with the platform user's credentials when
it is the server the platform runs), a SageMaker managed server or app (an ``arn:`` URI)
at the URL its ARN resolves to, every call SigV4-signed (:mod:`.mlflow_sagemaker`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.deployments.context import ProjectContext
from lambda_project_lifecycle.deployments.deployer import CONTAINER_CLIENTS, Deployer
from lambda_project_lifecycle.deployments.mlflow_credentials import ServerCredentials
from lambda_project_lifecycle.deployments.mlflow_models import DEPLOY_ALIAS
from lambda_project_lifecycle.deployments.mlflow_rest import (
    MlflowRegistry,
    MlflowUnreachableError,
    parse_reference,
)
from lambda_project_lifecycle.deployments.mlflow_sagemaker import ManagedServers
from lambda_project_lifecycle.deployments.outcomes import Outcome, ignored
from lambda_project_lifecycle.deployments.plan import variant_for
from lambda_project_lifecycle.scenarios import STAGE_OF_GROUP


class MlflowSync:
    """One invocation's sync (SageMaker servers are resolved once each per instance).

    ``managed``: by default with the engine's own SageMaker client and credentials.
    """

    def __init__(
        self,
        deployer: Deployer,
        http: Any,
        credentials: ServerCredentials | None = None,
        managed: ManagedServers | None = None,
    ) -> None:
        self.deployer = deployer
        self._http = http
        self._credentials = credentials or ServerCredentials("", "")
        self._managed = managed or ManagedServers(deployer.context.platform)

    @classmethod
    def from_environment(cls) -> MlflowSync:
        """The handlers' sync: the platform's clients, and its user's credentials for the
        server the platform runs (read when first needed)."""
        return cls(
            Deployer.from_environment(),
            CONTAINER_CLIENTS.http,
            ServerCredentials.from_environment(
                lambda **kwargs: CONTAINER_CLIENTS.client("secretsmanager").get_secret_value(
                    **kwargs
                )
            ),
        )

    @property
    def _table(self) -> str:
        return self.deployer.context.settings.registry_table

    def owner(self, model_name: str) -> tuple[ProjectContext, str, MlflowRegistry] | Outcome:
        """(project, group kind, its tracking server) of ``model_name``, or why it is ignored."""
        context = self.deployer.context
        entry = project_registry.load_mlflow_model(
            context.platform.dynamodb, self._table, model_name
        )
        if entry is None or entry.get("GroupKind") not in STAGE_OF_GROUP:
            return ignored(f"MLflow model {model_name} is not a project's")
        record = project_registry.load_project(
            context.platform.dynamodb, self._table, str(entry["ProjectId"])
        )
        if record is None:
            return ignored(f"the project of MLflow model {model_name} is gone")
        project = ProjectContext.from_record(record)
        return (
            project,
            str(entry["GroupKind"]),
            self.server(str(record.get("MlflowTrackingUri", ""))),
        )

    def server(self, tracking_uri: str) -> MlflowRegistry:
        if tracking_uri.startswith("arn:"):
            return self._managed.registry(tracking_uri, self._http)
        if not tracking_uri.startswith(("http://", "https://")):
            raise MlflowUnreachableError(
                f"the tracking server {tracking_uri or '(none)'} is neither an http(s) URL "
                "nor a SageMaker MLflow ARN"
            )
        return MlflowRegistry(
            tracking_uri, self._http, headers=self._credentials.headers_for(tracking_uri)
        )

    def _deploying_owner(
        self, model_name: str, alias: str
    ) -> tuple[ProjectContext, str, MlflowRegistry] | Outcome:
        """:meth:`owner`, when ``alias`` is the one that deploys."""
        if alias != DEPLOY_ALIAS:
            return ignored(f"alias {alias!r} deploys nothing (only {DEPLOY_ALIAS!r} does)")
        return self.owner(model_name)

    def alias_set(self, model_name: str, alias: str, version: str, at: datetime) -> Outcome:
        owner = self._deploying_owner(model_name, alias)
        if isinstance(owner, Outcome):
            return owner
        project, kind, server = owner
        if project.deleting:
            return ignored(f"project {project.names.project_id} is being deleted")
        # The alias as the server has it now: a late delivery of an old move deploys nothing.
        aliases = server.aliases(model_name)
        if aliases is None:
            return ignored(f"MLflow model {model_name} no longer exists")
        if aliases.get(DEPLOY_ALIAS) != version:
            return ignored(
                f"alias {DEPLOY_ALIAS!r} of {model_name} is on version "
                f"{aliases.get(DEPLOY_ALIAS, 'none')} now, not {version}"
            )
        found = server.version(model_name, version)
        if found is None:
            return ignored(f"MLflow model {model_name} has no version {version}")
        return self.deployer.aliases.deploy(project, kind, found, at)

    def alias_removed(self, model_name: str, alias: str, at: datetime) -> Outcome:
        owner = self._deploying_owner(model_name, alias)
        if isinstance(owner, Outcome):
            return owner
        project, kind, server = owner
        aliases = server.aliases(model_name) or {}
        if DEPLOY_ALIAS in aliases:  # set again since: deploy what it names now
            return self.alias_set(model_name, DEPLOY_ALIAS, aliases[DEPLOY_ALIAS], at)
        return self.deployer.aliases.removed(
            project, kind, model_name, at, lambda name, v: server.version(name, v) is not None
        )

    def reconcile_model(self, model_name: str, at: datetime) -> Outcome:
        """Make the stage serve what the alias says now (the reconcile's step, idempotent)."""
        owner = self.owner(model_name)
        if isinstance(owner, Outcome):
            return owner
        project, kind, server = owner
        aliases = server.aliases(model_name)
        wanted = (aliases or {}).get(DEPLOY_ALIAS)
        stage = self.deployer.aliases.stage_of(kind)
        record = self.deployer.context.load_record(project.names.endpoint(stage))
        variant = variant_for(project.scenario, stage, kind)
        current = record.desired.get(variant) if record else None
        served = parse_reference(current.model_package_arn) if current else None
        served_version = served[1] if served and served[0] == model_name else None
        if wanted is not None and wanted != served_version and not project.deleting:
            return self.alias_set(model_name, DEPLOY_ALIAS, wanted, at)
        if wanted is None and served_version is not None:
            return self.alias_removed(model_name, DEPLOY_ALIAS, at)
        return Outcome(
            "unchanged",
            project.names.endpoint(stage),
            stage,
            f"{model_name}: the endpoint serves what alias {DEPLOY_ALIAS!r} names "
            f"({wanted or 'none'})",
        )
