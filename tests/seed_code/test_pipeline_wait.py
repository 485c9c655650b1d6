"""How the seed's build waits for its pipeline: it sees the end within a tenth of the pipeline's
run time (within a quarter of a second for a short one), looks every 30 s at most once the
pipeline is long, and never waits past the time it was given."""

from __future__ import annotations

from itertools import accumulate
from typing import Any

import pytest
from pipelines.pipeline_run import PipelineRunError, wait_for_execution


class Execution:
    """describe_pipeline_execution of a pipeline that succeeds ``ends_after`` seconds in (on the
    clock of the sleeps the wait takes); counts the looks."""

    def __init__(self, ends_after: float, slept: list[float]) -> None:
        self.ends_after = ends_after
        self.slept = slept
        self.looks = 0

    def describe_pipeline_execution(self, PipelineExecutionArn: str) -> dict[str, Any]:
        self.looks += 1
        done = sum(self.slept) >= self.ends_after
        return {"PipelineExecutionStatus": "Succeeded" if done else "Executing"}


@pytest.mark.parametrize("ends_after", [0.1, 0.5, 3.0, 6.2, 14.0, 47.0, 130.0])
def test_a_short_pipeline_is_seen_finished_within_a_quarter_second_or_a_tenth_of_its_time(
    ends_after: float,
) -> None:
    slept: list[float] = []

    status = wait_for_execution(
        Execution(ends_after, slept), "arn", sleep=slept.append, report=lambda line: None
    )

    assert status == "Succeeded"
    late = sum(slept) - ends_after
    assert 0 <= late <= max(0.25, 0.1 * ends_after) + 1e-9


def test_a_long_pipeline_is_looked_at_every_30_s_and_a_90_minute_one_some_230_times() -> None:
    slept: list[float] = []
    execution = Execution(90 * 60, slept)

    wait_for_execution(execution, "arn", sleep=slept.append, report=lambda line: None)

    assert max(slept) == 30.0
    waited_before = [0.0, *accumulate(slept)][:-1]
    after_five_minutes = [p for p, w in zip(slept, waited_before, strict=True) if w >= 300]
    assert after_five_minutes and all(pause == 30.0 for pause in after_five_minutes)
    assert execution.looks < 240  # DescribePipelineExecution calls in 90 minutes


def test_the_wait_ends_at_its_timeout_to_the_second() -> None:
    slept: list[float] = []

    with pytest.raises(PipelineRunError, match="still Executing after 2 min"):
        wait_for_execution(
            Execution(10_000, slept), "arn", timeout_seconds=120, sleep=slept.append, report=print
        )

    assert sum(slept) == 120
    assert all(pause > 0 for pause in slept)
