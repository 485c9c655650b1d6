"""Event delivery: PutEvents and schedules on moto's stored rules, to Lambda and SQS targets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.emulator import Emulator
from sandbox.event_delivery import EventBus, due_occurrence
from sandbox.lambda_runtime import LambdaRuntime
from tests.sandbox.conftest import deploy, function_code

EVENTS_DIR = Path(__file__).parents[1] / "events"


@pytest.fixture(scope="module")
def runtime(emulator: Emulator) -> LambdaRuntime:
    return LambdaRuntime(emulator)


@pytest.fixture(scope="module")
def bus(emulator: Emulator, runtime: LambdaRuntime) -> EventBus:
    return EventBus(emulator, runtime)


@pytest.fixture
def events(emulator: Emulator) -> Any:
    return emulator.client("events")


def queue(emulator: Emulator, name: str) -> tuple[str, str]:
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, attributes["Attributes"]["QueueArn"]


def messages(emulator: Emulator, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    sqs = emulator.client("sqs")
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return found
        found += batch


def stored_event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS_DIR / name).read_text()))


def test_a_matching_event_reaches_a_lambda_target_in_aws_shape(
    emulator: Emulator, runtime: LambdaRuntime, bus: EventBus, events: Any
) -> None:
    function = deploy(emulator, "listener", "app.echo", function_code("app.py"))
    events.put_rule(Name="pushes", EventPattern=json.dumps({"source": ["aws.codecommit"]}))
    events.put_targets(Rule="pushes", Targets=[{"Id": "f", "Arn": function["FunctionArn"]}])
    stored = stored_event("codecommit-branch-updated-dev.json")

    reply = events.put_events(
        Entries=[
            {
                "Source": "aws.codecommit",
                "DetailType": stored["detail-type"],
                "Detail": json.dumps(stored["detail"]),
                "Resources": stored["resources"],
            },
            {"Source": "elsewhere", "DetailType": "Other", "Detail": "{}"},
        ]
    )

    assert reply["FailedEntryCount"] == 0
    assert runtime.wait_for_async(30)
    (invocation,) = [i for i in runtime.invocations if i.function_arn.endswith(":listener")]
    delivered = json.loads(invocation.payload)
    assert delivered.keys() == stored.keys()
    assert delivered["id"] == reply["Entries"][0]["EventId"]
    assert delivered["detail"] == stored["detail"]
    assert datetime.strptime(delivered["time"], "%Y-%m-%dT%H:%M:%SZ")


def test_entries_without_detail_or_with_a_bad_one_fail_alone(bus: EventBus, events: Any) -> None:
    reply = events.put_events(
        Entries=[
            {"Source": "a", "DetailType": "b", "Detail": "[1, 2]"},
            {"Source": "a", "DetailType": "b", "Detail": "{}"},
        ]
    )

    assert reply["FailedEntryCount"] == 1
    assert reply["Entries"][0]["ErrorCode"] == "MalformedDetail"
    assert "EventId" in reply["Entries"][1]


def test_targets_get_input_path_and_transformer_renderings(
    emulator: Emulator, bus: EventBus, events: Any
) -> None:
    url, arn = queue(emulator, "rendered")
    events.put_rule(Name="rendering", EventPattern=json.dumps({"source": ["render.test"]}))
    events.put_targets(
        Rule="rendering",
        Targets=[
            {"Id": "path", "Arn": arn, "InputPath": "$.detail"},
            {
                "Id": "transformer",
                "Arn": arn,
                "InputTransformer": {
                    "InputPathsMap": {"name": "$.detail.name"},
                    "InputTemplate": '{"greeting": "hello <name>"}',
                },
            },
            {"Id": "constant", "Arn": arn, "Input": '{"fixed": true}'},
        ],
    )

    events.put_events(
        Entries=[{"Source": "render.test", "DetailType": "t", "Detail": '{"name": "ada"}'}]
    )

    bodies = sorted(m["Body"] for m in messages(emulator, url))
    assert [json.loads(body) for body in bodies] == [
        {"fixed": True},
        {"greeting": "hello ada"},
        {"name": "ada"},
    ]


def test_disabled_rules_and_schedule_only_rules_match_no_event(
    emulator: Emulator, bus: EventBus, events: Any
) -> None:
    url, arn = queue(emulator, "quiet")
    events.put_rule(Name="off", EventPattern=json.dumps({"source": ["q"]}), State="DISABLED")
    events.put_rule(Name="timer-only", ScheduleExpression="rate(1 day)")
    for rule in ("off", "timer-only"):
        events.put_targets(Rule=rule, Targets=[{"Id": "q", "Arn": arn}])

    events.put_events(Entries=[{"Source": "q", "DetailType": "t", "Detail": "{}"}])

    assert messages(emulator, url) == []
    events.remove_targets(Rule="timer-only", Ids=["q"])
    events.delete_rule(Name="timer-only")


def test_a_clock_jump_fires_each_due_schedule_once_at_its_latest_occurrence(
    emulator: Emulator, bus: EventBus, events: Any
) -> None:
    url, arn = queue(emulator, "schedule")
    rule_arn = events.put_rule(Name="reaper", ScheduleExpression="rate(1 day)")["RuleArn"]
    events.put_targets(Rule="reaper", Targets=[{"Id": "q", "Arn": arn}])
    events.put_rule(Name="reconcile", ScheduleExpression="rate(10 minutes)")
    events.put_targets(Rule="reconcile", Targets=[{"Id": "q", "Arn": arn}])
    bus.fire_schedules()  # the rules are seen: their schedules count from now

    started = bus.clock.now()
    bus.clock.advance(timedelta(days=2, hours=1))

    fired = [json.loads(m["Body"]) for m in messages(emulator, url)]
    stored = stored_event("scheduled-event-reaper.json")
    assert [e["detail-type"] for e in fired] == ["Scheduled Event", "Scheduled Event"]
    assert all(e.keys() == stored.keys() for e in fired)
    by_rule = {e["resources"][0].rsplit("/", 1)[-1]: e for e in fired}
    assert sorted(by_rule) == ["reaper", "reconcile"]  # 49 h of a 10-minute rule: one run
    assert by_rule["reaper"]["resources"] == [rule_arn]
    reaped = datetime.strptime(by_rule["reaper"]["time"], "%Y-%m-%dT%H:%M:%S%z")
    assert abs(reaped - started - timedelta(days=2)) < timedelta(seconds=2)
    assert bus.clock.now() - datetime.now(UTC) > timedelta(days=2)

    bus.clock.advance(timedelta(hours=12))  # the reaper's next day has not come yet
    (again,) = [json.loads(m["Body"]) for m in messages(emulator, url)]
    assert again["resources"][0].endswith("/reconcile")
    for rule in ("reaper", "reconcile"):
        events.remove_targets(Rule=rule, Ids=["q"])
        events.delete_rule(Name=rule)


def test_cron_schedules_are_due_at_their_latest_time() -> None:
    since = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)

    assert due_occurrence("cron(0 3 * * ? *)", since, since + timedelta(days=2)) == datetime(
        2026, 11, 23, 3, 0, tzinfo=UTC
    )
    assert due_occurrence("cron(0 3 * * ? *)", since, since + timedelta(minutes=59)) is None


def test_an_event_for_a_missing_target_goes_to_its_dead_letter_queue(
    emulator: Emulator, bus: EventBus, events: Any
) -> None:
    url, dead_letters = queue(emulator, "undelivered")
    events.put_rule(Name="orphan", EventPattern=json.dumps({"source": ["orphan.test"]}))
    missing = f"arn:aws:lambda:{emulator.region}:{emulator.account_id}:function:gone"
    events.put_targets(
        Rule="orphan",
        Targets=[{"Id": "gone", "Arn": missing, "DeadLetterConfig": {"Arn": dead_letters}}],
    )

    events.put_events(Entries=[{"Source": "orphan.test", "DetailType": "t", "Detail": "{}"}])

    (message,) = messages(emulator, url)
    assert json.loads(message["Body"])["source"] == "orphan.test"
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "ResourceNotFoundException"
    assert attributes["TARGET_ARN"] == missing
    assert attributes["RULE_ARN"].endswith(":rule/orphan")
    assert attributes["RETRY_ATTEMPTS"] == "0"
