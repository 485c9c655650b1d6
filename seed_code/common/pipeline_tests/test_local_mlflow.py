"""MLflow projects: make local logs its run (params, metrics, model) and registers on request."""

from __future__ import annotations

import dataclasses

import pytest
from pipelines import local_mlflow
from pipelines.errors import LocalRunError
from pipelines.local import run_locally
from pipelines.project import Project
from pipelines.training_settings import HYPERPARAMETERS


@pytest.fixture
def mlflow_project(project: Project, tmp_path, monkeypatch) -> Project:
    monkeypatch.chdir(tmp_path)  # MLflow writes artifacts under the working directory
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    return dataclasses.replace(project, registry="mlflow", mlflow_tracking_uri=uri)


def test_a_local_run_is_logged_and_registered_into_the_branch_model(
    mlflow_project: Project, tmp_path
) -> None:
    from mlflow import MlflowClient

    run = run_locally(tmp_path / "run", payloads_dir=None, min_accuracy=0.0)
    checkout = local_mlflow.Checkout("feature-wider-trees", "ab" * 20)
    target = local_mlflow.plan_target(mlflow_project, None, True, {}, checkout)
    report = local_mlflow.log_run(target, run.output_dir, "sample", registrable=True)

    group = mlflow_project.model_group("feature")
    assert f"registered {group} version 1" in report
    client = MlflowClient(tracking_uri=mlflow_project.mlflow_tracking_uri)
    version = client.get_model_version(group, "1")
    logged = client.get_run(version.run_id)
    assert logged.data.params == {k: str(v) for k, v in HYPERPARAMETERS.items()}
    assert logged.data.metrics["accuracy"] == run.metric
    assert logged.data.tags["source"] == "local" and version.tags["branch"] == checkout.branch


def test_a_run_below_the_threshold_is_logged_but_not_registered(
    mlflow_project: Project, tmp_path
) -> None:
    run = run_locally(tmp_path / "run", payloads_dir=None, min_accuracy=1.01)
    target = local_mlflow.plan_target(
        mlflow_project, None, True, {}, local_mlflow.Checkout("dev", "cd" * 20)
    )
    report = local_mlflow.log_run(target, run.output_dir, "sample", registrable=run.ok)
    assert "logged run" in report and "not registered into" in report


def test_register_needs_a_training_branch(mlflow_project: Project) -> None:
    with pytest.raises(LocalRunError, match="branch 'main' has none"):
        local_mlflow.plan_target(mlflow_project, None, True, {}, local_mlflow.Checkout("main", ""))


def test_the_tracking_server_is_argument_then_environment_then_project(
    mlflow_project: Project,
) -> None:
    environ = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}
    assert local_mlflow.tracking_uri(mlflow_project, "http://a", environ) == "http://a"
    assert local_mlflow.tracking_uri(mlflow_project, None, environ) == "http://127.0.0.1:5000"
    expected = mlflow_project.mlflow_tracking_uri
    assert local_mlflow.tracking_uri(mlflow_project, None, {}) == expected
