"""The CI build (buildspec.yml): train on feature-* and dev, promote on prod.

Builds of ``dev`` and ``prod`` also publish their deployment settings and
integration-test payloads for the platform (see ``pipelines.deploy_publish``).

    python -m pipelines.ci            # what CodeBuild runs
    python -m pipelines.ci --plan     # only say what this build would do

Reads the branch from ``SOURCE_BRANCH`` (or ``CODEBUILD_WEBHOOK_HEAD_REF``),
the commit from ``CODEBUILD_RESOLVED_SOURCE_VERSION`` and, for training, the
pipeline's execution role from ``SAGEMAKER_PIPELINE_ROLE_ARN``. Optional:
``INPUT_DATA_URI`` (train on this S3 data instead of the sample; it must lie
under ``s3://<bucket>/<prefix>/`` of project.json, the only data the pipeline
role may read),
``PIPELINE_WAIT_MINUTES`` (how long to wait for the pipeline). In CodeBuild the
platform sets ``BUILD_TIMEOUT_MINUTES`` (and CodeBuild ``CODEBUILD_START_TIME``):
the wait then ends ``STOP_MARGIN_MINUTES`` before CodeBuild would stop the
build, so a long pipeline fails the build with a message, not a timeout;
elsewhere it defaults to ``DEFAULT_WAIT_MINUTES``. Before anything is
published or started (and with ``--plan``, so ``make plan`` catches them too)
the build checks project.json (model group names included), deploy/config.yaml,
every stage's integration-test payloads, pipelines/training_settings.py and the
environment. Exit status 0 on success or when the
branch builds nothing, 1 with a one-line reason otherwise (``--debug`` shows
the traceback).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pipelines.definition import MlflowAccess, TrainingRun
from pipelines.deploy_config import STAGES, DeployConfig, load_deploy_config
from pipelines.deploy_publish import publish_deploy_settings
from pipelines.errors import BuildEnvironmentError, SeedError
from pipelines.payloads import load_payloads
from pipelines.project import REPO_ROOT, Project, load_project
from pipelines.routing import (
    BuildPlan,
    branch_from_environment,
    commit_from_environment,
    plan_build,
)
from pipelines.settings_check import check_training_settings

ROLE_VARIABLE = "SAGEMAKER_PIPELINE_ROLE_ARN"
WAIT_VARIABLE = "PIPELINE_WAIT_MINUTES"
BUILD_TIMEOUT_VARIABLE = "BUILD_TIMEOUT_MINUTES"  # set by the platform on the CodeBuild project
START_TIME_VARIABLE = "CODEBUILD_START_TIME"  # set by CodeBuild: milliseconds since the epoch
DEFAULT_WAIT_MINUTES = 120.0  # when no build timeout is known (a run by hand)
# Kept before CodeBuild's timeout: upserting and starting the pipeline, and reporting.
STOP_MARGIN_MINUTES = 10.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.ci", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--plan", action="store_true", help="print what this build would do, and stop"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser.parse_args(argv)


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    boto_session: Any = None,
    **run_options: Any,
) -> int:
    args = parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        return build(environ, plan_only=args.plan, boto_session=boto_session, **run_options)
    except SeedError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1


def build(
    environ: Mapping[str, str],
    plan_only: bool = False,
    boto_session: Any = None,
    repo_dir: Path = REPO_ROOT,
    clock: Callable[[], float] = time.time,
    **run_options: Any,
) -> int:
    """Plan the build of ``repo_dir`` (a checkout of this repository) and carry it out."""
    project = load_project(repo_dir / "project.json")
    deploy_config = load_deploy_config(project.scenario, repo_dir / "deploy" / "config.yaml")
    check_payloads(deploy_config, repo_dir)
    check_training_settings()
    plan = plan_build(project, branch_from_environment(environ), commit_from_environment(environ))
    print(plan.describe())
    if plan_only or plan.action == "skip":
        return 0
    if plan.action == "train":  # checked before anything is published or started
        from pipelines.pipeline_run import check_dataset_uri

        role_arn = pipeline_role(environ)
        dataset_uri = environ.get("INPUT_DATA_URI", "").strip() or None
        if dataset_uri:
            check_dataset_uri(project, dataset_uri)
        wait_seconds, wait_note = pipeline_wait_seconds(environ, clock())
        run_options.setdefault("timeout_seconds", wait_seconds)
        print(wait_note)
    session = boto_session or _session(project)
    published = publish_deploy_settings(
        project, plan.branch, deploy_config, repo_dir, session.client("s3")
    )
    if published.written:
        removed = (
            f"; removed {len(published.removed)} stale payload(s)" if published.removed else ""
        )
        print(
            f"published the deployment settings of {plan.branch}: "
            f"{len(published.written)} objects{removed}"
        )
    if plan.action == "train":
        _train(
            project,
            plan,
            deploy_config.approval_status(str(plan.kind)),
            role_arn,
            environ,
            session,
            run_options,
        )
    else:
        approval_status = deploy_config.approval_status(project.production_kinds[0])
        _promote(project, plan, approval_status, session, repo_dir)
    return 0


def check_payloads(deploy_config: DeployConfig, repo_dir: Path) -> None:
    """Every stage's payload files parse and follow integration_tests/payload.schema.json."""
    for directory in sorted({deploy_config.stage(s)["tests"]["payloads_dir"] for s in STAGES}):
        load_payloads(repo_dir / directory)


