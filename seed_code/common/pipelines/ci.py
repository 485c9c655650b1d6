"""The CI build (buildspec.yml): train on feature-* and dev, promote on prod.

Builds of ``dev`` and ``prod`` also publish their deployment settings and
integration-test payloads for the platform (see ``pipelines.deploy_publish``).

    python -m pipelines.ci            # what CodeBuild runs
    python -m pipelines.ci --plan     # only say what this build would do

Reads the branch from ``SOURCE_BRANCH`` (or ``CODEBUILD_WEBHOOK_HEAD_REF``),
the commit from ``CODEBUILD_RESOLVED_SOURCE_VERSION`` and, for training, the
pipeline's execution role from ``SAGEMAKER_PIPELINE_ROLE_ARN``. Optional:
``INPUT_DATA_URI`` (train on this S3 data instead of the sample),
``PIPELINE_WAIT_MINUTES`` (default 120). Exit status 0 on success or when the
branch builds nothing, 1 with a one-line reason otherwise (``--debug`` shows
the traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipelines.definition import TrainingRun
from pipelines.deploy_config import load_deploy_config
from pipelines.deploy_publish import publish_deploy_settings
from pipelines.errors import BuildEnvironmentError, SeedError
from pipelines.project import REPO_ROOT, Project, load_project
from pipelines.routing import (
    BuildPlan,
    branch_from_environment,
    commit_from_environment,
    plan_build,
)

ROLE_VARIABLE = "SAGEMAKER_PIPELINE_ROLE_ARN"


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
    **run_options: Any,
) -> int:
    """Plan the build of ``repo_dir`` (a checkout of this repository) and carry it out."""
    project = load_project(repo_dir / "project.json")
    deploy_config = load_deploy_config(project.scenario, repo_dir / "deploy" / "config.yaml")
    plan = plan_build(project, branch_from_environment(environ), commit_from_environment(environ))
    print(plan.describe())
    if plan_only or plan.action == "skip":
        return 0
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
            environ,
            session,
            run_options,
        )
    else:
        approval_status = deploy_config.approval_status(project.production_kinds[0])
        _promote(project, plan, approval_status, session, repo_dir)
    return 0


def _train(
    project: Project,
    plan: BuildPlan,
    approval_status: str,
    environ: Mapping[str, str],
    session: Any,
    run_options: dict[str, Any],
) -> None:
    from pipelines.pipeline_run import DEFAULT_TIMEOUT_SECONDS, run_training

    role_arn = environ.get(ROLE_VARIABLE, "").strip()
    if not role_arn:
        raise BuildEnvironmentError(
            f"{ROLE_VARIABLE} is not set: the build needs the pipeline execution role "
            "the platform made for the project"
        )
    run = TrainingRun(
        kind=str(plan.kind),
        branch=plan.branch,
        commit=plan.commit,
        role_arn=role_arn,
        approval_status=approval_status,
        repository=environ.get("CODEBUILD_SOURCE_REPO_URL") or None,
    )
    wait_minutes = environ.get("PIPELINE_WAIT_MINUTES")
    run_options.setdefault(
        "timeout_seconds", float(wait_minutes) * 60 if wait_minutes else DEFAULT_TIMEOUT_SECONDS
    )
    result = run_training(
        project, run, session, dataset_uri=environ.get("INPUT_DATA_URI") or None, **run_options
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

        from pipelines.mlflow_registry import MlflowModelRegistry

        return MlflowModelRegistry(MlflowClient(tracking_uri=project.mlflow_tracking_uri))
    from pipelines.model_registry import SageMakerModelRegistry

    return SageMakerModelRegistry(session.client("sagemaker"))


def _session(project: Project) -> Any:
    import boto3

    return boto3.Session(region_name=project.region)


if __name__ == "__main__":
    sys.exit(main())
