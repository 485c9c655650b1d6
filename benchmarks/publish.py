"""Time ``publish`` to 3 regions on the emulator: a first publish, and one with nothing changed.

    .venv/bin/python benchmarks/publish.py [--runs 5]

The emulator (moto behind the stand-ins of ``sandbox``) runs in a child process on
127.0.0.1, as an AWS endpoint would run elsewhere; publish runs in this process with
the release made once (the build's checks are timed by ``benchmarks/build_time.py``).
Each run starts a fresh emulator: a first publish (bootstrap and platform stacks, uploads,
Service Catalog products, the S3 template method, in 3 regions), then a publish with
nothing changed. Reports the medians; target for the no-change publish: under 5 s.
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
sys.path.insert(0, str(REPO))

from portfolio_build.config import load_config  # noqa: E402
from portfolio_build.plan_text import Output  # noqa: E402
from portfolio_build.publish import publish  # noqa: E402
from portfolio_build.region_publish import PublishOptions  # noqa: E402
from portfolio_build.release import Release  # noqa: E402
from tests.support.publishing import make_release  # noqa: E402

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1"]
TARGET_NO_CHANGE_SECONDS = 5.0
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


class ChildEmulator:
    """``python -m sandbox.endpoint`` in a child process, stopped on exit."""

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.endpoint"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def one_run(release: Release) -> tuple[float, float]:
    import boto3

    config = load_config(
        environ={}, cwd=release.dist, overrides={"dist": str(release.dist), "regions": REGIONS}
    )
    lines: list[str] = []
    with ChildEmulator() as endpoint:
        os.environ.update({**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint})

        session = boto3.Session(region_name=REGIONS[0])

        def sessions(region: str) -> boto3.Session:
            return session  # as the CLI does: one session, clients name their region

        started = time.perf_counter()
        publish(config, release, PublishOptions(), sessions, output=Output(lines.append))
        first = time.perf_counter() - started
        lines.clear()
        started = time.perf_counter()
        publish(config, release, PublishOptions(), sessions, output=Output(lines.append))
        again = time.perf_counter() - started
        if any("nothing to publish" not in line for line in lines):
            raise SystemExit("the second publish changed something:\n" + "\n".join(lines))
    return first, again


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        release = make_release(Path(tmp) / "dist")
        runs = [one_run(release) for _ in range(args.runs)]
    first = statistics.median(r[0] for r in runs)
    again = statistics.median(r[1] for r in runs)
    result = {
        "regions": len(REGIONS),
        "runs": args.runs,
        "first_publish_median_s": round(first, 2),
        "no_change_publish_median_s": round(again, 2),
        "first_publish_s": [round(r[0], 2) for r in runs],
        "no_change_publish_s": [round(r[1], 2) for r in runs],
        "no_change_target_s": TARGET_NO_CHANGE_SECONDS,
        "no_change_within_target": again < TARGET_NO_CHANGE_SECONDS,
    }
    print(json.dumps(result, indent=2))
    return 0 if again < TARGET_NO_CHANGE_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
