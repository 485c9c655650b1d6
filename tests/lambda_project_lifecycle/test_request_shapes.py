"""Every CloudFormation request gets an answer, whatever its shape.

The stored Create, Update and Delete events, bent out of the shape CloudFormation sends,
go through the lifecycle Lambda's real handler; the answer is read from a listener on
127.0.0.1. Nothing reaches AWS: the handler refuses these requests before any call (the
loopback guard would turn a call into an "Unexpected error" reason).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.custom_resource import (
    CUT_MARK,
    MAX_RESPONSE_BYTES,
    Outcome,
    answer_request,
    cut_to_bytes,
    response_body,
)
from lambda_project_lifecycle.errors import InvalidProjectError
from lambda_project_lifecycle.lifecycle import Settings, handle_event
from sandbox.cloudformation import LambdaContext, ResponseListener
from tests.support.events import load_event
from tests.support.network import loopback_only

SETTINGS = Settings(registry_table="mlops-portfolio-project-registry")


@pytest.fixture(autouse=True)
def no_aws() -> Iterator[None]:
    with loopback_only():
        yield


def answer_to(listener: ResponseListener, event: Any) -> dict[str, Any]:
    before = len(listener.answers)
    handle_event(event, LambdaContext(), clients=AwsClients(), settings=SETTINGS)
    return listener.wait_for(before + 1)[before]


def event_of(listener: ResponseListener, request: str, **fields: Any) -> dict[str, Any]:
    event = load_event(f"cfn-project-lifecycle-{request}.json", ResponseURL=listener.url())
    for key, value in fields.items():
        if value is None:
            event.pop(key)
        else:
            event[key] = value
    return event


@pytest.mark.parametrize(
    ("request_type", "fields", "reason"),
    [
        (
            "create",
            {"ResourceProperties": ["ProjectName", "churn"]},
            "ResourceProperties must be a JSON object, not a list (['ProjectName', 'churn'])",
        ),
        (
            "create",
            {"ResourceProperties": "ProjectName=churn"},
            "ResourceProperties must be a JSON object, not a string ('ProjectName=churn')",
        ),
        (
            "update",
            {"OldResourceProperties": 7},
            "OldResourceProperties must be a JSON object, not a number (7)",
        ),
        ("create", {"RequestType": None}, "RequestType is missing"),
        (
            "create",
            {"RequestType": "Replace"},
            "Unknown RequestType 'Replace' (CloudFormation sends Create, Update or Delete)",
        ),
        (
            "create",
            {"RequestType": ["Create"]},
            "RequestType must be a non-empty string, not a list (['Create'])",
        ),
        ("create", {"StackId": None}, "StackId is missing"),
        ("create", {"RequestId": 42}, "RequestId must be a non-empty string, not a number (42)"),
        (
            "create",
            {"LogicalResourceId": ""},
            "LogicalResourceId must be a non-empty string, not a string ('')",
        ),
        (
            "delete",
            {"PhysicalResourceId": None},
            "PhysicalResourceId is missing (CloudFormation sends it with Delete)",
        ),
        (
            "update",
            {"PhysicalResourceId": {"id": "x"}},
            "PhysicalResourceId must be a non-empty string, not an object ({'id': 'x'})",
        ),
    ],
)
def test_a_request_of_the_wrong_shape_is_answered_failed_naming_the_field(
    cfn_listener: ResponseListener, request_type: str, fields: dict[str, Any], reason: str
) -> None:
    answer = answer_to(cfn_listener, event_of(cfn_listener, request_type, **fields))

    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == f"Invalid request: {reason}"
    assert answer["PhysicalResourceId"], (
        "CloudFormation needs a non-empty id even in a FAILED answer"
    )


def test_every_problem_of_a_request_is_named_in_one_answer(cfn_listener: ResponseListener) -> None:
    event = event_of(
        cfn_listener, "update", RequestId=None, ResourceProperties=[], OldResourceProperties=[]
    )
    answer = answer_to(cfn_listener, event)

    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        "Invalid request: RequestId is missing; ResourceProperties must be a JSON object, not a "
        "list ([]); OldResourceProperties must be a JSON object, not a list ([])"
    )
    # What could be copied from the request is, so that CloudFormation can match the answer.
    assert answer["StackId"] == event["StackId"]
    assert answer["LogicalResourceId"] == "ProjectLifecycle"
    assert answer["PhysicalResourceId"] == event["PhysicalResourceId"]


@pytest.mark.parametrize(
    ("request_type", "properties", "reason"),
    [
        (
            "create",
            {"ProjectName": ["churn"]},
            "ProjectName must be a string, not a list (['churn'])",
        ),
        (
            "create",
            {"OnDelete": {"Fn::If": ["Keep", "retain-data", "delete-all"]}},
            "OnDelete must be a string, not an object ({'Fn::If': ['Keep', 'retain-data', "
            "'dele...)",
        ),
        (
            "create",
            {"RepositoryName": 5, "RepositoryProvider": True},
            "RepositoryProvider must be a string, not a boolean (True); "
            "RepositoryName must be a string, not a number (5)",
        ),
        (
            "update",
            {"ProjectId": ["p-7gxpyr2wsl2k"]},
            "ProjectId must be a string, not a list (['p-7gxpyr2wsl2k'])",
        ),
        (
            "update",
            {"MlflowTrackingUri": {"url": "https://mlflow.example.com"}},
            "MlflowTrackingUri must be a string, not an object ({'url': 'https://mlflow.example.com'})",
        ),
    ],
)
def test_a_property_of_the_wrong_type_is_answered_failed_naming_it(
    cfn_listener: ResponseListener, request_type: str, properties: dict[str, Any], reason: str
) -> None:
    event = event_of(cfn_listener, request_type)
    event["ResourceProperties"] = {**event["ResourceProperties"], **properties}

    answer = answer_to(cfn_listener, event)

    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(reason), answer["Reason"]
    assert "Unexpected error" not in answer["Reason"]


def test_a_delete_of_properties_that_never_validated_succeeds_and_touches_nothing(
    cfn_listener: ResponseListener,
) -> None:
    """The Create of such properties failed before it made anything: the rollback's Delete
    must succeed, or the stack is stuck in DELETE_FAILED."""
    event = event_of(cfn_listener, "delete")
    event["ResourceProperties"] = {**event["ResourceProperties"], "Scenario": ["baseline"]}

    answer = answer_to(cfn_listener, event)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == event["PhysicalResourceId"]


def test_a_request_that_is_not_an_object_is_logged_as_unanswerable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR)

    result = handle_event(
        ["RequestType", "Create"],  # type: ignore[arg-type]
        LambdaContext(),
        clients=AwsClients(),
        settings=SETTINGS,
    )

    assert result is None
    assert "Cannot answer: the request must be a JSON object, not a list" in caplog.text


def test_a_request_without_a_response_url_says_so_in_the_log(
    cfn_listener: ResponseListener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    event = event_of(cfn_listener, "create", ResponseURL=None, ResourceProperties=[])

    answer = handle_event(event, LambdaContext(), clients=AwsClients(), settings=SETTINGS)

    assert answer is not None and answer["Status"] == "FAILED"
    assert (
        "Cannot answer FAILED (Invalid request: ResponseURL is missing; ResourceProperties must "
        "be a JSON object, not a list ([])): the request has no ResponseURL to answer to"
    ) in caplog.text
    assert cfn_listener.answers == []


# --- Long reasons, in any script -------------------------------------------------------

PARAMETER = "RepositoryOwner "
LONG_REASONS = {
    "latin": PARAMETER + "is not a GitHub organization: " + "the owner was not found; " * 400,
    "accents": PARAMETER + "n'est pas une organisation connue : " + "propriétaire inconnu ; " * 400,
    "greek": PARAMETER + "δεν είναι οργανισμός: " + "ο ιδιοκτήτης δεν βρέθηκε· " * 400,  # noqa: RUF001
    "japanese": PARAMETER + "は組織ではありません。" + "所有者が見つかりません。" * 600,
    "emoji and escapes": PARAMETER + 'says "no" \\ \n\t' + "🚫🔒\u0007" * 900,
    "combining marks": PARAMETER + "e\u0301" * 3000,
}


@pytest.mark.parametrize("script", sorted(LONG_REASONS))
def test_a_long_reason_is_cut_by_the_bytes_of_the_answer_keeping_its_beginning(
    script: str,
) -> None:
    event = load_event("cfn-project-lifecycle-create.json")
    reason = LONG_REASONS[script]

    body = response_body(event, "FAILED", "sagemaker-churn-model-p-7gxpyr2wsl2k", reason, {})

    assert len(body) <= MAX_RESPONSE_BYTES
    sent = json.loads(body.decode("utf-8"))["Reason"]  # strict: no character was split
    assert sent.endswith(CUT_MARK)
    kept = sent.removesuffix(CUT_MARK)
    assert reason.startswith(kept)
    assert kept.startswith(PARAMETER), "the user still sees which parameter is wrong"
    # As much is kept as fits: one more character would not.
    longer = response_body(event, "FAILED", "x" * 36, reason, {})  # same length of id
    assert len(longer) <= MAX_RESPONSE_BYTES
    one_more = dict(json.loads(body), Reason=reason[: len(kept) + 1] + CUT_MARK)
    assert len(json.dumps(one_more, sort_keys=True, ensure_ascii=False).encode()) > (
        MAX_RESPONSE_BYTES
    )


def test_a_reason_that_fits_is_sent_whole_in_utf8() -> None:
    event = load_event("cfn-project-lifecycle-create.json")
    reason = "RepositoryOwner は組織ではありません"

    body = response_body(event, "FAILED", "id", reason, {})

    assert reason.encode() in body, "sent as UTF-8, not as \\u escapes that take twice the room"
    assert json.loads(body)["Reason"] == reason


@pytest.mark.parametrize(
    ("text", "limit", "cut"),
    [
        ("abcdef", 6, "abcdef"),
        ("abcdefghijkl", 10, "abcd [cut]"),
        ("ééééééé", 10, "éé [cut]"),  # 2 bytes each: a third would split at the limit
        ("日本語のテキスト", 12, "日本 [cut]"),  # 3 bytes each
        ('""""""', 10, '"" [cut]'),  # 2 bytes each, escaped
    ],
)
def test_cut_to_bytes_never_splits_a_character(text: str, limit: int, cut: str) -> None:
    assert cut_to_bytes(text, limit) == cut


def test_a_long_reason_from_a_failed_create_reaches_cloudformation_within_the_limit(
    cfn_listener: ResponseListener,
) -> None:
    event = load_event("cfn-project-lifecycle-create.json", ResponseURL=cfn_listener.url())
    reason = LONG_REASONS["japanese"]

    def create(_: Any) -> Outcome:
        raise InvalidProjectError(reason)

    answer_request(
        event,
        LambdaContext(),
        create=create,
        update=create,
        delete=create,
        fallback_physical_id="x",
    )

    answer = cfn_listener.wait_for(1)[0]
    assert int(cfn_listener.headers[0]["Content-Length"]) <= MAX_RESPONSE_BYTES
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith(PARAMETER + "は組織ではありません")
    assert answer["Reason"].endswith(CUT_MARK)
