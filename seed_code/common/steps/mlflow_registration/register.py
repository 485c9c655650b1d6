"""Register the trained model in MLflow (the MLflow registry flavour's RegisterModel step).

Logs one MLflow run (hyperparameters as params, test metrics as metrics,
lineage as tags) with the model, then registers it as a new version of the
branch's registered model and tags that version with the same lineage keys
as a SageMaker model package (see pipelines/lineage.py), plus
``approval_status`` and ``model_data_url`` (the SageMaker model archive, which
the platform deploys).

Runs in a processing job (``requirements.txt`` next to it installs MLflow);
``python -m pipelines.local`` uses the same functions to log a local run (and
register it with ``--register``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tarfile
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

METRICS_KEY = "binary_classification_metrics"
# Set by the pipeline on a server that wants a login (pipelines/definition.py).
CREDENTIALS_SECRET_VARIABLE = "MLFLOW_CREDENTIALS_SECRET_ARN"
# Types the skops format must be told to trust to load tree ensembles; the model is ours,
# trained by this pipeline's own training job.
SKOPS_TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]
# MLflow logs a request-header plugin's failure here, on every call (see below).
HEADER_PROVIDER_LOGGER = "mlflow.tracking.request_header.registry"
PLUGIN_HEADER_WARNING = "Encountered unexpected error during resolving request headers"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument(
        "--model-name", required=True, help="the registered model (the branch's group)"
    )
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument(
        "--evaluation-dir", type=Path, default=Path("/opt/ml/processing/evaluation")
    )
    parser.add_argument("--dataset-dir", type=Path, default=Path("/opt/ml/processing/dataset"))
    parser.add_argument("--model-data-url", default="", help="S3 URI of model.tar.gz")
    parser.add_argument("--approval-status", default="PendingManualApproval")
    parser.add_argument(
        "--tag", action="append", default=[], metavar="KEY=VALUE", help="lineage tag (repeatable)"
    )
    return parser.parse_args(argv)


def model_directory(model_dir: Path, scratch: Path) -> Path:
    archive = model_dir / "model.tar.gz"
    if not archive.exists():
        return model_dir
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(scratch, filter="data")
        else:
            tar.extractall(scratch)
    return scratch


def lineage_tags(
    given: dict[str, str],
    evaluation: dict,
    dataset: dict,
    approval_status: str = "PendingManualApproval",
    model_data_url: str = "",
) -> dict[str, str]:
    """``given`` plus the dataset version, the metrics and the approval status."""
    tags = dict(given)
    tags["dataset_sha256"] = str(dataset["sha256"])
    tags["dataset_rows"] = str(dataset["rows"])
    for name, metric in evaluation[METRICS_KEY].items():
        tags[f"metric.{name}"] = str(metric["value"])
    tags["approval_status"] = approval_status
    if model_data_url:
        tags["model_data_url"] = model_data_url
    return tags


def parse_tags(items: list[str]) -> dict[str, str]:
    tags = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator:
            raise SystemExit(f"register: --tag {item!r} is not KEY=VALUE")
        tags[key] = value
    return tags


class _NotThisServer(logging.Filter):
    """Drops the SageMaker MLflow plugin's warning when the server is not a SageMaker one.

    The plugin (sagemaker-mlflow) adds request headers for SageMaker managed
    MLflow, and fails with a warning on every call to any other server.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(PLUGIN_HEADER_WARNING)


def quiet_plugins_that_do_not_apply(tracking_uri: str) -> None:
    if not tracking_uri.startswith("arn:"):
        logger = logging.getLogger(HEADER_PROVIDER_LOGGER)
        if not any(isinstance(f, _NotThisServer) for f in logger.filters):
            logger.addFilter(_NotThisServer())


def model_requirements() -> list[str]:
    """What the logged model needs to load, pinned to this job's versions: scikit-learn and
    skops (MLflow adds itself). Left to MLflow, it would infer them in a subprocess (seconds)
    from every package the job had imported, pytest among them."""
    import mlflow.sklearn

    return list(mlflow.sklearn.get_default_pip_requirements(include_skops=True))


def log_model_run(
    tracking_uri: str,
    experiment: str,
    model_dir: Path,
    evaluation: dict,
    tags: dict[str, str],
    run_name: str,
) -> tuple[str, str]:
    """Log one run (hyperparameters, metrics, lineage tags, the model); (run id, model URI)."""
    import joblib
    import mlflow
    import mlflow.sklearn

    quiet_plugins_that_do_not_apply(tracking_uri)
    hyperparameters = json.loads(tags.get("hyperparameters", "{}"))
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    with tempfile.TemporaryDirectory() as scratch:
        model = joblib.load(model_directory(model_dir, Path(scratch)) / "model.joblib")
        with mlflow.start_run(run_name=run_name) as run:
            mlflow.log_params(hyperparameters)
            mlflow.log_metrics(
                {name: float(m["value"]) for name, m in evaluation[METRICS_KEY].items()}
            )
            mlflow.set_tags(tags)
            logged = mlflow.sklearn.log_model(
                model,
                name="model",
                skops_trusted_types=SKOPS_TRUSTED_TYPES,
                pip_requirements=model_requirements(),
            )
    return run.info.run_id, logged.model_uri


def register_version(
    tracking_uri: str, model_name: str, model_uri: str, tags: dict[str, str]
) -> str:
    """A new version of ``model_name`` from ``model_uri``, tagged with ``tags``; its number."""
    import mlflow
    from mlflow import MlflowClient

    quiet_plugins_that_do_not_apply(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    version = mlflow.register_model(model_uri, model_name)
    client = MlflowClient(tracking_uri=tracking_uri)
    for key, value in tags.items():
        client.set_model_version_tag(model_name, version.version, key, value)
    return str(version.version)


def log_in_from_secret(environ: MutableMapping[str, str], read_secret: Any = None) -> bool:
    """On a server that wants a login (the platform's self-hosted one), the pipeline names
    the secret of the user to log in as (``MLFLOW_CREDENTIALS_SECRET_ARN``, JSON username and
    password): read here, as the job's role, into the variables MLflow's client sends."""
    secret_arn = environ.get(CREDENTIALS_SECRET_VARIABLE, "")
    if not secret_arn:
        return False
    if read_secret is None:
        import boto3

        read_secret = boto3.client("secretsmanager").get_secret_value
    secret = json.loads(read_secret(SecretId=secret_arn)["SecretString"])
    environ["MLFLOW_TRACKING_USERNAME"] = str(secret["username"])
    environ["MLFLOW_TRACKING_PASSWORD"] = str(secret["password"])
    return True


def main(argv: list[str] | None = None) -> dict[str, str]:
    args = parse_args(argv)
    log_in_from_secret(os.environ)
    evaluation = json.loads((args.evaluation_dir / "evaluation.json").read_text())
    dataset = json.loads((args.dataset_dir / "dataset.json").read_text())
    tags = lineage_tags(
        parse_tags(args.tag), evaluation, dataset, args.approval_status, args.model_data_url
    )
    run_name = f"{tags.get('branch', 'local')}-{tags.get('commit_id', '')[:12]}"
    _, model_uri = log_model_run(
        args.tracking_uri, args.model_name, args.model_dir, evaluation, tags, run_name
    )
    version = register_version(args.tracking_uri, args.model_name, model_uri, tags)
    print(f"register: {args.model_name} version {version}")
    return {"name": args.model_name, "version": version}


if __name__ == "__main__":
    main(sys.argv[1:])
