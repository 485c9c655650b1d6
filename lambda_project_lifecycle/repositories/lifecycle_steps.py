"""The repository steps of the project lifecycle, kept out of ``lifecycle.py``.

``ProjectLifecycle`` calls :func:`create_repository` (Create and Update) and
:func:`delete_repository` (Delete); both read the repository properties of the
event and where the stack lives.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lambda_project_lifecycle import __version__, project_registry
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.custom_resource import Checkpoint, no_checkpoint
from lambda_project_lifecycle.environment import (  # names the lifecycle Settings reads
    ARTIFACTS_BUCKET_ENV,
    MLFLOW_TRACKING_URI_ENV,
    PROJECT_DATA_BUCKET_ENV,
    SEED_CODE_KEY_ENV,
)
from lambda_project_lifecycle.errors import InvalidProjectError, LifecycleError
from lambda_project_lifecycle.location import StackLocation
from lambda_project_lifecycle.project import ProjectSpec
from lambda_project_lifecycle.repositories.git_transport import GitEndpoint
from lambda_project_lifecycle.repositories.project_repository import (
    ProjectRepository,
    RepositoryRemoval,
    ensure_project_repository,
    remove_project_repository,
)
from lambda_project_lifecycle.repositories.providers import (
    Repository,
    RepositoryContext,
    provider_for,
)
from lambda_project_lifecycle.repositories.seed import (
    SeedCommit,
    build_seed_commit,
    load_seed_code,
    project_config,
)
from lambda_project_lifecycle.repositories.settings import RepositorySettings
from lambda_project_lifecycle.resource_properties import (
    DEFAULT_PROVIDER,
    MLFLOW_SERVER_ARN_PATTERN,
    MLFLOW_TRACKING_URI_PROPERTY,
    PROVIDER,
    REPOSITORY_PROPERTIES,
)

logger = logging.getLogger(__name__)

# https:// for a self-hosted server; arn: for a SageMaker managed one (the sagemaker-mlflow
# plugin resolves it). Never plain http: the builds send the tracking server credentials
# and models; tests and the sandbox serve theirs over TLS with a CA of their own.
MLFLOW_URI_SCHEMES = ("https://", "arn:")


@dataclass(frozen=True)
class SeedSource:
    """Where the seed code is and what ``project.json`` points at (from the Lambda environment)."""

    artifacts_bucket: str
    project_data_bucket: str
    seed_code_keys: Mapping[str, str]
    mlflow_tracking_uri: str = ""

    def key_for(self, scenario: str) -> str:
        key = self.seed_code_keys.get(scenario, "")
        if not key:
            variable = SEED_CODE_KEY_ENV.format(scenario=scenario.upper())
            raise LifecycleError(f"The Lambda environment variable {variable} is not set")
        return key

    def require(self) -> None:
        for variable, value in (
            (ARTIFACTS_BUCKET_ENV, self.artifacts_bucket),
            (PROJECT_DATA_BUCKET_ENV, self.project_data_bucket),
        ):
            if not value:
                raise LifecycleError(f"The Lambda environment variable {variable} is not set")


def repository_context(
    spec: ProjectSpec, event: Mapping[str, Any], clients: AwsClients
) -> RepositoryContext:
    """Parse the repository properties (errors name the parameter) for the stack's region."""
    location = StackLocation.from_event(event)
    settings = RepositorySettings.from_properties(
        event.get("ResourceProperties", {}), names=spec.names, region=location.region
    )
    return RepositoryContext(
        spec=spec,
        settings=settings,
        clients=clients,
        region=location.region,
        account_id=location.account_id,
    )


