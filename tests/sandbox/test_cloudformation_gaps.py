"""CloudFormation on the emulator as AWS documents it where moto falls short: the
language-extensions transform, SSM dynamic references, capabilities, termination
protection and change-set details."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from sandbox.emulator import Emulator
from sandbox.endpoint import emulator_with_gaps

LOOP = {
    "Transform": "AWS::LanguageExtensions",
    "Parameters": {"Names": {"Type": "CommaDelimitedList", "Default": "a-1,b-2"}},
    "Resources": {
        "Fn::ForEach::Topics": [
            "Name",
            {"Ref": "Names"},
            {
                "Topic&{Name}": {
                    "Type": "AWS::SNS::Topic",
                    "Properties": {
                        "TopicName": {"Fn::Sub": "t-${Name}"},
                        "DisplayName": {"Ref": "Name"},
                    },
                }
            },
        ],
        "Parameter": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Name": "/copy", "Type": "String", "Value": "{{resolve:ssm:/source}}"},
        },
    },
}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with emulator_with_gaps() as running:
        yield running


def test_for_each_is_expanded_and_ssm_references_resolved_before_moto(emulator: Emulator) -> None:
    emulator.client("ssm").put_parameter(Name="/source", Value="resolved", Type="String")
    cloudformation = emulator.client("cloudformation")

    cloudformation.create_stack(
        StackName="loop", TemplateBody=json.dumps(LOOP), Capabilities=["CAPABILITY_AUTO_EXPAND"]
    )

    resources = cloudformation.describe_stack_resources(StackName="loop")["StackResources"]
    assert sorted(r["LogicalResourceId"] for r in resources) == ["Parameter", "Topica1", "Topicb2"]
    topics = emulator.client("sns").list_topics()["Topics"]
    assert sorted(t["TopicArn"].rsplit(":", 1)[-1] for t in topics) == ["t-a-1", "t-b-2"]
    copy = emulator.client("ssm").get_parameter(Name="/copy")["Parameter"]["Value"]
    assert copy == "resolved"
    original = cloudformation.get_template(StackName="loop", TemplateStage="Original")
    assert original["TemplateBody"]["Transform"] == "AWS::LanguageExtensions"


def test_a_missing_ssm_parameter_and_missing_capabilities_are_refused(emulator: Emulator) -> None:
    cloudformation = emulator.client("cloudformation")

    with pytest.raises(ClientError) as missing:
        cloudformation.create_stack(
            StackName="loop", TemplateBody=json.dumps(LOOP), Capabilities=["CAPABILITY_AUTO_EXPAND"]
        )
    with pytest.raises(ClientError) as capabilities:
        cloudformation.create_stack(StackName="loop", TemplateBody=json.dumps(LOOP))

    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert "[ssm:/source] cannot be found" in missing.value.response["Error"]["Message"]
    assert capabilities.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"
    assert cloudformation.list_stacks()["StackSummaries"] == []


def test_a_protected_stack_is_not_deleted_and_a_create_only_change_is_a_replacement(
    emulator: Emulator,
) -> None:
    cloudformation = emulator.client("cloudformation")
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": "first",
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    }
    cloudformation.create_stack(StackName="s", TemplateBody=json.dumps({"Resources": {"T": table}}))
    cloudformation.update_termination_protection(StackName="s", EnableTerminationProtection=True)

    with pytest.raises(ClientError, match="cannot be deleted while TerminationProtection"):
        cloudformation.delete_stack(StackName="s")
    renamed = {**table, "Properties": {**table["Properties"], "TableName": "second"}}
    change_set = cloudformation.create_change_set(
        StackName="s",
        ChangeSetName="rename",
        TemplateBody=json.dumps({"Resources": {"T": renamed}}),
    )
    change = cloudformation.describe_change_set(ChangeSetName=change_set["Id"])["Changes"][0]

    assert (
        cloudformation.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"]
        == "CREATE_COMPLETE"
    )
    assert change["ResourceChange"]["Action"] == "Modify"
    assert change["ResourceChange"]["Replacement"] == "True"
    assert change["ResourceChange"]["Details"][0]["Target"] == {
        "Attribute": "Properties",
        "Name": "TableName",
        "RequiresRecreation": "Always",
    }
