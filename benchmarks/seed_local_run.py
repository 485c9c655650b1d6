"""Time the seed code's documented local run: ``python -m pipelines.local``, median of 3.

    .venv/bin/python benchmarks/seed_local_run.py [--runs 3] [--scenario baseline]

Each run is a fresh process in a fresh copy of the scenario's seed repository
(seed_code/common overlaid by seed_code/<scenario>), so imports are counted as a
data scientist meets them. Target: under 60 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "seed_code"
TARGET_SECONDS = 60.0
COMMAND = [sys.executable, "-m", "pipelines.local"]


def seed_repository(scenario: str, destination: Path) -> Path:
    """The files of the scenario's seed zip (README composed), copied into ``destination``."""
    sys.path.insert(0, str(REPO))
    from portfolio_build import render

    staging = destination.parent / f"{destination.name}-staging"
    for name, source in render.seed_files(SEED, scenario, staging).items():
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination / name)
    return destination


def one_run(repo: Path) -> tuple[float, str]:
    started = time.perf_counter()
    completed = subprocess.run(COMMAND, cwd=repo, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"local run failed:\n{completed.stdout}\n{completed.stderr}")
    return elapsed, completed.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scenario", default="baseline", choices=["baseline", "advanced"])
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.runs):
            repo = seed_repository(args.scenario, Path(scratch) / f"repo-{run}")
            seconds, output = one_run(repo)
            times.append(seconds)
            verdict = next(line for line in output.splitlines() if "MinAccuracy" in line)
            print(f"run {run + 1}: {seconds:.2f} s  ({verdict})")
    median = statistics.median(times)
    ok = median < TARGET_SECONDS
    print(
        f"median {median:.2f} s over {args.runs} runs of `python -m pipelines.local` "
        f"({args.scenario}); target < {TARGET_SECONDS:.0f} s: {'ok' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
