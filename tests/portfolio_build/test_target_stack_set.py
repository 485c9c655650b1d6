"""StackSet operations as CloudFormation runs them: asynchronous, sometimes failing, sometimes
left running by an interrupted publish (botocore's Stubber checks each call and answer
against the service model; moto finishes every operation at once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from portfolio_build.errors import PublishError
from portfolio_build.plan_text import Output
from portfolio_build.target_stack_set import RegionStackSet, StackSetRollout
from tests.support.publishing import config_for

NAME = "mlops-portfolio-target"
REGION = "us-east-1"


@pytest.fixture
def stubbed() -> Iterator[tuple[Stubber, Any]]:
    client = boto3.client(
        "cloudformation",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield stubber, client
    stubber.assert_no_pending_responses()


def rollout(tmp_path: Path, lines: list[str], sleeps: list[float]) -> StackSetRollout:
    config = config_for(tmp_path, regions=[REGION])
    return StackSetRollout(
        config,
        None,  # type: ignore[arg-type]  (the release is read only when applying)
        "123456789012",
        boto3.Session(region_name=REGION),
        Output(lines.append),
        sleep=sleeps.append,
    )


def operation(status: str) -> dict[str, Any]:
    return {"StackSetOperation": {"OperationId": "op-1", "Status": status}}


def expect_describe(stubber: Stubber, status: str) -> None:
    stubber.add_response(
        "describe_stack_set_operation",
        operation(status),
        {"StackSetName": NAME, "OperationId": "op-1", "CallAs": "SELF"},
    )


def test_an_operation_an_interrupted_publish_left_running_is_waited_for(
    stubbed: tuple[Stubber, Any], tmp_path: Path
) -> None:
    stubber, client = stubbed
    lines: list[str] = []
    sleeps: list[float] = []
    stubber.add_response(
        "list_stack_set_operations",
        {"Summaries": [{"OperationId": "op-1", "Action": "UPDATE", "Status": "RUNNING"}]},
        {"StackSetName": NAME, "CallAs": "SELF"},
    )
    for status in ("RUNNING", "RUNNING", "SUCCEEDED"):
        expect_describe(stubber, status)

    rollout(tmp_path, lines, sleeps)._finish_running(RegionStackSet(REGION, client, {}))

    assert sleeps == [5.0, 5.0]
    assert any(
        "operation op-1 (UPDATE) of an earlier publish is still running; waiting" in line
        for line in lines
    )


def test_a_failed_operation_names_the_accounts_and_their_reasons(
    stubbed: tuple[Stubber, Any], tmp_path: Path
) -> None:
    stubber, client = stubbed
    expect_describe(stubber, "FAILED")
    stubber.add_response(
        "list_stack_set_operation_results",
        {
            "Summaries": [
                {"Account": "111111111111", "Region": REGION, "Status": "SUCCEEDED"},
                {
                    "Account": "333333333333",
                    "Region": REGION,
                    "Status": "FAILED",
                    "StatusReason": "Role mlops-portfolio-deployment already exists",
                },
            ]
        },
        {"StackSetName": NAME, "OperationId": "op-1", "CallAs": "SELF"},
    )

    with pytest.raises(PublishError) as raised:
        rollout(tmp_path, [], [])._wait(RegionStackSet(REGION, client, {}), "op-1", "instances")

    message = str(raised.value)
    assert f"{REGION}: StackSet {NAME} instances operation op-1 FAILED" in message
    assert "account 333333333333: Role mlops-portfolio-deployment already exists" in message
    assert "111111111111" not in message
