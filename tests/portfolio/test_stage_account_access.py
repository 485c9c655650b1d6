"""Cross-account grants in the templates: none without stage accounts; with them, each names
its account and that account's one role."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from lambda_project_lifecycle.stage_accounts import STAGE_ACCOUNTS_ENV, StageAccountIds
from portfolio import platform, target_account
from template_common.settings import TemplateSettings

DEV, STAGING, PROD = "111111111111", "222222222222", "333333333333"
ACCOUNTS = StageAccountIds(development=DEV, production=PROD, staging=STAGING)


def rendered(settings: TemplateSettings) -> dict[str, Any]:
    return json.loads(json.dumps(platform.build(settings).to_dict()))


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(resource, statement) of every policy document in the template."""
    for logical_id, resource in template["Resources"].items():
        if not isinstance(resource, dict):  # Fn::ForEach
            continue
        properties = resource.get("Properties", {})
        documents = [
            properties.get(key)
            for key in ("PolicyDocument", "AssumeRolePolicyDocument")
            if properties.get(key)
        ]
        documents += [p["PolicyDocument"] for p in properties.get("Policies", [])]
        for document in documents:
            yield from ((logical_id, s) for s in document["Statement"])
        if resource["Type"] == "AWS::Events::EventBusPolicy":
            yield logical_id, properties["Statement"]


def cross_account_grants(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Allow statements whose principal is an AWS account or role other than the stack's own
    account (``${AWS::AccountId}``), or not a service."""
    return [
        (logical_id, statement)
        for logical_id, statement in statements(template)
        if statement.get("Effect") == "Allow"
        and isinstance(statement.get("Principal"), dict)
        and "AWS" in statement["Principal"]
        and "${AWS::AccountId}" not in json.dumps(statement["Principal"])
    ]


def account_of(arn: str) -> str:
    found = re.search(r":iam::(\d{12}):", arn)
    assert found, arn
    return found.group(1)


def test_without_stage_accounts_nothing_is_granted_to_another_account() -> None:
    template = rendered(TemplateSettings())

    assert cross_account_grants(template) == []
    kinds = {r["Type"] for r in template["Resources"].values() if isinstance(r, dict)}
    assert "AWS::Events::EventBusPolicy" not in kinds
    for resource in template["Resources"].values():
        if not isinstance(resource, dict):
            continue
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        assert STAGE_ACCOUNTS_ENV not in variables
    assert "DeploymentHandlerRoleArns" not in template["Outputs"]


@pytest.mark.parametrize("accounts", [ACCOUNTS, StageAccountIds(DEV, PROD)])
def test_every_grant_names_a_configured_account_and_its_one_role(
    accounts: StageAccountIds,
) -> None:
    template = rendered(TemplateSettings(stage_accounts=accounts))

    grants = cross_account_grants(template)
    granted: dict[str, set[str]] = {}
    for logical_id, statement in grants:
        (root,) = statement["Principal"]["AWS"]
        account = account_of(root["Fn::Sub"])
        assert account in accounts.accounts, (logical_id, statement)
        role = statement["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::Sub"]
        assert role.startswith(f"arn:${{AWS::Partition}}:iam::{account}:role/"), role
        granted.setdefault(logical_id, set()).add(role.rsplit("/", 1)[1])
    # The data bucket: each account's model role; the bus: each account's forwarding role.
    assert granted["ProjectDataBucketPolicy"] == {"mlops-portfolio-model"}
    for account in accounts.accounts:
        assert granted[f"EventsFrom{account}"] == {"mlops-portfolio-endpoint-events"}
    bus_policies = [
        logical_id
        for logical_id, r in template["Resources"].items()
        if isinstance(r, dict) and r["Type"] == "AWS::Events::EventBusPolicy"
    ]
    assert sorted(bus_policies) == sorted(f"EventsFrom{a}" for a in accounts.accounts)
    # The archives only: no other key of the bucket is granted.
    (archives,) = [s for i, s in grants if i == "ProjectDataBucketPolicy"][:1]
    assert archives["Action"] == ["s3:GetObject"]
    assert archives["Resource"][0]["Fn::Join"][1][1] == "/sagemaker-*/*.tar.gz"


def test_handlers_may_assume_only_the_stage_accounts_deployment_roles() -> None:
    template = rendered(TemplateSettings(stage_accounts=ACCOUNTS))

    access = template["Resources"]["StageAccountDeploymentAccess"]["Properties"]
    statement, organization = access["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["sts:AssumeRole"]
    # Read of their own organization only: to refuse a stage account outside it.
    assert organization["Action"] == ["organizations:DescribeOrganization"]
    assert {r["Fn::Sub"] for r in statement["Resource"]} == {
        f"arn:${{AWS::Partition}}:iam::{a}:role/mlops-portfolio-deployment"
        for a in (DEV, STAGING, PROD)
    }
    assert {r["Ref"] for r in access["Roles"]} == {
        "ModelDeployFunctionRole",
        "EndpointEventsFunctionRole",
        "DevEndpointReaperFunctionRole",
        "LifecycleFunctionRole",
    }
    variables = template["Resources"]["ModelDeployFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    assert StageAccountIds.from_environment(variables[STAGE_ACCOUNTS_ENV]) == ACCOUNTS


def test_the_target_deployment_role_trusts_only_the_platform_handler_roles() -> None:
    template = json.loads(json.dumps(target_account.build(TemplateSettings()).to_dict()))

    role = template["Resources"]["DeploymentRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "PlatformHandlerRoleArns"}}
    assert trust["Condition"] == {
        "StringEquals": {"aws:PrincipalAccount": {"Ref": "PlatformAccountId"}}
    }
    assert role["RoleName"] == "mlops-portfolio-deployment"
    model_role = template["Resources"]["ModelRole"]["Properties"]
    (archives,) = [
        s
        for s in model_role["Policies"][0]["PolicyDocument"]["Statement"]
        if s["Sid"] == "ModelArchivesOnly"
    ]
    assert archives["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${ProjectDataBucket}/sagemaker-*/*.tar.gz"}
    ]
    rule = template["Resources"]["EndpointEventsForwardRule"]["Properties"]
    assert rule["Targets"][0]["Arn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${PlatformAccountId}:"
        "event-bus/default"
    }