def changed_repository_properties(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Repository properties that differ between ``old`` and ``new`` (a missing one counts as
    its default, so a project made before these properties existed keeps its CodeCommit
    repository)."""

    def value(properties: Mapping[str, Any], key: str) -> str:
        text = str(properties.get(key) or "").strip()
        return text or (DEFAULT_PROVIDER if key == PROVIDER else "")

    return [key for key in REPOSITORY_PROPERTIES if value(old, key) != value(new, key)]


def create_repository(
    context: RepositoryContext,
    source: SeedSource,
    *,
    reconcile: bool = False,
    tracking_uri: str = "",
    recorded: ProjectRepository | None = None,
    checkpoint: Checkpoint = no_checkpoint,
) -> ProjectRepository:
    """Make and seed the repository (Create), or reconcile it (Update: the seed code and
    the Lambda's seed settings are read only if it must be seeded). ``tracking_uri`` goes
    into ``project.json`` (MLflow flavour)."""
    spec = context.spec

    def seed() -> SeedCommit:
        source.require()
        files = load_seed_code(
            context.clients.client("s3"),
            source.artifacts_bucket,
            source.key_for(spec.scenario.name),
        )
        config = project_config(
            spec,
            region=context.region,
            account_id=context.account_id,
            bucket=source.project_data_bucket,
            mlflow_tracking_uri=tracking_uri,
        )
        return build_seed_commit(files, config, spec, version=__version__, when=context.now())

    return ensure_project_repository(
        context, seed, reconcile=reconcile, recorded=recorded, checkpoint=checkpoint
    )


def mlflow_server_arn(tracking_uri: str, location: StackLocation, prefix: str) -> str:
    """What the project's training role may call ``sagemaker-mlflow:*`` on: the tracking
    server its ``project.json`` names when that is a SageMaker ARN; else (a self-hosted
    server, which IAM does not guard) the managed server the project would own by name."""
    if tracking_uri.startswith("arn:"):
        return tracking_uri
    return (
        f"arn:{location.partition}:sagemaker:{location.region}:{location.account_id}:"
        f"mlflow-tracking-server/{prefix.lower()}"
    )


def mlflow_tracking_uri(properties: Mapping[str, Any], source: SeedSource) -> str:
    """The MLflow flavour's tracking server: the project's parameter, else the platform's.

    Without one the seed code could not register a model, so the Create fails
    (before anything is made) and says where to set it.
    """
    uri = str(properties.get(MLFLOW_TRACKING_URI_PROPERTY) or "").strip()
    origin = f"the {MLFLOW_TRACKING_URI_PROPERTY} parameter"
    if not uri:
        uri = source.mlflow_tracking_uri.strip()
        origin = f"the platform's {MLFLOW_TRACKING_URI_PROPERTY} ({MLFLOW_TRACKING_URI_ENV})"
    if not uri:
        raise InvalidProjectError(
            "The MLflow flavour needs a tracking server: set the project's "
            f"{MLFLOW_TRACKING_URI_PROPERTY} parameter, or the platform stack's "
            f"{MLFLOW_TRACKING_URI_PROPERTY} parameter for every project"
        )
    if not uri.startswith(MLFLOW_URI_SCHEMES):
        raise InvalidProjectError(
            f"{origin} must be an https:// URL or the ARN of a SageMaker MLflow tracking "
            f"server (got {uri!r})"
        )
    if uri.startswith("arn:") and not re.fullmatch(MLFLOW_SERVER_ARN_PATTERN, uri):
        raise InvalidProjectError(
            f"{origin} {uri!r} is not the ARN of a SageMaker MLflow tracking server "
            "(arn:<partition>:sagemaker:<region>:<account>:mlflow-tracking-server/<name>)"
        )
    if not uri.startswith("arn:"):
        try:
            parts = urlsplit(uri)
        except ValueError as exc:
            raise InvalidProjectError(f"{origin} is not a URL") from exc
        if parts.username or parts.password:
            # project.json is committed to the repository: every clone would hold them.
            raise InvalidProjectError(
                f"{origin} must not hold credentials (user:password@); the builds "
                "authenticate to the tracking server otherwise"
            )
    return uri


def repository_record(context: RepositoryContext, repository: ProjectRepository) -> dict[str, Any]:
    spec = context.spec
    return {
        "pk": project_registry.repository_key(context.settings.registry_key()),
        "ProjectId": spec.project_id,
        "ProjectName": spec.project_name,
        "Scenario": spec.scenario.name,
        "Registry": spec.registry,
        "Provider": context.settings.provider,
        "RepositoryName": repository.repository.name,
        "CloneUrl": repository.repository.clone_url,
        "MadeForProject": repository.repository.ours,
        "SeedCommit": repository.commit_id,
        "WebUrl": repository.repository.web_url,
        "TrainingSourceType": repository.repository.source_type,
        "TrainingProject": spec.names.training_project(),
    }


# What a repository record must hold to stand in for the provider on Update.
RECORDED_FIELDS = ("RepositoryName", "CloneUrl", "SeedCommit", "WebUrl", "TrainingSourceType")


def recorded_repository(context: RepositoryContext, table: str) -> ProjectRepository | None:
    """The project's repository as the registry recorded it on the last success; None if
    there is no record of this project (or an older record without every attribute)."""
    spec = context.spec
    record = project_registry.load_repository(
        context.clients.dynamodb, table, context.settings.registry_key()
    )
    if record is None or record.get("ProjectId") != spec.project_id:
        return None
    if not all(isinstance(record.get(name), str) for name in RECORDED_FIELDS):
        return None
    clone_url = str(record["CloneUrl"])
    repository = Repository(
        provider=context.settings.provider,
        name=str(record["RepositoryName"]),
        clone_url=clone_url,
        # Never used: a recorded repository is only reported, never pushed to.
        endpoint=GitEndpoint(
            url=clone_url, username="", password="", http=None, credentials_from="the registry"
        ),
        ours=bool(record.get("MadeForProject")),
        web_url=str(record["WebUrl"]),
        source_type=str(record["TrainingSourceType"]),
    )
    return ProjectRepository(repository, provider_for(context), str(record["SeedCommit"]))


def remove_repository_record(context: RepositoryContext, table: str) -> None:
    """Remove the project's repository record (one of another project stays)."""
    key = context.settings.registry_key()
    record = project_registry.load_repository(context.clients.dynamodb, table, key)
    if record is not None and record.get("ProjectId") == context.spec.project_id:
        project_registry.remove_repository(context.clients.dynamodb, table, key)


def delete_repository(
    spec: ProjectSpec,
    event: Mapping[str, Any],
    clients: AwsClients,
    table: str,
    *,
    checkpoint: Checkpoint = no_checkpoint,
) -> RepositoryRemoval | None:
    """Remove or keep the repository; then its registry record.

    Strict only for ``delete-all`` of a project whose Create finished (the registry
    has its repository): then a repository that cannot be deleted fails the Delete,
    with the reason. Otherwise (``retain-data``, or a Create that failed early)
    unreadable settings, credentials or an unreachable provider are logged, and the
    Delete goes on.
    """
    try:
        context = repository_context(spec, event, clients)
    except InvalidProjectError as exc:
        logger.info("No repository to remove: %s", exc)
        return None
    key = context.settings.registry_key()
    record = project_registry.load_repository(clients.dynamodb, table, key)
    if record is not None and record.get("ProjectId") != spec.project_id:
        record = None  # another project's repository under the same key: never ours to remove
    try:
        removal = remove_project_repository(
            context, delete_all=spec.on_delete == "delete-all", checkpoint=checkpoint
        )
    except LifecycleError as exc:
        if record is not None and spec.on_delete == "delete-all":
            raise
        logger.warning("Leaving the repository of a project whose Create did not finish: %s", exc)
        removal = RepositoryRemoval("unreachable")
    if record is not None:
        checkpoint("removing the repository from the registry")
        project_registry.remove_repository(clients.dynamodb, table, key)
    logger.info("Repository of project %s: %s", spec.project_id, removal.outcome)
    return removal
