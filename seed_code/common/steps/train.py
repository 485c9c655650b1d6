"""Train: fit a gradient-boosted classifier on ``train.csv``.

Writes into ``--model-dir`` (SageMaker tars it into ``model.tar.gz``):
``model.joblib``, ``model_info.json`` (features, hyperparameters, validation
accuracy) and ``code/inference.py``, the serving script the scikit-learn
container loads (``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``).

Hyperparameters arrive as ``--<name> <value>`` (SageMaker passes the training
job's hyperparameters that way); defaults live in pipelines/training_settings.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import joblib
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import accuracy_score

TARGET = "target"
HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--train-dir",
        type=Path,
        default=Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")),
    )
    parser.add_argument(
        "--validation-dir",
        type=Path,
        default=Path(os.environ.get("SM_CHANNEL_VALIDATION", "/opt/ml/input/data/validation")),
    )
    parser.add_argument(
        "--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    )
    parser.add_argument("--n_estimators", type=int, default=100)
    parser.add_argument("--max_depth", type=int, default=3)
    parser.add_argument("--learning_rate", type=float, default=0.1)
    parser.add_argument("--random_state", type=int, default=42)
    return parser.parse_args(argv)


def read_split(directory: Path) -> pd.DataFrame:
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise SystemExit(f"train: no *.csv file in {directory}")
    return pd.concat([pd.read_csv(path) for path in files], ignore_index=True)


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    train = read_split(args.train_dir)
    features = [c for c in train.columns if c != TARGET]
    hyperparameters = {
        "n_estimators": args.n_estimators,
        "max_depth": args.max_depth,
        "learning_rate": args.learning_rate,
        "random_state": args.random_state,
    }
    model = GradientBoostingClassifier(**hyperparameters)
    model.fit(train[features].to_numpy(), train[TARGET].to_numpy())

    info: dict[str, object] = {"features": features, "hyperparameters": hyperparameters}
    if args.validation_dir.is_dir() and any(args.validation_dir.glob("*.csv")):
        validation = read_split(args.validation_dir)
        predicted = model.predict(validation[features].to_numpy())
        info["validation_accuracy"] = float(accuracy_score(validation[TARGET], predicted))

    args.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.model_dir / "model.joblib")
    (args.model_dir / "model_info.json").write_text(json.dumps(info, indent=2) + "\n")
    code_dir = args.model_dir / "code"
    code_dir.mkdir(exist_ok=True)
    shutil.copy2(HERE / "inference.py", code_dir / "inference.py")
    print(
        f"train: {len(train)} rows, {len(features)} features, "
        f"validation accuracy {info.get('validation_accuracy', 'n/a')}"
    )
    return info


if __name__ == "__main__":
    main(sys.argv[1:])
