"""The Lambda runtime: functions moto stores run from their own zip, as Lambda runs them."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.emulator import Emulator
from sandbox.lambda_runtime import LambdaRuntime
from tests.sandbox.conftest import deploy, function_code

APP = function_code("app.py")


@pytest.fixture(scope="module")
def runtime(emulator: Emulator) -> LambdaRuntime:
    return LambdaRuntime(emulator, retry_delays=(0.2, 0.2), environment={"SANDBOX_MARK": "1"})


@pytest.fixture
def lambda_client(emulator: Emulator) -> Any:
    return emulator.client("lambda")


def invoke(client: Any, name: str, event: Any = None, **options: Any) -> tuple[dict, Any]:
    reply = client.invoke(FunctionName=name, Payload=json.dumps(event or {}), **options)
    return reply, json.loads(reply["Payload"].read() or b"null")


def test_the_handler_runs_from_the_function_zip_with_its_environment_and_context(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(
        emulator,
        "echo",
        "app.echo",
        APP,
        Timeout=30,
        MemorySize=512,
        Environment={"Variables": {"GREETING": "hello"}},
    )

    reply, answer = invoke(lambda_client, "echo", {"order": 7})

    assert reply["StatusCode"] == 200 and "FunctionError" not in reply
    assert answer["event"] == {"order": 7}
    assert answer["greeting"] == "hello"
    assert answer["function_name"] == answer["context_function"] == "echo"
    assert (answer["memory"], answer["handler"]) == ("512", "app.echo")
    assert 25_000 < answer["remaining_ms"] <= 30_000
    assert answer["file"].startswith(answer["cwd"])  # the unpacked zip, not tests/sandbox/
    assert "tests/sandbox" not in answer["file"]


def test_only_the_zip_and_the_runtime_libraries_are_importable(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    # The zip carries its own copy of a repository package; the repository's other
    # packages (installed in this virtualenv, editable) are not importable, as on Lambda.
    code = function_code(
        "app.py", extra={"lambda_project_lifecycle/__init__.py": "FROM_THE_ZIP = True\n"}
    )
    deploy(emulator, "imports", "app.importable", code)

    _, found = invoke(
        lambda_client, "imports", {"modules": ["lambda_project_lifecycle", "sandbox", "boto3"]}
    )

    assert found["lambda_project_lifecycle"].endswith("lambda_project_lifecycle/__init__.py")
    assert "/code/" in found["lambda_project_lifecycle"]
    assert found["sandbox"] is None
    assert found["boto3"] is not None  # the runtime provides the SDK


def test_the_handler_reaches_the_emulator_with_boto3(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    emulator.client("s3").create_bucket(Bucket="seen-by-the-function")
    deploy(emulator, "buckets", "app.buckets", APP)

    _, names = invoke(lambda_client, "buckets")

    assert "seen-by-the-function" in names


def test_environments_are_reused_and_run_side_by_side(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(emulator, "warm", "app.echo", APP)
    _, first = invoke(lambda_client, "warm")
    _, second = invoke(lambda_client, "warm")
    assert second["pid"] == first["pid"]
    assert second["invocations"] == first["invocations"] + 1

    deploy(emulator, "sleeper", "app.sleep", APP, Timeout=20)
    invoke(lambda_client, "sleeper", {"seconds": 0})  # one warm environment
    answers: list[dict[str, Any]] = []

    def call() -> None:
        answers.append(invoke(emulator.client("lambda"), "sleeper", {"seconds": 1.5})[1])

    started = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({a["pid"] for a in answers}) == 2  # a second environment for the second call
    assert time.monotonic() - started < 2.9  # side by side, not one after the other


def test_an_environment_idle_too_long_is_shut_down_without_another_call(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(emulator, "idler", "app.echo", APP)
    _, answer = invoke(lambda_client, "idler")
    idle_seconds = runtime.environments.idle_seconds
    runtime.environments.idle_seconds = 0.2
    try:
        deadline = time.monotonic() + 5
        while process_exists(answer["pid"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not process_exists(answer["pid"])
    finally:
        runtime.environments.idle_seconds = idle_seconds
    _, again = invoke(lambda_client, "idler")  # a cold start in a new environment
    assert again["pid"] != answer["pid"] and again["invocations"] == 1


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_reserved_concurrency_throttles_what_it_cannot_run(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(emulator, "single", "app.sleep", APP, Timeout=20)
    lambda_client.put_function_concurrency(FunctionName="single", ReservedConcurrentExecutions=1)
    no_retries = emulator.session().client(
        "lambda",
        endpoint_url=emulator.endpoint_url,
        config=Config(retries={"total_max_attempts": 1}),
    )
    busy = emulator.client("lambda")
    first = threading.Thread(target=invoke, args=(busy, "single", {"seconds": 3}))
    first.start()
    time.sleep(1.5)
    with pytest.raises(ClientError) as throttled:
        invoke(no_retries, "single", {"seconds": 0})
    first.join()

    assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_a_handler_error_is_answered_as_the_python_runtime_does_with_its_log(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(emulator, "failing", "app.fail", APP)

    reply, error = invoke(lambda_client, "failing", {"what": "orders"}, LogType="Tail")

    assert reply["StatusCode"] == 200
    assert reply["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "cannot handle orders"
    assert any("app.py" in frame for frame in error["stackTrace"])
    tail = base64.b64decode(reply["LogResult"]).decode()
    assert "about to fail" in tail
    assert "[ERROR] ValueError: cannot handle orders" in tail
    assert tail.splitlines()[-1].startswith("REPORT RequestId: ")


def test_past_its_timeout_the_environment_is_killed_and_the_next_call_gets_a_new_one(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(emulator, "slow", "app.sleep", APP, Timeout=1)
    _, warm = invoke(lambda_client, "slow", {"seconds": 0})

    started = time.monotonic()
    reply, error = invoke(lambda_client, "slow", {"seconds": 30})
    took = time.monotonic() - started

    assert reply["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert took < 10
    _, after = invoke(lambda_client, "slow", {"seconds": 0})
    assert after["pid"] != warm["pid"]
    assert any("Task timed out after 1.00 seconds" in line for line in runtime.logs("slow"))


def test_init_errors_and_exits_are_the_runtimes_errors(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(emulator, "no-module", "missing.handler", APP)
    deploy(emulator, "no-function", "app.nowhere", APP)
    deploy(emulator, "exits", "app.leave", APP)

    assert invoke(lambda_client, "no-module")[1]["errorType"] == "Runtime.ImportModuleError"
    assert invoke(lambda_client, "no-function")[1]["errorMessage"] == (
        "Handler 'nowhere' missing on module 'app'"
    )
    reply, error = invoke(lambda_client, "exits")
    assert reply["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]


def test_new_code_runs_in_a_new_environment(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(emulator, "changing", "app.echo", APP)
    _, before = invoke(lambda_client, "changing")
    changed = function_code(extra={"app.py": "def echo(event, context):\n    return 'v2'\n"})

    lambda_client.update_function_code(FunctionName="changing", ZipFile=changed)

    assert invoke(lambda_client, "changing")[1] == "v2"
    assert before["invocations"] >= 1


def test_unknown_functions_and_bad_payloads_are_refused(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(emulator, "strict", "app.echo", APP)
    with pytest.raises(ClientError) as missing:
        lambda_client.invoke(FunctionName="nobody", Payload=b"{}")
    with pytest.raises(ClientError) as malformed:
        lambda_client.invoke(FunctionName="strict", Payload=b"not json")

    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert malformed.value.response["Error"]["Code"] == "InvalidRequestContentException"


def queue(emulator: Emulator, name: str) -> tuple[str, str]:
    sqs = emulator.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def received(emulator: Emulator, url: str) -> list[dict[str, Any]]:
    return (
        emulator.client("sqs")
        .receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1
        )
        .get("Messages", [])
    )


def test_a_failing_event_is_retried_then_its_record_goes_to_the_on_failure_destination(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    url, arn = queue(emulator, "failures")
    deploy(emulator, "retried", "app.fail", APP)
    lambda_client.put_function_event_invoke_config(
        FunctionName="retried",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": arn}},
    )

    reply = lambda_client.invoke(
        FunctionName="retried", InvocationType="Event", Payload=b'{"what": "late"}'
    )

    assert reply["StatusCode"] == 202
    assert runtime.wait_for_async(30)
    attempts = [i for i in runtime.invocations if i.function_arn.endswith(":retried")]
    assert [i.attempt for i in attempts] == [1, 2]
    (message,) = received(emulator, url)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"] == {"what": "late"}
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "cannot handle late"


def test_without_a_destination_a_failed_event_goes_to_the_dead_letter_queue(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    url, arn = queue(emulator, "dead-letters")
    deploy(emulator, "dead", "app.fail", APP, DeadLetterConfig={"TargetArn": arn})
    lambda_client.put_function_event_invoke_config(FunctionName="dead", MaximumRetryAttempts=0)

    lambda_client.invoke(FunctionName="dead", InvocationType="Event", Payload=b'{"what": "x"}')

    assert runtime.wait_for_async(30)
    (message,) = received(emulator, url)
    assert json.loads(message["Body"]) == {"what": "x"}
    attributes = message["MessageAttributes"]
    assert attributes["ErrorMessage"]["StringValue"].startswith('{"errorMessage": "cannot')
    assert attributes["RequestID"]["StringValue"]


def test_a_successful_event_sends_its_record_to_the_on_success_destination(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    url, arn = queue(emulator, "successes")
    deploy(emulator, "succeeds", "app.echo", APP)
    lambda_client.put_function_event_invoke_config(
        FunctionName="succeeds", DestinationConfig={"OnSuccess": {"Destination": arn}}
    )

    lambda_client.invoke(FunctionName="succeeds", InvocationType="Event", Payload=b'{"n": 1}')

    assert runtime.wait_for_async(30)
    (message,) = received(emulator, url)
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"]["event"] == {"n": 1}


def test_each_functions_log_is_kept_and_written_to_cloudwatch_logs(
    emulator: Emulator, runtime: LambdaRuntime, lambda_client: Any
) -> None:
    deploy(emulator, "logged", "app.echo", APP)

    _, answer = invoke(lambda_client, "logged", {"say": "hi"})

    lines = runtime.logs("logged")
    assert lines[0] == f"START RequestId: {answer['request_id']} Version: $LATEST"
    assert "echo {'say': 'hi'}" in lines
    logs = emulator.client("logs")
    (stream,) = logs.describe_log_streams(logGroupName="/aws/lambda/logged")["logStreams"]
    events = logs.get_log_events(
        logGroupName="/aws/lambda/logged", logStreamName=stream["logStreamName"]
    )["events"]
    assert [e["message"] for e in events] == lines
