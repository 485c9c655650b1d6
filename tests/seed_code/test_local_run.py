"""The documented local run: preprocess, train and evaluate on the bundled sample."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pipelines import local
from pipelines.local import run_locally
from pipelines.sample_data import write_sample_csv
from pipelines.training_settings import HYPERPARAMETERS, MIN_ACCURACY
from steps.evaluate import METRIC_NAMES

from tests.seed_code.conftest import SCENARIO_NAMES
from tests.support.git_repository import GitRepository


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (``.git`` included) with its content."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


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
def test_the_documented_command_trains_evaluates_and_checks_payloads(seed_repository, scenario):
    # Its time (target < 60 s) is measured by benchmarks/seed_local_run.py, not here.
    repo = seed_repository(scenario)
    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.local"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    assert "would register" in completed.stdout
    assert "payload single_csv_record: ok" in completed.stdout
    summary = json.loads((repo / "local_runs" / "latest" / "summary.json").read_text())
    assert summary["value"] >= summary["min_accuracy"]


def test_an_output_dir_at_the_repository_root_is_refused_and_nothing_is_deleted(seed_repository):
    repo = seed_repository("baseline")
    git = GitRepository(repo)
    head = git.commit("seed code")
    (repo / "work_in_progress.py").write_text("print('not committed yet')\n")
    before = tree(repo)

    completed = subprocess.run(
        [sys.executable, "-m", "pipelines.local", "--output-dir", "."],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 2
    assert completed.stderr.startswith("error: --output-dir . is the repository root")
    assert tree(repo) == before  # .git, uncommitted work: all still there
    assert git.head() == head


@pytest.mark.parametrize(
    ("input_dir", "output_dir"),
    [("mydata", "mydata"), ("mydata", "mydata/run"), ("runs/mydata", "runs")],
)
def test_an_output_dir_overlapping_the_input_dir_is_refused_and_the_data_kept(
    tmp_path, monkeypatch, capsys, input_dir, output_dir
):
    monkeypatch.chdir(tmp_path)
    data = write_sample_csv(Path(input_dir) / "breast_cancer.csv").read_bytes()
    (Path(input_dir) / "README.txt").write_text("where the data came from\n")
    before = tree(tmp_path)

    assert local.main(["--input-dir", input_dir, "--output-dir", output_dir]) == 2

    error = capsys.readouterr().err
    assert error == (
        f"error: --output-dir {output_dir} and --input-dir {input_dir} overlap; a local run "
        "replaces its output directory, so keep the data outside it\n"
    )
    assert tree(tmp_path) == before
    assert (Path(input_dir) / "breast_cancer.csv").read_bytes() == data


def test_a_non_empty_directory_of_no_earlier_run_is_refused_and_kept(tmp_path, capsys):
    results = tmp_path / "results"
    (results / "figures").mkdir(parents=True)
    (results / "figures" / "roc.png").write_bytes(b"\x89PNG")
    (results / "model").mkdir()
    (results / "model" / "hand_tuned.joblib").write_bytes(b"weights")
    before = tree(tmp_path)

    assert local.main(["--output-dir", str(results)]) == 2

    error = capsys.readouterr().err
    assert f"--output-dir {results} is not empty and holds no earlier local run" in error
    assert "no .local-run file" in error
    assert tree(tmp_path) == before


def test_a_rerun_replaces_only_what_the_earlier_run_wrote(tmp_path):
    out = tmp_path / "run"
    run_locally(out, payloads_dir=None)
    (out / "notes.md").write_text("compare with yesterday's run\n")
    (out / "model" / "stale.bin").write_bytes(b"from an older model")

    again = run_locally(out, payloads_dir=None)

    assert (out / "notes.md").read_text() == "compare with yesterday's run\n"
    assert not (out / "model" / "stale.bin").exists()
    assert (out / "model" / "model.joblib").is_file()
    assert (out / ".local-run").is_file()
    assert again.metric >= MIN_ACCURACY
