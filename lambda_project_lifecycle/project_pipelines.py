"""The project's SageMaker pipelines: the seed's builds upsert one per training branch kind
(``<prefix>-feature``, ``<prefix>-dev``); project Delete removes them, whatever ``OnDelete``
says (a pipeline is a definition its repository holds, not data).

A pipeline counts as the project's only when its name is the project's
(:meth:`ProjectNames.owns`) and it carries the project's ``sagemaker:project-id`` tag.
SageMaker deletes a pipeline only when none of its executions runs: running ones are stopped
first, and the delete is tried again while they stop (a bounded wait), then fails naming the
pipeline; a retried Delete converges.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from lambda_project_lifecycle.aws_calls import MISSING, call, call_unless, pages
from lambda_project_lifecycle.custom_resource import Checkpoint, no_checkpoint
from lambda_project_lifecycle.errors import AwsCallError, LifecycleError
from lambda_project_lifecycle.naming import PROJECT_ID_TAG, ProjectNames

logger = logging.getLogger(__name__)

RUNNING = frozenset({"Executing", "Stopping"})
# How long a Delete waits for stopped executions to end before it fails (seconds, in total).
STOP_WAITS = (2.0, 4.0, 8.0, 16.0)


class PipelineBusyError(LifecycleError):
    """A pipeline's executions did not stop in time: SageMaker refuses to delete it yet."""


def remove_project_pipelines(
    sagemaker: Any,
    names: ProjectNames,
    *,
    request_id: str = "",
    checkpoint: Checkpoint = no_checkpoint,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Delete every pipeline of the project (stopping its running executions); the names
    deleted. ``request_id`` (the CloudFormation request's) makes the calls' idempotency
    tokens: a retried request repeats the same calls."""
    deleted: list[str] = []
    for name, arn in _project_pipelines(sagemaker, names).items():
        checkpoint(f"deleting pipeline {name}")
        stopped = _stop_running_executions(sagemaker, name, request_id)
        waits = STOP_WAITS if stopped else ()
        if _delete_pipeline(sagemaker, name, request_id, waits=waits, sleep=sleep):
            deleted.append(name)
            logger.info("Deleted pipeline %s (%s), %d executions stopped", name, arn, stopped)
    return deleted


def _project_pipelines(sagemaker: Any, names: ProjectNames) -> dict[str, str]:
    """Name -> ARN of the pipelines named and tagged as the project's."""
    found: dict[str, str] = {}
    for page in pages(
        "Listing pipelines",
        sagemaker.list_pipelines,
        PipelineNamePrefix=names.prefix,
        MaxResults=100,
    ):
        for summary in page.get("PipelineSummaries", []):
            name, arn = summary["PipelineName"], summary["PipelineArn"]
            if not names.owns(name):
                continue
            tags = call(f"Reading tags of pipeline {name}", sagemaker.list_tags, ResourceArn=arn)
            project_id = {t["Key"]: t["Value"] for t in tags.get("Tags", [])}.get(PROJECT_ID_TAG)
            if project_id != names.project_id:
                logger.warning("Leaving pipeline %s: it is not this project's", name)
                continue
            found[name] = arn
    return found


def _stop_running_executions(sagemaker: Any, pipeline: str, request_id: str) -> int:
    stopped = 0
    for page in pages(
        f"Listing executions of pipeline {pipeline}",
        sagemaker.list_pipeline_executions,
        PipelineName=pipeline,
        MaxResults=100,
    ):
        for execution in page.get("PipelineExecutionSummaries", []):
            if execution.get("PipelineExecutionStatus") not in RUNNING:
                continue
            arn = execution["PipelineExecutionArn"]
            if execution["PipelineExecutionStatus"] == "Executing":
                call_unless(
                    MISSING,
                    f"Stopping pipeline execution {arn}",
                    sagemaker.stop_pipeline_execution,
                    PipelineExecutionArn=arn,
                    ClientRequestToken=request_token(request_id, arn),
                )
            stopped += 1
    return stopped


def _delete_pipeline(
    sagemaker: Any,
    name: str,
    request_id: str,
    *,
    waits: tuple[float, ...],
    sleep: Callable[[float], None],
) -> bool:
    """Delete ``name``; False when it was gone already. While executions stop SageMaker
    answers ConflictException: tried again after each of ``waits``, then
    :class:`PipelineBusyError`."""
    pending = list(waits)
    while True:
        try:
            reply = call_unless(
                MISSING,
                f"Deleting pipeline {name}",
                sagemaker.delete_pipeline,
                PipelineName=name,
                ClientRequestToken=request_token(request_id, name),
            )
        except AwsCallError as exc:
            if exc.code != "ConflictException":
                raise
            if not pending:
                raise PipelineBusyError(
                    f"Pipeline {name} still has executions stopping after "
                    f"{sum(waits):.0f} s: delete the project again once they have stopped"
                ) from exc
            sleep(pending.pop(0))
            continue
        return reply is not None


def request_token(request_id: str, resource: str) -> str:
    """A ClientRequestToken (32-128 characters) that is the same for the same request and
    resource, and differs between requests."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{request_id}/{resource}").hex
