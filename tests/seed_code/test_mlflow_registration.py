"""The MLflow flavour's RegisterModel step script, run against a local MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines import lineage
from pipelines.local import run_locally

from tests.seed_code.conftest import SEED_COMMON


def load_register_script():
    import importlib.util

    path = SEED_COMMON / "steps" / "mlflow_registration" / "register.py"
    spec = importlib.util.spec_from_file_location("mlflow_register_step", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_registered_version_carries_the_lineage_of_a_model_package(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.chdir(tmp_path)  # MLflow writes run artifacts under ./mlruns
    run = run_locally(tmp_path / "run", payloads_dir=None)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    commit = "77" * 20
    hyperparameters = json.dumps({"max_depth": 3, "n_estimators": 100})
    register = load_register_script()

    result = register.main(
        [
            "--tracking-uri", store,
            "--model-name", "sagemaker-churn-model-p-7cyo2dk1xyz0-feature",
            "--model-dir", str(tmp_path / "run" / "model"),
            "--evaluation-dir", str(tmp_path / "run" / "evaluation"),
            "--dataset-dir", str(tmp_path / "run" / "processing" / "dataset"),
            "--model-data-url", "s3://bucket/model.tar.gz",
            "--tag", f"{lineage.COMMIT_ID}={commit}",
            "--tag", f"{lineage.BRANCH}=feature-x",
            "--tag", f"{lineage.DATASET_URI}=s3://bucket/data/",
            "--tag", f"{lineage.HYPERPARAMETERS}={hyperparameters}",
        ]
    )  # fmt: skip

    client = MlflowClient(tracking_uri=store, registry_uri=store)
    version = client.get_model_version(result["name"], result["version"])
    tags = version.tags
    assert tags[lineage.COMMIT_ID] == commit
    assert tags[lineage.BRANCH] == "feature-x"
    assert tags[lineage.DATASET_URI] == "s3://bucket/data/"
    assert tags[lineage.DATASET_SHA256] == run.dataset["sha256"]
    assert float(tags[lineage.metric_key("accuracy")]) == run.metric
    assert tags["approval_status"] == "PendingManualApproval"
    assert tags["model_data_url"] == "s3://bucket/model.tar.gz"
    logged = client.get_run(version.run_id)
    assert logged.data.params == {"max_depth": "3", "n_estimators": "100"}
    assert logged.data.metrics["accuracy"] == run.metric
    requirements = (
        Path(client.download_artifacts(version.run_id, "model/requirements.txt", str(tmp_path)))
        .read_text()
        .split()
    )
    assert sorted(r.split("==")[0] for r in requirements) == ["mlflow", "scikit-learn", "skops"]
    assert all("==" in r for r in requirements)  # pinned to the versions the job ran


def test_on_a_server_with_a_login_the_step_logs_in_with_the_secret_it_is_named():
    """The platform's self-hosted server: the pipeline names the secret of the user (never
    the password); the step reads it as its role into the variables MLflow's client sends."""
    import boto3
    from moto import mock_aws

    register = load_register_script()
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        arn = secrets.create_secret(
            Name="platform-mlflow-platform-user",
            SecretString=json.dumps({"username": "mlops-platform", "password": "generated-1"}),
        )["ARN"]
        environment = {"MLFLOW_CREDENTIALS_SECRET_ARN": arn}

        assert register.log_in_from_secret(environment, secrets.get_secret_value) is True

    assert environment["MLFLOW_TRACKING_USERNAME"] == "mlops-platform"
    assert environment["MLFLOW_TRACKING_PASSWORD"] == "generated-1"
    elsewhere: dict[str, str] = {}
    assert register.log_in_from_secret(elsewhere) is False
    assert elsewhere == {}
