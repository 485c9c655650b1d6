"""Run preprocess → train → evaluate on this machine, on the bundled sample dataset.

    python -m pipelines.local            # or: make local

The same scripts the SageMaker pipeline runs (steps/), with the same
hyperparameters (pipelines/training_settings.py), on the sample that ships
with scikit-learn: no AWS account and no download needed. Then every
integration-test payload is sent to the trained model through the serving
functions (steps/inference.py). Exits 1 if the model would not be registered
(accuracy below MinAccuracy) or a payload check fails; 2 if something is set
up wrong (training settings, payload files, project.json, output directory).

MLflow projects also log the run to the tracking server, and with
``--register`` register it into the branch's model (see pipelines.local_mlflow).

Outputs go to ``local_runs/latest/`` (ignored by git): the splits, the model
directory as SageMaker would tar it, ``dataset.json`` and ``evaluation.json``.
A run replaces only what an earlier run wrote there (the entries of
``RUN_OUTPUTS``, found through the ``.local-run`` marker file); it refuses an
``--output-dir`` that is not empty and holds no marker, the repository root or
a directory above it, and one that is, holds or lies inside ``--input-dir``
(exit status 2, nothing deleted).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from steps import evaluate, inference, preprocess, train

from pipelines import local_mlflow
from pipelines.errors import LocalRunError, SeedError
from pipelines.payloads import check_response, load_payloads
from pipelines.project import PROJECT_FILE, REPO_ROOT, Project, load_project
from pipelines.sample_data import write_sample_csv
from pipelines.settings_check import check_training_settings
from pipelines.training_settings import HYPERPARAMETERS, MIN_ACCURACY, THRESHOLD_METRIC

DEFAULT_OUTPUT = REPO_ROOT / "local_runs" / "latest"
DEFAULT_PAYLOADS = REPO_ROOT / "integration_tests" / "payloads"
# Written first into every output directory: a later run may replace what this run wrote.
RUN_MARKER = ".local-run"
# Everything a run writes under its output directory; the only entries a later run deletes.
RUN_OUTPUTS = ("input", "processing", "model", "evaluation", "summary.json", RUN_MARKER)


@dataclass(frozen=True)
class LocalRun:
    output_dir: Path
    dataset: dict[str, object]
    evaluation: dict[str, object]
    metric: float
    min_accuracy: float
    payload_problems: dict[str, list[str]]
    seconds: float

    @property
    def passed_threshold(self) -> bool:
        return self.metric >= self.min_accuracy

    @property
    def ok(self) -> bool:
        return self.passed_threshold and not any(self.payload_problems.values())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.local", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="a new or empty directory, or an earlier run's (default: local_runs/latest)",
    )
    parser.add_argument(
        "--input-dir",
        type=Path,
        help="a directory of *.csv files with a 'target' column (default: the sample)",
    )
    parser.add_argument(
        "--min-accuracy",
        type=float,
        default=MIN_ACCURACY,
        help="the threshold (default: MIN_ACCURACY of pipelines/training_settings.py)",
    )
    parser.add_argument("--payloads-dir", type=Path, default=DEFAULT_PAYLOADS)
    mlflow = parser.add_argument_group("MLflow projects")
    mlflow.add_argument(
        "--tracking-uri",
        help=f"the tracking server (default: {local_mlflow.TRACKING_URI_VARIABLE}, "
        "else project.json's mlflow_tracking_uri)",
    )
    mlflow.add_argument(
        "--register",
        action="store_true",
        help="also register a run that passes into the branch's registered model",
    )
    mlflow.add_argument("--no-mlflow", action="store_true", help="do not log this run")
    return parser.parse_args(argv)


def hyperparameter_args(hyperparameters: Mapping[str, object]) -> list[str]:
    """``--name value`` pairs, the way SageMaker passes a training job's hyperparameters
    (text as it is, anything else as JSON)."""
    return [
        part
        for name, value in hyperparameters.items()
        for part in (f"--{name}", value if isinstance(value, str) else json.dumps(value))
    ]


def run_locally(
    output_dir: Path,
    input_dir: Path | None = None,
    min_accuracy: float = MIN_ACCURACY,
    payloads_dir: Path | None = DEFAULT_PAYLOADS,
) -> LocalRun:
    started = time.perf_counter()
    prepare_output_dir(output_dir, input_dir)
    if input_dir is None:
        input_dir = output_dir / "input"
        write_sample_csv(input_dir / "breast_cancer.csv")
    processing = output_dir / "processing"
    model_dir = output_dir / "model"
    dataset = preprocess.main(["--input-dir", str(input_dir), "--output-dir", str(processing)])
    train.main(
        [
            "--train-dir", str(processing / "train"),
            "--validation-dir", str(processing / "validation"),
            "--model-dir", str(model_dir),
            *hyperparameter_args(HYPERPARAMETERS),
        ]
    )  # fmt: skip
    evaluation = evaluate.main(
        [
            "--model-dir", str(model_dir),
            "--test-dir", str(processing / "test"),
            "--output-dir", str(output_dir / "evaluation"),
        ]
    )  # fmt: skip
    metrics = evaluation[evaluate.METRICS_KEY]
    metric = float(metrics[THRESHOLD_METRIC]["value"])  # type: ignore[index]
    problems = send_payloads(model_dir, payloads_dir) if payloads_dir is not None else {}
    return LocalRun(
        output_dir,
        dataset,
        evaluation,
        metric,
        min_accuracy,
        problems,
        time.perf_counter() - started,
    )


def prepare_output_dir(
    output_dir: Path, input_dir: Path | None = None, repo_root: Path = REPO_ROOT
) -> None:
    """Empty ``output_dir`` of an earlier run's outputs, or refuse to touch it.

    Deletes only the entries of ``RUN_OUTPUTS``, and only in a directory that
    is new, empty or marked by an earlier run; anything else there is kept.
    """
    output = output_dir.resolve()
    root = repo_root.resolve()
    if output == root or output in root.parents:
        raise LocalRunError(
            f"--output-dir {output_dir} is the repository root or a directory above it; "
            "a local run writes there, so choose a directory of its own "
            "(default: local_runs/latest)"
        )
    if input_dir is not None:
        data = input_dir.resolve()
        if output == data or data in output.parents or output in data.parents:
            raise LocalRunError(
                f"--output-dir {output_dir} and --input-dir {input_dir} overlap; a local run "
                "replaces its output directory, so keep the data outside it"
            )
    if output.exists() and not output.is_dir():
        raise LocalRunError(f"--output-dir {output_dir} is a file, not a directory")
    if output.is_dir() and not (output / RUN_MARKER).is_file() and any(output.iterdir()):
        raise LocalRunError(
            f"--output-dir {output_dir} is not empty and holds no earlier local run "
            f"(no {RUN_MARKER} file); choose a new or empty directory"
        )
    for name in RUN_OUTPUTS:
        entry = output / name
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        elif entry.exists() or entry.is_symlink():
            entry.unlink()
    output.mkdir(parents=True, exist_ok=True)
    (output / RUN_MARKER).write_text(
        "Written by python -m pipelines.local: the next local run replaces "
        f"{', '.join(RUN_OUTPUTS[:-1])} here.\n"
    )


def send_payloads(model_dir: Path, payloads_dir: Path) -> dict[str, list[str]]:
    """Each payload through the serving functions, checked like the platform checks an endpoint."""
    model = inference.model_fn(str(model_dir))
    problems: dict[str, list[str]] = {}
    for payload in load_payloads(payloads_dir):
        try:
            rows = inference.input_fn(payload.body, payload.content_type)
            body, _ = inference.output_fn(inference.predict_fn(rows, model), payload.accept)
            status = 200
        except ValueError as exc:
            status, body = 400, str(exc)
        problems[payload.name] = check_response(payload, status, body)
    return problems


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        check_training_settings()
        target = _mlflow_target(args, environ)
        run = run_locally(args.output_dir, args.input_dir, args.min_accuracy, args.payloads_dir)
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verdict = "would register" if run.passed_threshold else "would NOT register"
    print(
        f"\n{THRESHOLD_METRIC} {run.metric:.4f} vs MinAccuracy {run.min_accuracy}: {verdict}\n"
        f"dataset sha256 {str(run.dataset['sha256'])[:12]}, outputs in {run.output_dir}"
    )
    for name, problems in run.payload_problems.items():
        print(f"payload {name}: {'ok' if not problems else '; '.join(problems)}")
    print(f"local run took {run.seconds:.1f} s")
    (run.output_dir / "summary.json").write_text(
        json.dumps(
            {
                "metric": THRESHOLD_METRIC,
                "value": run.metric,
                "min_accuracy": run.min_accuracy,
                "payload_problems": run.payload_problems,
                "seconds": round(run.seconds, 3),
            },
            indent=2,
        )
        + "\n"
    )
    if target is not None:
        input_uri = str((args.input_dir or run.output_dir / "input").resolve())
        try:
            print(local_mlflow.log_run(target, run.output_dir, input_uri, registrable=run.ok))
        except SeedError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    return 0 if run.ok else 1


def _mlflow_target(
    args: argparse.Namespace, environ: Mapping[str, str]
) -> local_mlflow.MlflowTarget | None:
    """Where an MLflow project logs this run (None: not an MLflow project, or --no-mlflow)."""
    project: Project | None = load_project() if PROJECT_FILE.is_file() else None
    if project is None or project.registry != "mlflow":
        if args.register:
            raise LocalRunError(
                "--register is for MLflow projects; this project registers models through "
                "its pipeline (push to a feature-<name> branch or dev)"
            )
        return None
    if args.no_mlflow:
        return None
    local_mlflow.register_step()  # MLflow installed? Said before training, not after
    checkout = local_mlflow.Checkout.of(REPO_ROOT)
    return local_mlflow.plan_target(project, args.tracking_uri, args.register, environ, checkout)


if __name__ == "__main__":
    sys.exit(main())
