"""Time ``python build.py sandbox`` as a user runs it, and the memory its process tree holds.

    .venv/bin/python benchmarks/sandbox.py [--runs 3] [--products a,b] [-- extra options]

Each run is the command in a child process (``dist/`` built once before, so the
runs measure the sandbox, not the build's checks); the figures are the median
wall time of the runs, each run's time and step count from its ``--report``, and
the peak resident set (RSS) and proportional set (PSS) of the whole process tree
(the command, its Lambda workers, builds, pipeline jobs and served models),
sampled every 100 ms, and the PSS of each part (emulator, builds, MLflow server, jobs,
Lambda environments) at the peak and at its own peak. Targets: median under 90 s, peak
under 1 GB, on a 2-CPU machine. The machine's load changes every figure: the load average
is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sandbox_parts import MemoryPeak

REPO = Path(__file__).resolve().parent.parent
# What each process of the tree is, by its command line (the first that matches).
PARTS = (
    ("MLflow server", "uvicorn"),
    ("builds (python -m pipelines.ci)", "codebuild-"),
    ("builds (python -m pipelines.ci)", "pipelines."),
    ("pipeline jobs and served models", "container_paths.py"),
    ("Lambda environments", "Lambda worker process"),
    ("emulator and the walk", "build.py sandbox"),
    ("git (the walk's and the builds' clones and pushes)", "git-core/"),
    ("git (the walk's and the builds' clones and pushes)", "git "),
)


def part_of(command_line: str) -> str:
    if not command_line:  # between fork and exec, or exiting: /proc has no command line
        return "processes starting or ending"
    return next((part for part, marker in PARTS if marker in command_line), "other")


def run_once(products: str | None, extra: list[str], report: Path) -> tuple[float, int, dict]:
    command = [sys.executable, "build.py", "sandbox", "--report", str(report), *extra]
    if products:
        command += ["--products", products]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    document = json.loads(report.read_text()) if report.is_file() else {}
    if done.returncode != 0:
        failed = document.get("failed_step") or {}
        print(done.stderr[-3000:], file=sys.stderr)
        if failed:
            print(f"failed: {failed.get('project')}: {failed.get('step')}:", file=sys.stderr)
            print(failed.get("detail", ""), file=sys.stderr)
        else:
            print(done.stdout[-3000:], file=sys.stderr)
    return seconds, done.returncode, document


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--products", help="as the command's --products (default: all four)")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    subprocess.run([sys.executable, "build.py"], cwd=REPO, check=True, capture_output=True)
    times = []
    loads = []
    with MemoryPeak(part_of) as memory, tempfile.TemporaryDirectory() as scratch:
        for number in range(args.runs):
            report = Path(scratch) / f"run-{number}.json"
            seconds, status, document = run_once(args.products, extra, report)
            loads.append(os.getloadavg()[0])
            steps = len(document.get("steps", []))
            print(f"run {number + 1}: {seconds:6.1f} s, exit {status}, {steps} steps", flush=True)
            if status != 0:
                return status
            times.append(seconds)
    print(f"median of {len(times)} runs: {statistics.median(times):.1f} s (target < 90 s)")
    print(f"peak RSS of the process tree: {memory.peak_kb / 1024:.0f} MB (target < 1024 MB)")
    print(f"peak PSS of the process tree: {memory.peak_pss_kb / 1024:.0f} MB")
    print("PSS by part, at the peak and each part's own peak:")
    for part in sorted(memory.part_peaks, key=lambda p: -memory.part_peaks[p]):
        at_peak = memory.peak_parts.get(part, 0) / 1024
        print(f"  {part:52} {at_peak:6.0f} MB {memory.part_peaks[part] / 1024:6.0f} MB")
    print(
        f"load average during the runs: {', '.join(f'{x:.1f}' for x in loads)} on "
        f"{os.cpu_count()} CPUs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
