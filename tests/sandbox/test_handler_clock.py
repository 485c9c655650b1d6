"""Lambda handlers read the sandbox's clock: moved on, warm environments see the new time too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sandbox.emulator import Emulator
from sandbox.event_delivery import SandboxClock
from sandbox.lambda_runtime import LambdaRuntime
from tests.sandbox.conftest import deploy, zip_of

NOW = """\
from datetime import UTC, datetime


def handler(event, context):
    return {"now": datetime.now(UTC).isoformat(), "naive": datetime.utcnow().isoformat()}
"""


def handler_now(emulator: Emulator) -> tuple[datetime, datetime]:
    reply = emulator.client("lambda").invoke(FunctionName="clock", Payload=b"{}")
    answer = json.loads(reply["Payload"].read())
    return datetime.fromisoformat(answer["now"]), datetime.fromisoformat(answer["naive"])


def test_a_handler_sees_the_time_the_sandbox_moved_on_to(emulator: Emulator) -> None:
    clock = SandboxClock()
    LambdaRuntime(emulator, clock=clock)
    deploy(emulator, "clock", "app.handler", zip_of({"app.py": NOW}))

    before, _ = handler_now(emulator)
    clock.advance(timedelta(hours=25))
    after, naive = handler_now(emulator)  # the same warm environment

    assert abs(before - datetime.now(UTC)) < timedelta(minutes=1)
    assert abs(after - before - timedelta(hours=25)) < timedelta(minutes=1)
    assert abs(naive.replace(tzinfo=UTC) - after) < timedelta(minutes=1)
