"""Time the model-deploy handler from event to return, against moto (in-process).

    .venv/bin/python benchmarks/deploy_handler.py [--runs 30]

What is timed is the Lambda entry point (``model_deploy.handler``) with the
environment the platform stack sets, from the call with a stored "Model Package
State Change" event to its return: registry lookups, reading the project's
published config, validating it, creating the model, rollback alarm and endpoint
config, and starting CreateEndpoint (first approval of a project) or a blue/green
UpdateEndpoint (every later approval). The first create and the first update of the
process also pay for creating AWS clients (a cold Lambda container); they are
reported apart from the warm calls. Moto
answers in-process, so AWS latency is not included: on AWS each of the ~15 calls
adds tens of milliseconds. Target: median under 1 s.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_SECONDS = 1.0
REGION = "us-east-1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed approvals per path")
    args = parser.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    import boto3

    from lambda_project_lifecycle.clients import AwsClients
    from lambda_project_lifecycle.deployments import deployer, model_deploy
    from sandbox.emulator_gaps import SageMakerGaps
    from tests.support.deployments import (
        DATA_BUCKET,
        MODEL_ROLE_ARN,
        REGISTRY_TABLE,
        HandlerContext,
        deploy_world,
    )

    with deploy_world() as world:
        os.environ.update(
            PROJECT_REGISTRY_TABLE=REGISTRY_TABLE,
            NOTIFICATION_TOPIC_ARN=world.settings.topic_arn,
            PROJECT_DATA_BUCKET=DATA_BUCKET,
            MODEL_EXECUTION_ROLE_ARN=MODEL_ROLE_ARN,
        )
        # The handler's own clients, as in a fresh Lambda container (nothing injected).
        clients = AwsClients(boto3.session.Session(region_name=REGION))
        # moto has no UpdateEndpoint: the tests' one gap filler answers it (see emulator_gaps).
        # It needs the SageMaker client now; its creation time counts toward the cold call.
        started = time.perf_counter()
        SageMakerGaps(clients.sagemaker)
        sagemaker_client_seconds = time.perf_counter() - started

        deployer.CONTAINER_CLIENTS = clients

        def invoke(event: dict[str, Any]) -> tuple[float, dict[str, Any]]:
            started = time.perf_counter()
            result = model_deploy.handler(event, HandlerContext())
            return time.perf_counter() - started, result

        def approval(package: str) -> dict[str, Any]:
            world.set_status(package, "Approved")
            return copy.deepcopy(world.package_event(package, "Approved"))

        creates: list[float] = []
        updates: list[float] = []
        cold = first_update = 0.0
        for run in range(args.runs):
            names = world.create_project(f"bench-{run}", f"p-bench{run:08d}")
            world.publish_config(
                names,
                "prod",
                {
                    "schema_version": 1,
                    "production": {"deployment": {"strategy": "canary"}},
                },
            )
            group = names.model_package_group("prod")
            first, second = world.register_package(group), world.register_package(group)
            seconds, result = invoke(approval(first))
            assert result["action"] == "deploying", result
            if run == 0:
                cold = seconds + sagemaker_client_seconds
            else:
                creates.append(seconds)
            seconds, result = invoke(approval(second))
            assert result["guardrails"] == "blue/green, canary", result
            if run == 0:
                first_update = seconds  # also creates the Application Auto Scaling client
            else:
                updates.append(seconds)

    every = creates + updates
    summary = {
        "cold_first_call_s": round(cold, 3),
        "first_update_s": round(first_update, 3),
        "create_median_s": round(statistics.median(creates), 3),
        "update_median_s": round(statistics.median(updates), 3),
        "median_s": round(statistics.median(every), 3),
        "p90_s": round(statistics.quantiles(every, n=10)[-1], 3),
        "max_s": round(max(every), 3),
        "timed_calls": len(every),
    }
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}")
    print(
        f"cold: first call {cold:.3f} s (creates the AWS clients), first update "
        f"{first_update:.3f} s (creates the Application Auto Scaling client)"
    )
    print(
        f"create endpoint: median {summary['create_median_s']:.3f} s over {len(creates)}; "
        f"blue/green update: median {summary['update_median_s']:.3f} s over {len(updates)}"
    )
    print(
        f"event to return: median {summary['median_s']:.3f} s, p90 {summary['p90_s']:.3f} s, "
        f"max {summary['max_s']:.3f} s (target < {TARGET_SECONDS} s)"
    )
    print(json.dumps(summary, sort_keys=True))
    ok = summary["median_s"] < TARGET_SECONDS
    print("result:", "within target" if ok else "OVER TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
