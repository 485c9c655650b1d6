"""Register the trained model in MLflow (the MLflow registry flavour's RegisterModel step).

Logs one MLflow run (hyperparameters as params, test metrics as metrics,
lineage as tags) with the model, then registers it as a new version of the
branch's registered model and tags that version with the same lineage keys
as a SageMaker model package (see pipelines/lineage.py), plus
``approval_status`` and ``model_data_url`` (the SageMaker model archive, which
the platform deploys).

Runs in a processing job (``requirements.txt`` next to it installs MLflow) and
locally: ``python steps/mlflow_registration/register.py --tracking-uri sqlite:///mlflow.db ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
import tempfile
from pathlib import Path

METRICS_KEY = "binary_classification_metrics"
# Types the skops format must be told to trust to load tree ensembles; the model is ours,
# trained by this pipeline's own training job.
SKOPS_TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


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


def lineage_tags(args: argparse.Namespace, evaluation: dict, dataset: dict) -> dict[str, str]:
    tags = {}
    for item in args.tag:
        key, separator, value = item.partition("=")
        if not separator:
            raise SystemExit(f"register: --tag {item!r} is not KEY=VALUE")
        tags[key] = value
    tags["dataset_sha256"] = str(dataset["sha256"])
    tags["dataset_rows"] = str(dataset["rows"])
    for name, metric in evaluation[METRICS_KEY].items():
        tags[f"metric.{name}"] = str(metric["value"])
    tags["approval_status"] = args.approval_status
    if args.model_data_url:
        tags["model_data_url"] = args.model_data_url
    return tags


def main(argv: list[str] | None = None) -> dict[str, str]:
    import joblib
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    args = parse_args(argv)
    evaluation = json.loads((args.evaluation_dir / "evaluation.json").read_text())
    dataset = json.loads((args.dataset_dir / "dataset.json").read_text())
    tags = lineage_tags(args, evaluation, dataset)
    hyperparameters = json.loads(tags.get("hyperparameters", "{}"))

    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_experiment(args.model_name)
    with tempfile.TemporaryDirectory() as scratch:
        model = joblib.load(model_directory(args.model_dir, Path(scratch)) / "model.joblib")
        with mlflow.start_run(
            run_name=f"{tags.get('branch', 'local')}-{tags.get('commit_id', '')[:12]}"
        ):
            mlflow.log_params(hyperparameters)
            mlflow.log_metrics(
                {name: float(m["value"]) for name, m in evaluation[METRICS_KEY].items()}
            )
            mlflow.set_tags(tags)
            logged = mlflow.sklearn.log_model(
                model, name="model", skops_trusted_types=SKOPS_TRUSTED_TYPES
            )
    version = mlflow.register_model(logged.model_uri, args.model_name)
    client = MlflowClient(tracking_uri=args.tracking_uri)
    for key, value in tags.items():
        client.set_model_version_tag(args.model_name, version.version, key, value)
    print(f"register: {args.model_name} version {version.version}")
    return {"name": args.model_name, "version": str(version.version)}


if __name__ == "__main__":
    main(sys.argv[1:])
