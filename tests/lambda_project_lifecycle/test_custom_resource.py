"""The answer to CloudFormation: one per request, delivered, under 4096 bytes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_project_lifecycle.custom_resource import (
    MAX_RESPONSE_BYTES,
    Outcome,
    RequestAnswered,
    Responder,
    answer_request,
    put_response,
    response_body,
)
from sandbox.cloudformation import LambdaContext, ResponseListener
from tests.support.events import load_event


def test_a_long_reason_is_cut_to_fit_the_response_limit() -> None:
    event = load_event("cfn-project-lifecycle-create.json")
    body = response_body(event, "FAILED", "sagemaker-x-p-1", "boom " * 2000, {})
    assert len(body) <= MAX_RESPONSE_BYTES
    assert json.loads(body)["Reason"].endswith("[cut]")


def test_attributes_over_the_limit_still_get_a_failed_answer() -> None:
    event = load_event("cfn-project-lifecycle-create.json")
    body = response_body(event, "SUCCESS", "id", "", {"Big": "x" * 5000})
    answer = json.loads(body)
    assert len(body) <= MAX_RESPONSE_BYTES
    assert answer["Status"] == "FAILED"
    assert answer["Data"] == {}
    assert "over CloudFormation's 4096-byte limit" in answer["Reason"]


def test_a_reason_of_escaped_characters_still_fits() -> None:
    event = load_event("cfn-project-lifecycle-create.json")
    reason = 'quote " backslash \\ accent é\n' * 300
    body = response_body(event, "FAILED", "id", reason, {})
    assert len(body) <= MAX_RESPONSE_BYTES
    sent = json.loads(body)["Reason"]
    assert sent.endswith("[cut]")
    assert reason.startswith(sent.removesuffix(" [cut]"))
    assert len(sent) > 1000, "only as much is cut as the limit needs"


def test_an_undeliverable_answer_does_not_raise() -> None:
    def unreachable(url: str, body: bytes) -> None:
        raise ValueError(f"unknown url type: {url!r}")

    responder = Responder(
        load_event("cfn-project-lifecycle-create.json", ResponseURL="nowhere"), unreachable
    )
    assert responder.succeed(Outcome("id")) is True
    assert responder.answer is not None and responder.answer["Status"] == "SUCCESS"


def test_only_the_first_answer_is_sent() -> None:
    sent: list[bytes] = []
    responder = Responder(
        load_event("cfn-project-lifecycle-create.json"), lambda url, body: sent.append(body)
    )
    assert responder.fail("id", "first") is True
    assert responder.succeed(Outcome("id")) is False
    assert len(sent) == 1
    assert json.loads(sent[0])["Status"] == "FAILED"


def test_an_unknown_request_type_is_answered_failed(cfn_listener: ResponseListener) -> None:
    event = load_event(
        "cfn-project-lifecycle-create.json", RequestType="Replace", ResponseURL=cfn_listener.url()
    )

    def never(_: Any) -> Outcome:
        raise AssertionError("no operation runs for an unknown request type")

    answer_request(
        event, LambdaContext(), create=never, update=never, delete=never, fallback_physical_id="x"
    )
    answer = cfn_listener.wait_for(1)[0]
    assert answer["Status"] == "FAILED"
    assert "Unknown RequestType 'Replace'" in answer["Reason"]


def test_delivery_is_retried_when_the_url_fails_first(cfn_listener: ResponseListener) -> None:
    cfn_listener.fail_next(2)
    put_response(cfn_listener.url(), b'{"Status": "SUCCESS"}')
    assert cfn_listener.wait_for(1) == [{"Status": "SUCCESS"}]
    assert cfn_listener.refused == 2


def test_an_outcome_that_arrives_after_the_deadline_answer_is_undone(
    cfn_listener: ResponseListener,
) -> None:
    event = load_event("cfn-project-lifecycle-create.json", ResponseURL=cfn_listener.url())
    undone: list[str] = []

    def slow_create(_: Any) -> Outcome:
        cfn_listener.wait_for(1)  # the deadline timer answered meanwhile
        return Outcome("id", {"Made": "yes"}, on_late=lambda: undone.append("id"))

    answer_request(
        event,
        LambdaContext(timeout_seconds=0.5),
        create=slow_create,
        update=slow_create,
        delete=slow_create,
        fallback_physical_id="id",
    )

    assert [a["Status"] for a in cfn_listener.wait_for(1)] == ["FAILED"]
    assert undone == ["id"], "what the late Create made is taken back"


def test_a_checkpoint_stops_the_work_once_the_request_is_answered() -> None:
    responder = Responder(load_event("cfn-project-lifecycle-create.json"), lambda u, b: None)
    responder.checkpoint("the first step")  # not answered yet: goes on
    responder.fail("id", "about to time out")

    with pytest.raises(RequestAnswered, match="stopped before the second step"):
        responder.checkpoint("the second step")
    assert responder.answered
