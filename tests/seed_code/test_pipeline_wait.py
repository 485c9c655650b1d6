"""How the seed's build waits for its pipeline: soon at first, then every 30 s, and never past
the time it was given."""

from __future__ import annotations

from typing import Any

import pytest
from pipelines.pipeline_run import PipelineRunError, wait_for_execution


class Execution:
    """describe_pipeline_execution answering the statuses given, then the last one forever."""

    def __init__(self, *statuses: str) -> None:
        self.statuses = list(statuses)

    def describe_pipeline_execution(self, PipelineExecutionArn: str) -> dict[str, Any]:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"PipelineExecutionStatus": status}


def test_a_short_pipeline_is_seen_finished_within_seconds_then_polls_settle_at_30_s() -> None:
    slept: list[float] = []
    statuses = ["Executing"] * 6 + ["Succeeded"]

    status = wait_for_execution(Execution(*statuses), "arn", sleep=slept.append, report=print)

    assert status == "Succeeded"
    assert slept == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0]


def test_the_wait_ends_at_its_timeout_to_the_second() -> None:
    slept: list[float] = []

    with pytest.raises(PipelineRunError, match="still Executing after 2 min"):
        wait_for_execution(
            Execution("Executing"), "arn", timeout_seconds=120, sleep=slept.append, report=print
        )

    assert slept == [5.0, 10.0, 20.0, 30.0, 30.0, 25.0]
    assert sum(slept) == 120
