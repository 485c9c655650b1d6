"""Upsert the branch kind's pipeline, start it on the commit's code, wait, report.

Used by ``python -m pipelines.ci`` on feature-* and dev builds. A pipeline that
fails (or stops, or outlives the wait) fails the build, with the failed step and
its reason in the message.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from pipelines.definition import TrainingRun, build_pipeline
from pipelines.errors import PipelineRunError
from pipelines.project import Project
from pipelines.sample_data import write_sample_csv
from pipelines.training_settings import SAMPLE_DATASET_KEY

if TYPE_CHECKING:
    import boto3

FINISHED = {"Succeeded", "Failed", "Stopped"}
DEFAULT_POLL_SECONDS = 30.0
# Each look comes a tenth of the time waited so far after the last (at least a quarter of a
# second, at most poll_seconds): the build sees a pipeline end within 10% of its run time (a
# short one within a quarter of a second of it, not half a minute after), and a long one is
# looked at every poll_seconds.
MIN_POLL_SECONDS = 0.25
POLL_FRACTION = 0.1
DEFAULT_TIMEOUT_SECONDS = 2 * 60 * 60.0


@dataclass(frozen=True)
class ExecutionResult:
    pipeline_name: str
    execution_arn: str
    status: str
    dataset_uri: str


def run_training(
    project: Project,
    run: TrainingRun,
    boto_session: boto3.Session,
    dataset_uri: str | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] = print,
    sagemaker_client: Any = None,
) -> ExecutionResult:
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    sagemaker = sagemaker_client or boto_session.client("sagemaker")
    dataset_uri = ensure_dataset(project, dataset_uri, boto_session.client("s3"), report)
    session = PipelineSession(
        boto_session=boto_session,
        sagemaker_client=sagemaker,
        default_bucket=project.bucket,
        default_bucket_prefix=project.prefix,
    )
    pipeline = build_pipeline(project, run, session)
    group = project.model_group(run.kind)
    try:
        pipeline.upsert(
            role_arn=run.role_arn,
            description=f"Trains on {run.kind} pushes, registers into {group}",
            tags=project.tags,
        )
        started = sagemaker.start_pipeline_execution(
            PipelineName=pipeline.name,
            PipelineExecutionDisplayName=display_name(run.branch, run.commit),
            PipelineExecutionDescription=f"{run.branch} at {run.commit}",
            PipelineParameters=[{"Name": "InputDataUri", "Value": dataset_uri}],
        )
    except ClientError as exc:
        raise PipelineRunError(
            f"cannot upsert or start pipeline {pipeline.name}: {_reason(exc)}"
        ) from exc
    arn = started["PipelineExecutionArn"]
    report(f"started {arn}")
    _check_runs_our_commit(sagemaker, arn, run.commit, pipeline.name)
    status = wait_for_execution(sagemaker, arn, poll_seconds, timeout_seconds, sleep, report)
    return ExecutionResult(pipeline.name, arn, status, dataset_uri)


def display_name(branch: str, commit: str) -> str:
    """``<branch>-<commit12>`` within the display-name pattern and its 82 characters."""
    cleaned = re.sub(r"[^a-zA-Z0-9]+", "-", branch).strip("-")[:68] or "build"
    return f"{cleaned}-{commit[:12]}"


def ensure_dataset(
    project: Project, dataset_uri: str | None, s3: Any, report: Callable[[str], None]
) -> str:
    """The dataset the pipeline reads: ``dataset_uri``, else the sample (uploaded if absent)."""
    if dataset_uri:
        bucket, key = check_dataset_uri(project, dataset_uri)
        try:
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
        except ClientError as exc:
            raise PipelineRunError(
                f"cannot read INPUT_DATA_URI {dataset_uri}: {_reason(exc)}"
            ) from exc
        if not listed.get("KeyCount"):
            raise PipelineRunError(f"INPUT_DATA_URI {dataset_uri} holds no object")
        return dataset_uri
    key = f"{project.prefix}/{SAMPLE_DATASET_KEY}"
    uri = f"s3://{project.bucket}/{key}"
    # Listed, not HEAD-ed: the role may list only under the project's prefix (an
    # s3:prefix condition), and without ListBucket S3 answers a missing key's HEAD with 403.
    try:
        listed = s3.list_objects_v2(Bucket=project.bucket, Prefix=key, MaxKeys=1)
    except ClientError as exc:
        raise PipelineRunError(f"cannot list {uri}: {_reason(exc)}") from exc
    if any(item.get("Key") == key for item in listed.get("Contents", [])):
        return uri
    with tempfile.TemporaryDirectory() as scratch:
        sample = write_sample_csv(Path(scratch) / "breast_cancer.csv")
        try:
            s3.upload_file(str(sample), project.bucket, key)
        except ClientError as exc:
            raise PipelineRunError(
                f"cannot upload the sample dataset to {uri}: {_reason(exc)}"
            ) from exc
    report(f"uploaded the sample dataset to {uri} (set INPUT_DATA_URI to train on your data)")
    return uri


def check_dataset_uri(project: Project, dataset_uri: str) -> tuple[str, str]:
    """Bucket and key prefix of ``INPUT_DATA_URI``, which must lie under the project's prefix.

    The pipeline role may read only ``s3://<bucket>/<prefix>/`` of the project
    data bucket (project.json): data anywhere else would fail with AccessDenied.
    """
    bucket, _, key = dataset_uri.removeprefix("s3://").partition("/")
    if not dataset_uri.startswith("s3://") or not bucket:
        raise PipelineRunError(f"INPUT_DATA_URI {dataset_uri!r} is not an s3:// URI")
    allowed = f"s3://{project.bucket}/{project.prefix}/"
    if bucket != project.bucket or not key.startswith(f"{project.prefix}/"):
        raise PipelineRunError(
            f"INPUT_DATA_URI {dataset_uri} is outside the project's data: the pipeline role "
            f"may read only {allowed}; copy the data there, for example under "
            f"{allowed}datasets/<name>/"
        )
    return bucket, key


def wait_for_execution(
    sagemaker: Any,
    arn: str,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    report: Callable[[str], None] = print,
) -> str:
    """Poll until the execution finishes; raise :class:`PipelineRunError` unless it succeeded.

    Looks again after a tenth of the time waited so far (at least ``MIN_POLL_SECONDS``, at
    most ``poll_seconds``)."""
    waited = 0.0
    last = None
    while True:
        described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
        status = described["PipelineExecutionStatus"]
        if status != last:
            report(f"pipeline execution: {status}")
            last = status
        if status == "Succeeded":
            return status
        if status in FINISHED:
            raise PipelineRunError(_failure_message(sagemaker, arn, status, described))
        if waited >= timeout_seconds:
            raise PipelineRunError(
                f"pipeline execution {arn} still {status} after {timeout_seconds / 60:.0f} min; "
                "follow it in SageMaker Studio (Pipelines)"
            )
        delay = min(max(waited * POLL_FRACTION, MIN_POLL_SECONDS), poll_seconds)
        pause = min(delay, timeout_seconds - waited)  # the last look at the timeout itself
        sleep(pause)
        waited += pause


def _failure_message(sagemaker: Any, arn: str, status: str, described: dict[str, Any]) -> str:
    reason = described.get("FailureReason") or ""
    failed_steps = []
    try:
        steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]
        failed_steps = [
            f"{s['StepName']}: {s.get('FailureReason', s.get('StepStatus'))}"
            for s in steps
            if s.get("StepStatus") in ("Failed", "Stopped")
        ]
    except ClientError:
        pass  # the execution's own reason is still worth reporting
    detail = "; ".join(failed_steps) or reason or "no reason given"
    return f"pipeline execution {status.lower()}: {detail} ({arn})"


def _check_runs_our_commit(sagemaker: Any, arn: str, commit: str, pipeline_name: str) -> None:
    """Another build of the same branch kind may upsert between our upsert and start."""
    definition = sagemaker.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)
    if commit not in str(definition.get("PipelineDefinition", "")):
        with contextlib.suppress(ClientError):
            sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
        raise PipelineRunError(
            f"another build updated pipeline {pipeline_name} before this one started, so the "
            f"execution would run other code than commit {commit[:12]}; it was stopped. "
            "Re-run this build."
        )


def _reason(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Unknown')}: {details.get('Message', error)}"
