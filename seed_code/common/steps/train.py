"""Train: fit a gradient-boosted classifier on ``train.csv``.

Writes into ``--model-dir`` (SageMaker tars it into ``model.tar.gz``):
``model.joblib``, ``model_info.json`` (features, hyperparameters, validation
accuracy) and ``code/inference.py``, the serving script the scikit-learn
container loads (``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``).

Hyperparameters arrive as ``--<name> <value>`` (SageMaker passes the training
job's hyperparameters that way), every one from pipelines/training_settings.py,
their one home: this script has no defaults of its own. ``model_arguments()``
reads them by name; a hyperparameter it reads that was not given, or one given
that it does not read, stops the run with an error naming the settings file.
The ML libraries are imported where the job uses them: the CI checks the
settings with ``model_arguments()`` without loading them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.ensemble import GradientBoostingClassifier

TARGET = "target"
HERE = Path(__file__).resolve().parent
SETTINGS_FILE = "pipelines/training_settings.py"  # where the hyperparameters are set


class HyperparameterError(SystemExit):
    """A hyperparameter is missing, unused or malformed; the message names the settings file."""


class Hyperparameters:
    """The hyperparameters given to this run, which remembers those that were read."""

    def __init__(self, values: dict[str, object]) -> None:
        self._values = dict(values)
        self._read: set[str] = set()

    def __getitem__(self, name: str) -> object:
        if name not in self._values:
            raise HyperparameterError(
                f"train: hyperparameter {name!r} is read by steps/train.py but not set in "
                f"{SETTINGS_FILE} (HYPERPARAMETERS); add it there"
            )
        self._read.add(name)
        return self._values[name]

    def integer(self, name: str) -> int:
        value = self[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise HyperparameterError(
                f"train: hyperparameter {name!r} must be an integer, got {value!r} "
                f"(set in {SETTINGS_FILE})"
            )
        return value

    def number(self, name: str) -> float:
        value = self[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise HyperparameterError(
                f"train: hyperparameter {name!r} must be a number, got {value!r} "
                f"(set in {SETTINGS_FILE})"
            )
        return float(value)

    def check_all_read(self) -> None:
        unused = sorted(set(self._values) - self._read)
        if unused:
            raise HyperparameterError(
                f"train: hyperparameter {unused[0]!r} is set in {SETTINGS_FILE} but "
                "steps/train.py does not read it; read it in model_arguments() or remove it"
            )

    def as_dict(self) -> dict[str, object]:
        return dict(self._values)


def model_arguments(hyperparameters: Hyperparameters) -> dict[str, object]:
    """The untrained model's arguments. Each hyperparameter it takes is read here, by name."""
    arguments: dict[str, object] = {
        "n_estimators": hyperparameters.integer("n_estimators"),
        "max_depth": hyperparameters.integer("max_depth"),
        "learning_rate": hyperparameters.number("learning_rate"),
        "random_state": hyperparameters.integer("random_state"),
    }
    hyperparameters.check_all_read()
    return arguments


def build_model(hyperparameters: Hyperparameters) -> GradientBoostingClassifier:
    """The untrained model, made with :func:`model_arguments`."""
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(**model_arguments(hyperparameters))


def parse_hyperparameters(arguments: list[str]) -> Hyperparameters:
    """``--name value`` pairs; values are JSON (``100``, ``0.1``, ``true``) or plain text."""
    values: dict[str, object] = {}
    pairs = iter(arguments)
    for flag in pairs:
        name = flag.removeprefix("--")
        value = next(pairs, None)
        if name == flag or not name or value is None:
            raise HyperparameterError(
                f"train: cannot read hyperparameters {' '.join(arguments)!r}: expected "
                "--<name> <value> pairs"
            )
        try:
            values[name] = json.loads(value)
        except ValueError:
            values[name] = value
    return Hyperparameters(values)


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
    args, rest = parser.parse_known_args(argv)
    args.hyperparameters = parse_hyperparameters(rest)
    return args


def read_split(directory: Path) -> pd.DataFrame:
    import pandas as pd

    files = sorted(directory.glob("*.csv"))
    if not files:
        raise SystemExit(f"train: no *.csv file in {directory}")
    return pd.concat([pd.read_csv(path) for path in files], ignore_index=True)


def main(argv: list[str] | None = None) -> dict[str, object]:
    import joblib
    from sklearn.metrics import accuracy_score

    args = parse_args(argv)
    model = build_model(args.hyperparameters)  # a settings mistake stops the run before any work
    hyperparameters = args.hyperparameters.as_dict()
    train = read_split(args.train_dir)
    features = [c for c in train.columns if c != TARGET]
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
