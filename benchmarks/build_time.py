"""Time a full ``python build.py`` (generate, package, lint in 3 regions) and its peak memory.

    .venv/bin/python benchmarks/build_time.py [--runs 5]

Each run is a fresh process into a fresh directory; wall time and peak RSS are
read from the child's resource usage. Targets: median under 5 s, peak under
200 MB, Lambda zip under 2 MB.
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

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 5.0
TARGET_PEAK_MB = 200.0
TARGET_ZIP_BYTES = 2 * 1024 * 1024


def one_build(dist: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one build in a new process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "--dist", str(dist)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(
            f"build failed: {process.stderr.read().decode() if process.stderr else ''}"
        )
    return elapsed, usage.ru_maxrss / 1024.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times, peaks = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.runs):
            dist = Path(scratch) / f"dist-{run}"
            seconds, peak = one_build(dist)
            times.append(seconds)
            peaks.append(peak)
            print(f"run {run + 1}: {seconds:.2f} s, peak {peak:.0f} MB")
        manifest = json.loads((dist / "manifest.json").read_text())
    zip_bytes = next(e["bytes"] for e in manifest["artifacts"] if e["kind"] == "lambda")
    median, peak = statistics.median(times), max(peaks)
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}")
    print(
        f"build median: {median:.2f} s (min {min(times):.2f}, max {max(times):.2f}; "
        f"target < {TARGET_SECONDS} s)"
    )
    print(f"build peak memory: {peak:.0f} MB (target < {TARGET_PEAK_MB:.0f} MB)")
    print(
        f"lambda zip: {zip_bytes} bytes ({zip_bytes / 1024:.1f} KiB; "
        f"target < {TARGET_ZIP_BYTES} bytes)"
    )
    ok = median < TARGET_SECONDS and peak < TARGET_PEAK_MB and zip_bytes < TARGET_ZIP_BYTES
    print("result:", "within targets" if ok else "OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
