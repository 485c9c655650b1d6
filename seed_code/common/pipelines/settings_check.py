"""Check pipelines/training_settings.py before anything trains.

Run by ``make plan`` (and so by every build before it starts the pipeline),
by ``make local`` and by the repository's tests: the hyperparameters must be
exactly those steps/train.py reads, and the threshold must name a metric
steps/evaluate.py writes, each error naming the settings file.
"""

from __future__ import annotations

import math

from steps import evaluate, train

from pipelines import training_settings
from pipelines.errors import SeedError


class TrainingSettingsError(SeedError):
    """pipelines/training_settings.py disagrees with the training or evaluation script."""


def check_training_settings() -> None:
    where = training_settings.SETTINGS_FILE
    try:
        train.model_arguments(train.Hyperparameters(training_settings.HYPERPARAMETERS))
    except train.HyperparameterError as exc:
        raise TrainingSettingsError(str(exc)) from None
    metric = training_settings.THRESHOLD_METRIC
    if metric not in evaluate.METRIC_NAMES:
        raise TrainingSettingsError(
            f"{where}: THRESHOLD_METRIC {metric!r} is not a metric of steps/evaluate.py "
            f"({', '.join(evaluate.METRIC_NAMES)})"
        )
    threshold = training_settings.MIN_ACCURACY
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise TrainingSettingsError(f"{where}: MIN_ACCURACY {threshold!r} is not a number")
    if not math.isfinite(threshold) or not 0 <= threshold <= 1:
        raise TrainingSettingsError(
            f"{where}: MIN_ACCURACY {threshold!r} is outside 0..1 ({metric} lies between 0 and 1)"
        )