def pipeline_role(environ: Mapping[str, str]) -> str:
    role_arn = environ.get(ROLE_VARIABLE, "").strip()
    if not role_arn:
        raise BuildEnvironmentError(
            f"{ROLE_VARIABLE} is not set: the build needs the pipeline execution role "
            "the platform made for the project"
        )
    return role_arn


def pipeline_wait_seconds(environ: Mapping[str, str], now: float) -> tuple[float, str]:
    """How long to wait for the pipeline, and a line that says so.

    ``PIPELINE_WAIT_MINUTES`` if set (a positive number), else as long as the
    build may: until ``STOP_MARGIN_MINUTES`` before CodeBuild's timeout
    (``BUILD_TIMEOUT_MINUTES`` after ``CODEBUILD_START_TIME``), or
    ``DEFAULT_WAIT_MINUTES`` outside CodeBuild. Never past that point.
    """
    requested = _positive_minutes(environ, WAIT_VARIABLE)
    timeout = _positive_minutes(environ, BUILD_TIMEOUT_VARIABLE)
    if timeout is None:
        minutes = requested if requested is not None else DEFAULT_WAIT_MINUTES
        return minutes * 60, f"waiting at most {minutes:g} min for the pipeline"
    limit = timeout - STOP_MARGIN_MINUTES
    if limit <= 0:
        raise BuildEnvironmentError(
            f"{BUILD_TIMEOUT_VARIABLE}={timeout:g} leaves no time to wait for the pipeline: "
            f"{STOP_MARGIN_MINUTES:g} min are kept to start it and report"
        )
    if requested is not None and requested > limit:
        raise BuildEnvironmentError(
            f"{WAIT_VARIABLE}={requested:g} is more than this build can wait: CodeBuild stops "
            f"it after {BUILD_TIMEOUT_VARIABLE}={timeout:g} min and {STOP_MARGIN_MINUTES:g} min "
            f"are kept to start the pipeline and report; set at most {limit:g}"
        )
    elapsed = max(0.0, now - _start_time(environ, now))
    left = limit * 60 - elapsed
    if left <= 0:
        raise BuildEnvironmentError(
            f"this build has run {elapsed / 60:.0f} of its {BUILD_TIMEOUT_VARIABLE}={timeout:g} "
            "min: no time is left to wait for the pipeline"
        )
    stop = f"CodeBuild stops this build after {timeout:g} min"
    if requested is not None and requested * 60 <= left:
        return requested * 60, f"waiting at most {requested:g} min for the pipeline ({stop})"
    shortened = f", not {WAIT_VARIABLE}={requested:g}" if requested is not None else ""
    return left, f"waiting at most {left / 60:.0f} min for the pipeline{shortened} ({stop})"


def _positive_minutes(environ: Mapping[str, str], name: str) -> float | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        minutes = float(raw)
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes) or minutes <= 0:
        raise BuildEnvironmentError(
            f"{name}={raw!r} is not a positive number of minutes (for example 90)"
        )
    return minutes


def _start_time(environ: Mapping[str, str], now: float) -> float:
    """When CodeBuild started this build, in seconds since the epoch (``now`` outside it)."""
    raw = environ.get(START_TIME_VARIABLE, "").strip()
    if not raw:
        return now
    try:
        return int(raw) / 1000
    except ValueError as exc:
        raise BuildEnvironmentError(
            f"{START_TIME_VARIABLE}={raw!r} is not a time in milliseconds since the epoch"
        ) from exc


def _train(
    project: Project,
    plan: BuildPlan,
    approval_status: str,
    role_arn: str,
    environ: Mapping[str, str],
    session: Any,
    run_options: dict[str, Any],
) -> None:
    from pipelines.pipeline_run import run_training

    run = TrainingRun(
        kind=str(plan.kind),
        branch=plan.branch,
        commit=plan.commit,
        role_arn=role_arn,
        approval_status=approval_status,
        repository=environ.get("CODEBUILD_SOURCE_REPO_URL") or None,
        mlflow_access=MlflowAccess.from_environment(environ),
    )
    result = run_training(
        project,
        run,
        session,
        dataset_uri=environ.get("INPUT_DATA_URI", "").strip() or None,
        **run_options,
    )
    print(f"pipeline {result.pipeline_name} succeeded: {result.execution_arn}")


def _promote(
    project: Project, plan: BuildPlan, approval_status: str, session: Any, repo_dir: Path
) -> None:
    from pipelines.promotion import promote

    outcome = promote(
        project, plan.commit, registry_of(project, session), repo_dir, approval_status
    )
    print(outcome.describe())


def registry_of(project: Project, session: Any) -> Any:
    if project.registry == "mlflow":
        from mlflow import MlflowClient
        from steps.mlflow_registration.register import quiet_plugins_that_do_not_apply

        from pipelines.mlflow_registry import MlflowModelRegistry

        quiet_plugins_that_do_not_apply(str(project.mlflow_tracking_uri))
        return MlflowModelRegistry(MlflowClient(tracking_uri=project.mlflow_tracking_uri))
    from pipelines.model_registry import SageMakerModelRegistry

    return SageMakerModelRegistry(session.client("sagemaker"))


def _session(project: Project) -> Any:
    import boto3

    return boto3.Session(region_name=project.region)


if __name__ == "__main__":
    sys.exit(main())
