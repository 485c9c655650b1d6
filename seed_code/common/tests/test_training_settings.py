"""pipelines/training_settings.py is the one home of the hyperparameters and the threshold."""

from __future__ import annotations

import re

import pytest
from pipelines import settings_check, training_settings
from pipelines.settings_check import TrainingSettingsError, check_training_settings
from steps import train


def test_the_settings_agree_with_the_training_and_evaluation_scripts() -> None:
    check_training_settings()


def test_the_training_script_reads_every_hyperparameter_and_has_no_defaults() -> None:
    given = train.Hyperparameters(training_settings.HYPERPARAMETERS)
    model = train.build_model(given)
    params = model.get_params()
    assert {name: params[name] for name in training_settings.HYPERPARAMETERS} == (
        training_settings.HYPERPARAMETERS
    )


def test_a_hyperparameter_the_script_does_not_read_names_the_settings_file(monkeypatch) -> None:
    monkeypatch.setitem(training_settings.HYPERPARAMETERS, "subsample", 0.8)
    with pytest.raises(TrainingSettingsError, match="'subsample' is set in pipelines/training_"):
        check_training_settings()


def test_a_removed_hyperparameter_names_the_settings_file(monkeypatch) -> None:
    monkeypatch.delitem(training_settings.HYPERPARAMETERS, "max_depth")
    with pytest.raises(
        TrainingSettingsError, match=re.escape("'max_depth' is read by steps/train.py but")
    ):
        check_training_settings()


def test_a_hyperparameter_of_the_wrong_type_is_named(monkeypatch) -> None:
    monkeypatch.setitem(training_settings.HYPERPARAMETERS, "n_estimators", "many")
    with pytest.raises(TrainingSettingsError, match="'n_estimators' must be an integer"):
        check_training_settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("THRESHOLD_METRIC", "auc", "THRESHOLD_METRIC 'auc' is not a metric of steps/evaluate"),
        ("MIN_ACCURACY", 95, "MIN_ACCURACY 95 is outside 0..1"),
        ("MIN_ACCURACY", "0.9", "MIN_ACCURACY '0.9' is not a number"),
    ],
)
def test_a_bad_threshold_names_the_settings_file(monkeypatch, name, value, message) -> None:
    monkeypatch.setattr(training_settings, name, value)
    with pytest.raises(TrainingSettingsError, match=f"pipelines/training_settings.py: {message}"):
        settings_check.check_training_settings()


def test_the_training_job_reads_hyperparameters_the_way_sagemaker_passes_them() -> None:
    given = train.parse_hyperparameters(["--n_estimators", "100", "--learning_rate", "0.1"])
    assert given.as_dict() == {"n_estimators": 100, "learning_rate": 0.1}
    with pytest.raises(train.HyperparameterError, match="--<name> <value> pairs"):
        train.parse_hyperparameters(["--n_estimators"])
