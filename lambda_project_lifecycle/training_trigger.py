"""The training trigger: a push to a project's CodeCommit branch starts the project's build.

One EventBridge rule in the platform stack sends every "CodeCommit Repository
State Change" of a ``sagemaker-*`` repository here. The handler looks the
repository up in the project registry and starts the project's CodeBuild
project on the pushed commit, with the branch in ``SOURCE_BRANCH``:

| branch      | trains into (``MODEL_GROUPS``)                        |
|-------------|--------------------------------------------------------|
| ``prod``    | the scenario's production groups (promotion, no train) |
| ``dev``     | ``dev``                                                |
| ``feature-*`` | ``feature``                                          |
| other, tags, deleted branches | nothing (ignored)                    |

A branch at the project's seed commit (the Create's own push of ``prod`` and
``dev``) trains nothing either: the first build runs on the first real push.

Hosted repositories (GitHub, GitLab, Bitbucket) trigger their build through a
CodeBuild webhook with the same branch filter instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.aws_calls import call
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.environment import REGISTRY_TABLE_ENV
from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.handler_logging import handler_logger
from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.scenarios import SCENARIOS, branch_kind
from lambda_project_lifecycle.triggers import CODECOMMIT_DETAIL_TYPE, PUSH_EVENTS

logger = handler_logger(__name__)


@dataclass(frozen=True)
class BuildRequest:
    """What StartBuild gets: the project's build, the pushed commit, the branch's environment."""

    project: str
    source_version: str
    environment: dict[str, str] = field(default_factory=dict)
    idempotency_token: str = ""

    def start_build_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {
            "projectName": self.project,
            "sourceVersion": self.source_version,
            "environmentVariablesOverride": [
                {"name": name, "value": value, "type": "PLAINTEXT"}
                for name, value in sorted(self.environment.items())
            ],
        }
        if self.idempotency_token:
            arguments["idempotencyToken"] = self.idempotency_token
        return arguments


@dataclass(frozen=True)
class Ignored:
    reason: str


def route_push(event: Mapping[str, Any]) -> tuple[str, str, str] | Ignored:
    """(repository, branch, commit) of a push that trains, or why the event is ignored."""
    if event.get("detail-type") != CODECOMMIT_DETAIL_TYPE:
        return Ignored(f"not a {CODECOMMIT_DETAIL_TYPE} event")
    detail = event.get("detail") or {}
    repository = str(detail.get("repositoryName", ""))
    if detail.get("referenceType") != "branch":
        return Ignored(f"{detail.get('referenceType')} {detail.get('referenceName')}: not a branch")
    branch = str(detail.get("referenceName", ""))
    if detail.get("event") not in PUSH_EVENTS:
        return Ignored(f"{detail.get('event')} of branch {branch}: only pushes train")
    if branch_kind(branch) is None:
        return Ignored(f"branch {branch} does not train (only prod, dev and feature-*)")
    commit = str(detail.get("commitId", ""))
    if not repository or not commit:
        return Ignored("the event names no repository or commit")
    return repository, branch, commit


def build_request(
    record: Mapping[str, Any], branch: str, commit: str, event_id: str = ""
) -> BuildRequest:
    """The build for a push to ``branch`` of the project in ``record`` (a repository record)."""
    kind = branch_kind(branch)
    if kind is None:
        raise ValueError(f"branch {branch} does not train")
    scenario = SCENARIOS[str(record["Scenario"])]
    names = ProjectNames(str(record["ProjectName"]), str(record["ProjectId"]))
    kinds = scenario.production_kinds if kind == "prod" else (kind,)
    return BuildRequest(
        project=str(record["TrainingProject"]),
        source_version=commit,
        environment={
            "SOURCE_BRANCH": branch,
            "BRANCH_KIND": kind,
            "MODEL_GROUPS": ",".join(names.model_package_group(k) for k in kinds),
        },
        idempotency_token=event_id[:64],
    )


def handle_event(
    event: Mapping[str, Any],
    context: Any = None,
    *,
    clients: AwsClients | None = None,
    table: str | None = None,
) -> dict[str, Any]:
    """Start the build for a training push; returns what was done (also logged)."""
    routed = route_push(event)
    if isinstance(routed, Ignored):
        logger.info("Ignored: %s", routed.reason)
        return {"started": False, "reason": routed.reason}
    repository, branch, commit = routed
    table = table or os.environ.get(REGISTRY_TABLE_ENV, "")
    if not table:
        raise LifecycleError(f"The Lambda environment variable {REGISTRY_TABLE_ENV} is not set")
    clients = clients or AwsClients()
    record = project_registry.load_repository(clients.dynamodb, table, repository)
    if record is None or not record.get("TrainingProject"):
        reason = f"repository {repository} belongs to no project in the registry"
        logger.info("Ignored: %s", reason)
        return {"started": False, "reason": reason}
    if commit == record.get("SeedCommit"):
        # The Create's own push makes prod and dev at the seed commit: nothing to train yet
        # (and a prod promotion would find no dev model).
        reason = f"{commit} on {branch} is the project's seed commit: nothing to train"
        logger.info("Ignored: %s", reason)
        return {"started": False, "reason": reason}
    request = build_request(record, branch, commit, str(event.get("id", "")))
    reply = call(
        f"Starting build {request.project} for {branch}",
        clients.client("codebuild").start_build,
        **request.start_build_arguments(),
    )
    build_id = str(reply["build"]["id"])
    logger.info("Started %s for %s@%s of %s", build_id, branch, commit, repository)
    return {"started": True, "buildId": build_id, "project": request.project, "branch": branch}


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: ``lambda_project_lifecycle.training_trigger.handler``."""
    return handle_event(event, context)
