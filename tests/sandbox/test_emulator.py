"""The embedded AWS: moto on 127.0.0.1 behind the middleware that plays what moto lacks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.emulator import AwsError, Call, Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


def test_an_operation_moto_lacks_is_answered_and_serialized_by_the_service_model(
    emulator: Emulator,
) -> None:
    seen: list[Call] = []

    @emulator.answer("cloudformation", "DetectStackDrift", "moto has no drift detection")
    def detect(call: Call) -> dict[str, Any]:
        seen.append(call)
        return {"StackDriftDetectionId": "detection-1"}

    reply = emulator.client("cloudformation", "eu-west-1").detect_stack_drift(StackName="platform")

    assert reply["StackDriftDetectionId"] == "detection-1"
    assert [(c.operation, c.region, c.params) for c in seen] == [
        ("DetectStackDrift", "eu-west-1", {"StackName": "platform"})
    ]


def test_an_error_answer_reaches_the_caller_as_a_client_error_with_its_code(
    emulator: Emulator,
) -> None:
    @emulator.answer("servicecatalog", "DescribeProvisioningArtifact", "not in moto")
    def describe(call: Call) -> dict[str, Any]:
        raise AwsError("ResourceNotFoundException", f"{call.params['ProductId']} not found")

    with pytest.raises(ClientError) as raised:
        emulator.client("servicecatalog").describe_provisioning_artifact(
            ProductId="prod-x", ProvisioningArtifactId="pa-x"
        )

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert "prod-x not found" in raised.value.response["Error"]["Message"]


def test_a_before_hook_changes_what_moto_stores(emulator: Emulator) -> None:
    @emulator.before("ssm", "PutParameter", "a pre-processing step")
    def resolve(call: Call) -> dict[str, Any]:
        return {**call.params, "Value": call.params["Value"].replace("{{x}}", "resolved")}

    ssm = emulator.client("ssm")
    ssm.put_parameter(Name="/p", Value="a-{{x}}", Type="String")

    assert ssm.get_parameter(Name="/p")["Parameter"]["Value"] == "a-resolved"


def test_a_before_hook_of_a_query_protocol_service_rewrites_the_form_body(
    emulator: Emulator,
) -> None:
    @emulator.before("cloudformation", "CreateStack", "template pre-processing")
    def expand(call: Call) -> dict[str, Any]:
        body = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
        return {**call.params, "TemplateBody": json.dumps(body)}

    cloudformation = emulator.client("cloudformation")
    cloudformation.create_stack(StackName="s", TemplateBody='{"Resources": {}}')

    resources = cloudformation.describe_stack_resources(StackName="s")["StackResources"]
    assert [r["ResourceType"] for r in resources] == ["AWS::SNS::Topic"]


def test_an_after_hook_sees_motos_answer_and_may_complete_it(emulator: Emulator) -> None:
    seen: list[dict[str, Any]] = []

    @emulator.after("s3", "ListBuckets", "completes the answer")
    def complete(call: Call, answer: dict[str, Any]) -> dict[str, Any]:
        seen.append(answer)
        return {**answer, "Buckets": [*answer["Buckets"], {"Name": "played-here"}]}

    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="real-one")

    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == ["real-one", "played-here"]
    assert [b["Name"] for b in seen[0]["Buckets"]] == ["real-one"]


def test_requests_without_a_registration_go_to_moto_per_region(emulator: Emulator) -> None:
    for region in ("us-east-1", "eu-west-1", "ap-southeast-1"):
        emulator.client("sns", region).create_topic(Name=f"topic-{region}")

    for region in ("us-east-1", "eu-west-1", "ap-southeast-1"):
        topics = emulator.client("sns", region).list_topics()["Topics"]
        assert [t["TopicArn"].rsplit(":", 1)[1] for t in topics] == [f"topic-{region}"]


def test_a_child_process_reaches_the_emulator_through_its_environment(emulator: Emulator) -> None:
    emulator.client("s3").create_bucket(Bucket="seen-by-the-child")
    script = (
        "import boto3; print([b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']])"
    )

    result = subprocess.run(
        [sys.executable, "-c", script],
        env={"PATH": "/usr/bin:/bin", **emulator.environment()},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert result.stdout.strip() == "['seen-by-the-child']"


def test_stop_forgets_the_state() -> None:
    with Emulator() as first:
        first.client("s3").create_bucket(Bucket="gone-after-stop")
    with Emulator() as second:
        assert second.client("s3").list_buckets()["Buckets"] == []


def test_rest_operations_with_a_payload_are_answered_lambda_invoke(emulator: Emulator) -> None:
    @emulator.answer("lambda", "Invoke", "the function runs here, not in docker")
    def invoke(call: Call) -> dict[str, Any]:
        event = json.loads(call.params["Payload"])
        return {"StatusCode": 200, "Payload": json.dumps({"echo": event}).encode()}

    reply = emulator.client("lambda").invoke(FunctionName="f", Payload=b'{"a": 1}')

    assert reply["StatusCode"] == 200
    assert json.loads(reply["Payload"].read()) == {"echo": {"a": 1}}


def test_sagemaker_runtime_shares_the_signing_name_and_is_told_apart(emulator: Emulator) -> None:
    @emulator.answer("sagemaker-runtime", "InvokeEndpoint", "served from the trained model")
    def invoke(call: Call) -> dict[str, Any]:
        return {"Body": b"0.97\n", "ContentType": "text/csv"}

    reply = emulator.client("sagemaker-runtime").invoke_endpoint(
        EndpointName="e", Body=b"1,2,3", ContentType="text/csv"
    )

    assert reply["Body"].read() == b"0.97\n"
    assert emulator.client("sagemaker").list_endpoints()["Endpoints"] == []
