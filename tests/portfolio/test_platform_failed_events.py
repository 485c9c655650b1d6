"""No silent loss, in the platform template: every rule target retries and dead-letters, every
shared Lambda records failed asynchronous events, and a message in the queue raises an alarm
that reaches the platform topic."""

from __future__ import annotations

import json
from typing import Any

from portfolio import platform
from template_common.settings import TemplateSettings

RESOURCES: dict[str, Any] = json.loads(json.dumps(platform.build(TemplateSettings()).to_dict()))[
    "Resources"
]
QUEUE_ARN = {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {
        k: v["Properties"]
        for k, v in RESOURCES.items()
        if isinstance(v, dict) and v.get("Type") == kind
    }


def test_every_rule_target_has_a_retry_policy_and_the_dead_letter_queue() -> None:
    rules = of_type("AWS::Events::Rule")
    assert len(rules) == 5  # pushes, packages, endpoints, the reaper, the MLflow reconcile
    for name, rule in rules.items():
        for target in rule["Targets"]:
            assert target["DeadLetterConfig"] == {"Arn": QUEUE_ARN}, name
            assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0, name
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 3600, name
    (policy,) = of_type("AWS::SQS::QueuePolicy").values()
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": ["events.amazonaws.com"]}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": [{"Fn::GetAtt": [name, "Arn"]} for name in rules]}
    }


def test_every_shared_lambda_records_failed_events_in_the_queue_and_may_send_there() -> None:
    functions = of_type("AWS::Lambda::Function")
    configs = {
        c["FunctionName"]["Ref"]: c for c in of_type("AWS::Lambda::EventInvokeConfig").values()
    }
    assert set(configs) == set(functions)
    for name, config in configs.items():
        assert config["DestinationConfig"] == {"OnFailure": {"Destination": QUEUE_ARN}}, name
        role = RESOURCES[f"{name}Role"]["Properties"]["Policies"][0]["PolicyDocument"]
        sends = [s for s in role["Statement"] if s["Action"] == ["sqs:SendMessage"]]
        assert sends and sends[0]["Resource"] == [QUEUE_ARN], name


def test_a_message_in_the_queue_alarms_the_platform_topic_which_the_alarm_may_publish_to() -> None:
    queue = RESOURCES["FailedEventsQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    alarm = RESOURCES["FailedEventsAlarm"]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]
    assert "python build.py redrive" in alarm["AlarmDescription"]
    # CloudWatch cannot use the AWS managed aws/sns key: the topic has a key of its own.
    topic = RESOURCES["NotificationTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "NotificationTopicKey"}
    key = RESOURCES["NotificationTopicKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    alarms = [
        s
        for s in key["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": ["cloudwatch.amazonaws.com"]}
    ]
    assert alarms and set(alarms[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    outputs = platform.build(TemplateSettings()).to_dict()["Outputs"]
    assert outputs[platform.FAILED_EVENTS_QUEUE_OUTPUT]["Value"] == {"Ref": "FailedEventsQueue"}
