"""Evaluate: score the trained model on ``test.csv``; write ``evaluation.json``.

``evaluation.json`` uses the SageMaker model-quality layout, so Studio shows
the metrics on the registered model::

    {"binary_classification_metrics": {"accuracy": {"value": 0.96}, ...}, "test_rows": 86}

The pipeline reads it as a property file: the condition step compares
``binary_classification_metrics.accuracy.value`` with the ``MinAccuracy``
parameter, and the register step records every metric on the model.

The ML libraries are imported where the job uses them: the CI that builds the
pipeline definition reads ``METRIC_NAMES`` from here without loading them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

TARGET = "target"
METRICS_KEY = "binary_classification_metrics"
# Every metric in evaluation.json; each is recorded on the registered model as metric.<name>.
METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--test-dir", type=Path, default=Path("/opt/ml/processing/test"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing/evaluation"))
    return parser.parse_args(argv)


def load_model(model_dir: Path) -> object:
    """The model in ``model.joblib``; SageMaker's ``model.tar.gz`` is unpacked first."""
    import joblib

    archive = model_dir / "model.tar.gz"
    if archive.exists():
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # Python versions with extraction filters
                tar.extractall(model_dir, filter="data")
            else:
                tar.extractall(model_dir)
    return joblib.load(model_dir / "model.joblib")


def main(argv: list[str] | None = None) -> dict[str, object]:
    import pandas as pd

    args = parse_args(argv)
    model = load_model(args.model_dir)
    files = sorted(args.test_dir.glob("*.csv"))
    if not files:
        raise SystemExit(f"evaluate: no *.csv file in {args.test_dir}")
    test = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    metrics = scores(model, test.drop(columns=[TARGET]).to_numpy(), test[TARGET].to_numpy())
    report: dict[str, object] = {
        METRICS_KEY: {name: {"value": round(float(metrics[name]), 6)} for name in METRIC_NAMES},
        "test_rows": len(test),
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n")
    print("evaluate: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    return report


def scores(model: Any, features: Any, truth: Any) -> dict[str, float]:
    """Every metric of ``METRIC_NAMES``: the model's predictions against ``truth``."""
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        precision_score,
        recall_score,
        roc_auc_score,
    )

    predicted = model.predict(features)
    probability = model.predict_proba(features)[:, 1]
    return {
        "accuracy": accuracy_score(truth, predicted),
        "precision": precision_score(truth, predicted, zero_division=0),
        "recall": recall_score(truth, predicted, zero_division=0),
        "f1": f1_score(truth, predicted, zero_division=0),
        "roc_auc": roc_auc_score(truth, probability),
    }


if __name__ == "__main__":
    main(sys.argv[1:])
