"""Every ignored event says why in the function's log, under the runtime's own logging.

The handlers run from the built Lambda zip in the sandbox's runtime, whose root logger is the
Python runtime's (one handler, level WARNING); the reasons are logged by the modules the
handlers call, not only by the handler modules.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portfolio.deployments import ENDPOINT_EVENTS_HANDLER, MODEL_DEPLOY_HANDLER
from portfolio.platform import TRAINING_TRIGGER_HANDLER
from portfolio_build.render import package_lambda
from sandbox.emulator import Emulator
from sandbox.lambda_runtime import LambdaRuntime
from tests.sandbox.conftest import deploy
from tests.sandbox.conftest import emulator as emulator

EVENTS = Path(__file__).parents[1] / "events"


def stored(name: str, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    edit(event)
    return event


def pending_approval(event: dict[str, Any]) -> None:
    event["detail"]["ModelApprovalStatus"] = "PendingManualApproval"


def updating(event: dict[str, Any]) -> None:
    event["detail"]["EndpointStatus"] = "UPDATING"


CASES = [
    (
        MODEL_DEPLOY_HANDLER,
        stored("sagemaker-model-package-state-change-approved.json", pending_approval),
        "Ignored: status 'PendingManualApproval' needs no deployment",
    ),
    (
        ENDPOINT_EVENTS_HANDLER,
        stored("sagemaker-endpoint-state-change-in-service.json", updating),
        "Ignored: state Updating needs nothing",
    ),
    (
        TRAINING_TRIGGER_HANDLER,
        stored("codecommit-tag-created.json", lambda _: None),
        "Ignored: ",
    ),
]


@pytest.fixture(scope="module")
def runtime(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> LambdaRuntime:
    runtime = LambdaRuntime(emulator)
    code = package_lambda(tmp_path_factory.mktemp("dist")).path.read_bytes()
    for number, (handler, _, _) in enumerate(CASES):
        deploy(emulator, f"handler-{number}", handler, code, Timeout=30)
    return runtime


@pytest.mark.parametrize(("number", "case"), list(enumerate(CASES)), ids=lambda v: str(v)[:40])
def test_an_ignored_event_says_why_in_the_functions_log(
    runtime: LambdaRuntime, number: int, case: tuple[str, dict[str, Any], str]
) -> None:
    _, event, reason = case

    reply = runtime.invoke(f"handler-{number}", json.dumps(event).encode())

    assert "FunctionError" not in reply, reply
    logged = [line for line in runtime.logs(f"handler-{number}") if reason in line]
    assert logged, runtime.logs(f"handler-{number}")
    assert logged[0].startswith("[INFO]")
