"""No silent loss, for real on the emulator: a handler that fails leaves its event in the
platform's failed-events queue, and ``redrive`` sends it back once the cause is fixed.

The training trigger runs from the built zip in the sandbox's Lambda runtime, invoked by the
platform's own push rule, with its target's retry policy and dead-letter queue and the
function's asynchronous settings (on-failure destination) as the platform template has them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.environment import REGISTRY_TABLE_ENV
from portfolio import platform
from portfolio_build.errors import PublishError
from portfolio_build.redrive import failed_events_queue, redrive_queue
from portfolio_build.render import package_lambda
from sandbox.emulator import Emulator
from sandbox.event_delivery import EventBus
from sandbox.lambda_runtime import LambdaRuntime
from template_common.settings import TemplateSettings
from tests.sandbox.conftest import deploy
from tests.support.network import loopback_only

EVENTS = Path(__file__).parents[1] / "events"
REPOSITORY = "sagemaker-churn-model-p-7gxpyr2wsl2k"
TABLE = "project-registry"
TEMPLATE = json.loads(json.dumps(platform.build(TemplateSettings()).to_dict()))["Resources"]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with loopback_only(), Emulator() as running:
        yield running


@pytest.fixture
def world(emulator: Emulator, tmp_path: Path) -> dict[str, Any]:
    runtime = LambdaRuntime(emulator, retry_delays=(0.05, 0.05))
    EventBus(emulator, runtime)
    sqs = emulator.client("sqs")
    queue_url = sqs.create_queue(QueueName="failed-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    code = package_lambda(tmp_path).path.read_bytes()
    trigger = deploy(
        emulator,
        "training-trigger",
        "lambda_project_lifecycle.training_trigger.handler",
        code,
        Timeout=30,
        Environment={"Variables": {REGISTRY_TABLE_ENV: TABLE}},
    )
    lambda_client = emulator.client("lambda")
    asynchronous = TEMPLATE["TrainingTriggerFunctionAsyncInvocation"]["Properties"]
    assert asynchronous["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailedEventsQueue", "Arn"]
    }
    lambda_client.put_function_event_invoke_config(
        FunctionName="training-trigger",
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        **{k: v for k, v in asynchronous.items() if k.startswith("Maximum")},
    )
    rule = TEMPLATE["CodeCommitPushRule"]["Properties"]
    (target,) = rule["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}
    events = emulator.client("events")
    events.put_rule(Name="pushes", EventPattern=json.dumps(rule["EventPattern"]))
    events.put_targets(
        Rule="pushes",
        Targets=[
            {
                "Id": "trigger",
                "Arn": trigger["FunctionArn"],
                "RetryPolicy": target["RetryPolicy"],
                "DeadLetterConfig": {"Arn": queue_arn},
            }
        ],
    )
    return {"runtime": runtime, "queue_url": queue_url, "trigger": trigger}


def push_event() -> dict[str, Any]:
    stored = json.loads((EVENTS / "codecommit-branch-updated-dev.json").read_text())
    return {
        "Source": stored["source"],
        "DetailType": stored["detail-type"],
        "Detail": json.dumps(stored["detail"]),
        "Resources": stored["resources"],
    }


def fix_the_registry(emulator: Emulator) -> None:
    """What the platform engineer does: the table and the project are back."""
    dynamodb = emulator.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    project_registry.save_repository(
        dynamodb,
        TABLE,
        {
            "pk": project_registry.repository_key(REPOSITORY),
            "ProjectName": "churn-model",
            "ProjectId": "p-7gxpyr2wsl2k",
            "Scenario": "baseline",
            "TrainingProject": f"{REPOSITORY}-training",
            "SeedCommit": "0" * 40,
        },
    )
    emulator.client("codebuild").create_project(
        name=f"{REPOSITORY}-training",
        source={"type": "CODECOMMIT", "location": f"https://127.0.0.1:1/v1/repos/{REPOSITORY}"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole="arn:aws:iam::123456789012:role/training",
    )


def messages(emulator: Emulator, url: str) -> list[dict[str, Any]]:
    reply = emulator.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
    )
    return list(reply.get("Messages", []))


def builds(emulator: Emulator) -> list[str]:
    return list(
        emulator.client("codebuild").list_builds_for_project(projectName=f"{REPOSITORY}-training")[
            "ids"
        ]
    )


def test_a_failing_handler_leaves_the_event_in_the_queue_and_redrive_runs_it_again(
    emulator: Emulator, world: dict[str, Any]
) -> None:
    runtime: LambdaRuntime = world["runtime"]
    emulator.client("events").put_events(Entries=[push_event()])
    assert runtime.wait_for_async(60)

    attempts = [i for i in runtime.invocations if i.function_arn.endswith(":training-trigger")]
    assert len(attempts) == 3, "Lambda's two retries, then the on-failure destination"
    (kept,) = messages(emulator, world["queue_url"])
    record = json.loads(kept["Body"])
    assert record["requestContext"]["functionArn"].startswith(world["trigger"]["FunctionArn"])
    assert record["requestPayload"]["detail"]["repositoryName"] == REPOSITORY

    fix_the_registry(emulator)
    lines: list[str] = []
    done = redrive_queue(
        emulator.client("sqs"), emulator.client("lambda"), world["queue_url"], say=lines.append
    )
    assert runtime.wait_for_async(60)

    assert (done.sent, done.left) == (1, 0), lines
    assert lines[0].startswith(f"sent {kept['MessageId']} to {world['trigger']['FunctionArn']}")
    assert messages(emulator, world["queue_url"]) == []
    assert len(builds(emulator)) == 1, runtime.logs("training-trigger")


def test_an_event_the_rule_could_not_deliver_is_redriven_to_its_target(
    emulator: Emulator, world: dict[str, Any]
) -> None:
    runtime: LambdaRuntime = world["runtime"]
    fix_the_registry(emulator)
    emulator.client("lambda").delete_function(FunctionName="training-trigger")
    emulator.client("events").put_events(Entries=[push_event()])
    assert runtime.wait_for_async(60)
    (kept,) = messages(emulator, world["queue_url"])
    assert kept["MessageAttributes"]["TARGET_ARN"]["StringValue"] == world["trigger"]["FunctionArn"]

    dry: list[str] = []
    assert (
        redrive_queue(
            emulator.client("sqs"),
            emulator.client("lambda"),
            world["queue_url"],
            dry_run=True,
            say=dry.append,
        ).sent
        == 1
    )
    assert [m["MessageId"] for m in messages(emulator, world["queue_url"])] == [
        kept["MessageId"]
    ], "a dry run changes nothing"
    deploy(  # the function is back, from the same code
        emulator,
        "training-trigger",
        "lambda_project_lifecycle.training_trigger.handler",
        package_lambda_bytes(emulator),
        Timeout=30,
        Environment={"Variables": {REGISTRY_TABLE_ENV: TABLE}},
    )
    done = redrive_queue(emulator.client("sqs"), emulator.client("lambda"), world["queue_url"])
    assert runtime.wait_for_async(60)

    assert (done.sent, done.left) == (1, 0)
    assert len(builds(emulator)) == 1
    assert messages(emulator, world["queue_url"]) == []


def package_lambda_bytes(emulator: Emulator) -> bytes:
    return bytes(
        emulator.client("s3")
        .get_object(Bucket="function-code", Key="training-trigger.zip")["Body"]
        .read()
    )


def test_redrive_names_the_missing_output_of_a_platform_published_before_it(
    emulator: Emulator,
) -> None:
    cloudformation = emulator.client("cloudformation")
    cloudformation.create_stack(
        StackName="mlops-portfolio-platform",
        TemplateBody=json.dumps(
            {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": {}}
        ),
    )

    with pytest.raises(PublishError, match="has no FailedEventsQueueUrl output: publish"):
        failed_events_queue(cloudformation, "mlops-portfolio-platform", "us-east-1")
    with pytest.raises(PublishError, match="platform stack elsewhere not found"):
        failed_events_queue(cloudformation, "elsewhere", "us-east-1")
