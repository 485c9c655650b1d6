"""The documented local run: preprocess, train and evaluate on the bundled sample, < 60 s."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from pipelines.local import run_locally
from pipelines.training_settings import HYPERPARAMETERS, MIN_ACCURACY
from steps.evaluate import METRIC_NAMES

from tests.seed_code.conftest import SCENARIO_NAMES

LOCAL_RUN_BUDGET_SECONDS = 60


def test_the_local_run_trains_and_evaluates_a_model_worth_registering(tmp_path):
    run = run_locally(tmp_path / "run")

    assert run.metric >= MIN_ACCURACY
    evaluation = json.loads((tmp_path / "run" / "evaluation" / "evaluation.json").read_text())
    assert set(evaluation["binary_classification_metrics"]) == set(METRIC_NAMES)
    assert evaluation["test_rows"] > 0
    dataset = json.loads((tmp_path / "run" / "processing" / "dataset" / "dataset.json").read_text())
    assert dataset["rows"] == 569 and len(dataset["sha256"]) == 64
    model_dir = tmp_path / "run" / "model"
    assert {p.name for p in model_dir.iterdir()} == {"model.joblib", "model_info.json", "code"}
    assert (model_dir / "code" / "inference.py").is_file()
    assert (
        json.loads((model_dir / "model_info.json").read_text())["hyperparameters"]
        == HYPERPARAMETERS
    )
    assert run.payload_problems and all(
        problems == [] for problems in run.payload_problems.values()
    )
    assert run.ok


def test_the_dataset_version_is_stable_and_the_split_reproducible(tmp_path):
    first = run_locally(tmp_path / "first", payloads_dir=None)
    second = run_locally(tmp_path / "second", payloads_dir=None)
    assert first.dataset["sha256"] == second.dataset["sha256"]
    assert first.metric == second.metric


def test_an_unreachable_threshold_says_the_model_would_not_be_registered(tmp_path):
    run = run_locally(tmp_path / "run", min_accuracy=1.01, payloads_dir=None)
    assert not run.passed_threshold and not run.ok


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_the_documented_command_runs_in_under_a_minute(seed_repository, scenario):
    repo = seed_repository(scenario)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.local"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - started

    assert completed.returncode == 0, completed.stderr
    assert "would register" in completed.stdout
    assert "payload single_csv_record: ok" in completed.stdout
    assert elapsed < LOCAL_RUN_BUDGET_SECONDS
    summary = json.loads((repo / "local_runs" / "latest" / "summary.json").read_text())
    assert summary["value"] >= summary["min_accuracy"]
