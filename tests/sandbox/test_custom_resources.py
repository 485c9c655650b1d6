"""Custom resources: moto's CloudFormation sends the documented requests through the runtime."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.custom_resources import CustomResources
from sandbox.emulator import Emulator
from sandbox.lambda_runtime import LambdaRuntime
from tests.sandbox.conftest import deploy, function_code

FAIL_DELETE = "/custom-resource-tests/fail-delete"


@pytest.fixture(scope="module")
def custom(emulator: Emulator) -> CustomResources:
    runtime = LambdaRuntime(emulator, retry_delays=(0.1, 0.1))
    return CustomResources(emulator, runtime)


@pytest.fixture(scope="module")
def token(emulator: Emulator, custom: CustomResources) -> str:
    created = deploy(emulator, "custom-resource", "custom.handler", function_code("custom.py"))
    emulator.client("lambda").put_function_event_invoke_config(
        FunctionName="custom-resource", MaximumRetryAttempts=0
    )
    return str(created["FunctionArn"])


@pytest.fixture
def cloudformation(emulator: Emulator) -> Any:
    return emulator.client("cloudformation")


def template(token: str, **properties: Any) -> str:
    return json.dumps(
        {
            "Resources": {
                "Topic": {"Type": "AWS::SNS::Topic"},
                "Thing": {
                    "Type": "Custom::Thing",
                    "DependsOn": "Topic",
                    "Properties": {"ServiceToken": token, **properties},
                },
            },
            "Outputs": {"Greeting": {"Value": {"Fn::GetAtt": ["Thing", "Greeting"]}}},
        }
    )


def sent(custom: CustomResources, stack_id: str) -> list[dict[str, Any]]:
    return [r for r in custom.requests if r["StackId"] == stack_id]


def statuses(cloudformation: Any, stack: str) -> list[tuple[str, str, str]]:
    events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    return [
        (e["LogicalResourceId"], e["ResourceStatus"], e.get("ResourceStatusReason", ""))
        for e in events
    ]


def outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def topics(emulator: Emulator) -> list[str]:
    return [t["TopicArn"] for t in emulator.client("sns").list_topics()["Topics"]]


def test_create_sends_the_documented_request_and_its_data_is_read_by_get_att(
    emulator: Emulator, custom: CustomResources, token: str, cloudformation: Any
) -> None:
    stack_id = cloudformation.create_stack(
        StackName="created", TemplateBody=template(token, Size=5, Enabled=True, PhysicalId="t-1")
    )["StackId"]

    (described,) = cloudformation.describe_stacks(StackName="created")["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert outputs(cloudformation, "created") == {"Greeting": "hello 5"}
    (request,) = sent(custom, stack_id)
    assert request["RequestType"] == "Create"
    assert request["ResourceType"] == "Custom::Thing"
    assert request["LogicalResourceId"] == "Thing"
    assert request["ResourceProperties"] == {
        "ServiceToken": token,
        "Size": "5",
        "Enabled": "true",
        "PhysicalId": "t-1",
    }
    assert request["ResponseURL"].startswith("http://127.0.0.1:")
    resources = cloudformation.describe_stack_resources(StackName="created")["StackResources"]
    assert {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}["Thing"] == "t-1"


def test_update_sends_the_old_properties_and_a_replacement_deletes_the_old_resource(
    emulator: Emulator, custom: CustomResources, token: str, cloudformation: Any
) -> None:
    stack_id = cloudformation.create_stack(
        StackName="updated", TemplateBody=template(token, Size=1, PhysicalId="u-1")
    )["StackId"]

    cloudformation.update_stack(
        StackName="updated", TemplateBody=template(token, Size=2, PhysicalId="u-1")
    )
    cloudformation.update_stack(
        StackName="updated", TemplateBody=template(token, Size=3, PhysicalId="u-2")
    )

    requests = [(r["RequestType"], r.get("PhysicalResourceId")) for r in sent(custom, stack_id)]
    assert requests == [
        ("Create", None),
        ("Update", "u-1"),
        ("Update", "u-1"),
        ("Delete", "u-1"),  # replaced by u-2: deleted once the update is complete
    ]
    first_update = sent(custom, stack_id)[1]
    assert first_update["OldResourceProperties"]["Size"] == "1"
    assert first_update["ResourceProperties"]["Size"] == "2"
    assert outputs(cloudformation, "updated") == {"Greeting": "hello 3"}
    assert ("updated", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "") in statuses(
        cloudformation, "updated"
    )


def test_deleting_the_stack_sends_delete_with_the_physical_id(
    emulator: Emulator, custom: CustomResources, token: str, cloudformation: Any
) -> None:
    stack_id = cloudformation.create_stack(
        StackName="deleted", TemplateBody=template(token, PhysicalId="d-1")
    )["StackId"]

    cloudformation.delete_stack(StackName="deleted")

    assert [(r["RequestType"], r.get("PhysicalResourceId")) for r in sent(custom, stack_id)] == [
        ("Create", None),
        ("Delete", "d-1"),
    ]
    (described,) = cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
    assert described["StackStatus"] == "DELETE_COMPLETE"


def test_a_failed_create_rolls_back_with_a_delete_and_names_the_reason(
    emulator: Emulator, custom: CustomResources, token: str, cloudformation: Any
) -> None:
    stack_id = cloudformation.create_stack(
        StackName="refused", TemplateBody=template(token, Outcome="FAILED", PhysicalId="r-1")
    )["StackId"]

    (described,) = cloudformation.describe_stacks(StackName="refused")["Stacks"]
    assert described["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = {
        (logical, status): reason for logical, status, reason in statuses(cloudformation, "refused")
    }
    assert "Create answered FAILED" in reasons[("Thing", "CREATE_FAILED")]
    assert "[Thing]" in reasons[("refused", "ROLLBACK_IN_PROGRESS")]
    assert [(r["RequestType"], r.get("PhysicalResourceId")) for r in sent(custom, stack_id)] == [
        ("Create", None),
        ("Delete", "r-1"),
    ]
    assert not any("refused" in arn for arn in topics(emulator))  # the topic went too


def test_no_answer_within_the_service_timeout_fails_the_create(
    emulator: Emulator, custom: CustomResources, token: str, cloudformation: Any
) -> None:
    cloudformation.create_stack(
        StackName="silent", TemplateBody=template(token, Silent=True, ServiceTimeout=2)
    )

    (described,) = cloudformation.describe_stacks(StackName="silent")["Stacks"]
    assert described["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [r for logical, status, r in statuses(cloudformation, "silent") if logical == "Thing"]
    assert any("ServiceTimeout of 2 seconds" in reason for reason in reasons)


def test_a_failed_update_rolls_back_to_the_old_properties(
    emulator: Emulator, custom: CustomResources, token: str, cloudformation: Any
) -> None:
    stack_id = cloudformation.create_stack(
        StackName="unchanged", TemplateBody=template(token, Size=1, PhysicalId="x-1")
    )["StackId"]

    cloudformation.update_stack(
        StackName="unchanged",
        TemplateBody=template(token, Size=2, PhysicalId="x-1", Outcome="FAILED"),
    )

    (described,) = cloudformation.describe_stacks(StackName="unchanged")["Stacks"]
    assert described["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    update, rollback = sent(custom, stack_id)[1:]
    assert update["ResourceProperties"]["Size"] == "2"
    assert rollback["RequestType"] == "Update"
    assert rollback["ResourceProperties"]["Size"] == "1"
    assert rollback["OldResourceProperties"]["Size"] == "2"
    assert outputs(cloudformation, "unchanged") == {"Greeting": "hello 1"}


def test_a_failed_delete_leaves_the_stack_delete_failed_and_a_retry_deletes_it(
    emulator: Emulator, custom: CustomResources, token: str, cloudformation: Any
) -> None:
    ssm = emulator.client("ssm")
    cloudformation.create_stack(StackName="kept", TemplateBody=template(token, PhysicalId="k-1"))
    ssm.put_parameter(Name=FAIL_DELETE, Value="yes", Type="String", Overwrite=True)

    cloudformation.delete_stack(StackName="kept")

    (described,) = cloudformation.describe_stacks(StackName="kept")["Stacks"]
    assert described["StackStatus"] == "DELETE_FAILED"
    assert any(
        status == "DELETE_FAILED" and "Delete answered FAILED" in reason
        for _, status, reason in statuses(cloudformation, "kept")
    )

    ssm.put_parameter(Name=FAIL_DELETE, Value="no", Type="String", Overwrite=True)
    cloudformation.delete_stack(StackName="kept")

    assert "kept" not in [s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]]
