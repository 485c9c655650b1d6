"""Time an MLflow alias change to the deployment it starts: webhook delivery included.

    .venv/bin/python benchmarks/mlflow_webhook.py [--runs 20]

A real MLflow server (SQLite, on 127.0.0.1) delivers its ``model_version_alias.created``
webhook to a local receiver that calls the webhook handler (signature, replay record,
registry lookups, two REST calls back to MLflow, the archive check, the deployment
engine: model, alarm, endpoint config, CreateEndpoint or a blue/green UpdateEndpoint);
AWS is moto in-process. Timed: from ``set_registered_model_alias`` returning to the
handler's answer ``deploying`` (what MLflow's delivery thread adds is included; AWS
latency is not). The alias moves between two versions, so every run after the first
is an update. Target: median under 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed alias moves")
    args = parser.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )

    from tests.lambda_project_lifecycle.deployments.mlflow_world import (
        mlflow_project,
        webhook_server,
    )
    from tests.support.deployments import deploy_world

    with (
        tempfile.TemporaryDirectory() as scratch,
        webhook_server(Path(scratch)) as (url, receiver),
        deploy_world() as world,
    ):
        project = mlflow_project(world, url, "bench", "p-bench0000001")
        receiver.target = project.webhook_event()
        model = project.model("dev")
        versions = [project.register(), project.register()]
        seconds: list[float] = []
        for run in range(args.runs + 1):
            before = len(receiver.deliveries)
            started = time.perf_counter()
            project.client.set_registered_model_alias(model, "approved", versions[run % 2])
            (delivery,) = receiver.wait(before + 1)[before:]
            elapsed = time.perf_counter() - started
            if delivery.result.get("action") != "deploying":
                print(f"run {run}: {delivery.result}", file=sys.stderr)
                return 1
            if run:  # the first one also creates the process's clients
                seconds.append(elapsed)
    median = statistics.median(seconds)
    print(
        f"alias set -> deployment started, {len(seconds)} runs: median {median * 1000:.0f} ms, "
        f"min {min(seconds) * 1000:.0f} ms, max {max(seconds) * 1000:.0f} ms "
        f"(target < {TARGET_SECONDS * 1000:.0f} ms)"
    )
    return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
