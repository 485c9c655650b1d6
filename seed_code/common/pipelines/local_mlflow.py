"""MLflow projects: ``make local`` logs its run to the project's tracking server.

The run gets the hyperparameters as params, the test metrics as metrics, the
lineage as tags and the model, exactly as the pipeline's RegisterModel step
logs them (the same functions: steps/mlflow_registration/register.py), plus
``source=local``. With ``--register`` a run that passes the threshold also
becomes a new version of the current branch's registered model (``feature-*``
-> the feature model, ``dev`` -> the dev model).

The tracking server: ``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else
``mlflow_tracking_uri`` of project.json (README.md, "MLflow on your machine",
says how to start one on this machine instead).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines import lineage
from pipelines.errors import LocalRunError, PromotionError
from pipelines.git_history import git_output
from pipelines.project import REPO_ROOT, TRAINING_KINDS, Project
from pipelines.routing import branch_kind
from pipelines.training_settings import HYPERPARAMETERS

TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"
SOURCE_TAG = "source"


@dataclass(frozen=True)
class Checkout:
    """The branch and commit of the working tree (``local`` and empty outside git)."""

    branch: str
    commit: str

    @classmethod
    def of(cls, repo_dir: Path = REPO_ROOT) -> Checkout:
        def git(*args: str) -> str:
            try:
                return git_output(repo_dir, *args).strip()
            except PromotionError:  # not a git checkout, or no commit yet
                return ""

        return cls(git("rev-parse", "--abbrev-ref", "HEAD") or "local", git("rev-parse", "HEAD"))


@dataclass(frozen=True)
class MlflowTarget:
    """Where a local run is logged, and the registered model it may go into."""

    tracking_uri: str
    experiment: str
    checkout: Checkout
    register_into: str | None  # None: log only


def tracking_uri(project: Project, given: str | None, environ: Mapping[str, str]) -> str:
    uri = given or environ.get(TRACKING_URI_VARIABLE, "").strip() or project.mlflow_tracking_uri
    if not uri:
        raise LocalRunError(
            f"no MLflow tracking server: pass --tracking-uri or set {TRACKING_URI_VARIABLE} "
            "(project.json names none)"
        )
    return uri


def plan_target(
    project: Project,
    given_uri: str | None,
    register: bool,
    environ: Mapping[str, str],
    checkout: Checkout,
) -> MlflowTarget:
    """Checked before anything trains: the server, and the model ``--register`` writes to."""
    kind = branch_kind(checkout.branch)
    if register and kind not in TRAINING_KINDS:
        raise LocalRunError(
            f"--register registers into the branch's model, and branch {checkout.branch!r} "
            "has none: check out a feature-<name> branch or dev"
        )
    group = project.model_group(kind) if kind in TRAINING_KINDS else None
    return MlflowTarget(
        tracking_uri(project, given_uri, environ),
        experiment=group or f"{project.prefix}-local",
        checkout=checkout,
        register_into=group if register else None,
    )


def register_step() -> Any:
    """steps/mlflow_registration/register.py, or a clear error if MLflow is not installed."""
    try:
        import mlflow  # noqa: F401
        from steps.mlflow_registration import register
    except ImportError as exc:
        raise LocalRunError(
            f"MLflow is not installed ({exc}): run make install, which installs "
            "requirements-mlflow.txt for MLflow projects (or pass --no-mlflow)"
        ) from None
    return register


def log_run(target: MlflowTarget, output_dir: Path, input_uri: str, registrable: bool) -> str:
    """Log the run in ``output_dir``; register it when asked and ``registrable``. A report."""
    from mlflow.exceptions import MlflowException

    try:
        return _log_run(target, output_dir, input_uri, registrable)
    except MlflowException as exc:
        raise LocalRunError(f"MLflow at {target.tracking_uri}: {exc}") from exc


def _log_run(target: MlflowTarget, output_dir: Path, input_uri: str, registrable: bool) -> str:
    register = register_step()
    evaluation = json.loads((output_dir / "evaluation" / "evaluation.json").read_text())
    dataset = json.loads((output_dir / "processing" / "dataset" / "dataset.json").read_text())
    given = {
        lineage.COMMIT_ID: target.checkout.commit,
        lineage.BRANCH: target.checkout.branch,
        lineage.DATASET_URI: input_uri,
        lineage.HYPERPARAMETERS: lineage.hyperparameters_value(HYPERPARAMETERS),
        SOURCE_TAG: "local",
    }
    tags = register.lineage_tags(given, evaluation, dataset)
    run_name = f"local-{target.checkout.branch}-{target.checkout.commit[:12]}".rstrip("-")
    run_id, model_uri = register.log_model_run(
        target.tracking_uri, target.experiment, output_dir / "model", evaluation, tags, run_name
    )
    lines = [
        f"mlflow: logged run {run_id} (experiment {target.experiment}) to {target.tracking_uri}"
    ]
    if target.register_into is None:
        return "\n".join(lines)
    if not registrable:
        lines.append(f"mlflow: not registered into {target.register_into}: the run did not pass")
        return "\n".join(lines)
    version = register.register_version(target.tracking_uri, target.register_into, model_uri, tags)
    lines.append(f"mlflow: registered {target.register_into} version {version}")
    return "\n".join(lines)
