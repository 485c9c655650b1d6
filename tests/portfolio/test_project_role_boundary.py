"""The permissions boundary of project roles, from the generated templates: every role a
product template creates carries it, the launch roles create and change roles only with it,
it denies what no project role may do, and it allows everything the training role and the
project model role are granted (so the boundary never breaks a project)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

import pytest

from portfolio.platform import build as build_platform
from products.template import build as build_product
from template_common.catalog import PRODUCTS
from template_common.settings import TemplateSettings

SETTINGS = (TemplateSettings(), TemplateSettings(model_role_isolation="per-project"))
BOUNDARY = {"Ref": "ProjectRoleBoundary"}
RESOLVED_BOUNDARY = "{{resolve:ssm:/mlops-portfolio/project-role-boundary-arn}}"
ROLE_CHANGES_UNDER_THE_BOUNDARY = {
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
}
# What a project role must never do, however its own policy reads.
NEVER = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:CreateAccessKey",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteRolePermissionsBoundary",
    "organizations:LeaveOrganization",
    "account:CloseAccount",
    "dynamodb:DeleteTable",
    "dynamodb:PutItem",
    "lambda:UpdateFunctionCode",
    "cloudformation:DeleteStack",
    "ssm:PutParameter",
    "sns:DeleteTopic",
    "sqs:PurgeQueue",
    "kms:ScheduleKeyDeletion",
    "events:DeleteRule",
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
)


def render(template: Any) -> dict[str, Any]:
    return json.loads(json.dumps(template.to_dict()))


@cache
def platform() -> dict[str, Any]:
    return render(build_platform(TemplateSettings()))


def boundary_statements() -> list[dict[str, Any]]:
    policy = platform()["Resources"]["ProjectRoleBoundary"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def matches(action: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def boundary_allows(action: str) -> bool:
    statements = boundary_statements()
    denied = [a for s in statements if s["Effect"] == "Deny" for a in as_list(s["Action"])]
    allowed = [a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])]
    return matches(action, allowed) and not matches(action, denied)


@cache
def project_roles() -> list[tuple[str, str, dict[str, Any]]]:
    """(product, logical id, role) of every role of every product template, both settings."""
    return [
        (product.name, logical_id, resource)
        for settings in SETTINGS
        for product in PRODUCTS
        for logical_id, resource in render(build_product(product, settings))["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    ]


def granted_actions(role: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                statement = statement["Fn::If"][1]
            assert statement["Effect"] == "Allow"
            actions.update(as_list(statement["Action"]))
    return actions


def test_every_role_of_every_product_template_carries_the_boundary() -> None:
    roles = project_roles()
    assert {logical_id for _, logical_id, _ in roles} == {"TrainingRole", "ModelRole"}
    for product, logical_id, role in roles:
        assert role["Properties"].get("PermissionsBoundary") == RESOLVED_BOUNDARY, (
            f"{product}: {logical_id}"
        )


def test_the_platform_publishes_the_boundary_the_products_resolve() -> None:
    parameter = platform()["Resources"]["ProjectRoleBoundaryParameter"]["Properties"]
    assert parameter["Name"] == "/mlops-portfolio/project-role-boundary-arn"
    assert parameter["Value"] == BOUNDARY


@pytest.mark.parametrize("launch_role", ["LaunchRole", "TemplateLaunchRole"])
def test_the_launch_roles_make_and_change_roles_only_with_the_boundary(launch_role: str) -> None:
    role = platform()["Resources"][launch_role]["Properties"]
    (policy,) = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    iam_statements = [
        s for s in statements if any(str(a).startswith("iam:") for a in as_list(s["Action"]))
    ]
    bounded = [s for s in iam_statements if "iam:PermissionsBoundary" in json.dumps(s)]

    (with_boundary,) = bounded
    assert set(with_boundary["Action"]) == ROLE_CHANGES_UNDER_THE_BOUNDARY
    assert with_boundary["Condition"] == {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}
    unconditioned = {
        a
        for s in iam_statements
        if s not in bounded and s["Effect"] == "Allow"
        for a in s["Action"]
    }
    assert not unconditioned & ROLE_CHANGES_UNDER_THE_BOUNDARY
    assert any(
        s["Effect"] == "Deny" and s["Action"] == ["iam:DeleteRolePermissionsBoundary"]
        for s in iam_statements
    )
    resolved = [s for s in statements if s.get("Sid") == "ResolveProjectRoleBoundary"]
    assert resolved, "the launch role resolves the boundary's SSM parameter"


@pytest.mark.parametrize("action", NEVER)
def test_the_boundary_denies_what_no_project_role_may_do(action: str) -> None:
    assert not boundary_allows(action)


def test_the_boundary_denies_those_outright_not_only_by_omission() -> None:
    denied = [a for s in boundary_statements() if s["Effect"] == "Deny" for a in s["Action"]]
    unmatched = [action for action in NEVER if not matches(action, denied)]
    assert unmatched == []


def test_the_boundary_allows_every_action_project_roles_are_granted() -> None:
    outside = sorted(
        f"{product}: {logical_id}: {action}"
        for product, logical_id, role in project_roles()
        for action in granted_actions(role)
        if not boundary_allows(action)
    )
    assert outside == []


def test_the_boundary_keeps_s3_to_the_project_data_bucket() -> None:
    s3 = [
        s
        for s in boundary_statements()
        if s["Effect"] == "Allow" and any(a.startswith("s3:") for a in s["Action"])
    ]
    assert [s["Resource"] for s in s3] == [
        [
            {"Fn::GetAtt": ["ProjectDataBucket", "Arn"]},
            {"Fn::Join": ["", [{"Fn::GetAtt": ["ProjectDataBucket", "Arn"]}, "/*"]]},
        ]
    ]


IAM_NAMES = ("RoleName", "ManagedPolicyName", "InstanceProfileName", "UserName", "GroupName")


def _resources(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for key, value in resources.items():
        if key.startswith("Fn::ForEach"):
            found += _resources(value[2])
        elif isinstance(value, dict) and "Type" in value:
            found.append((key, value))
    return found


def test_every_iam_name_of_the_platform_stack_carries_its_region() -> None:
    """IAM names are the account's, the platform stack one per Region: a fixed name would make
    the second Region's stack fail (EntityAlreadyExists)."""
    named = {
        (logical_id, key): json.dumps(resource["Properties"][key])
        for logical_id, resource in _resources(platform()["Resources"])
        if resource["Type"].startswith("AWS::IAM::")
        for key in IAM_NAMES
        if key in resource.get("Properties", {})
    }

    assert named, "the boundary is a named managed policy"
    assert {where: name for where, name in named.items() if "${AWS::Region}" not in name} == {}


def test_the_boundary_lets_project_roles_manage_permissions_of_network_interfaces_only() -> None:
    """A build and the pipeline's jobs in the self-hosted MLflow server's VPC need CodeBuild
    and SageMaker to attach their network interfaces: permissions on network interfaces, never
    on anything else (checkov's "permissions management without constraints")."""
    granting = [
        s
        for s in boundary_statements()
        if s["Effect"] == "Allow"
        and any(
            matches(action, s["Action"])
            for action in (
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterfacePermission",
            )
        )
    ]
    assert [s["Sid"] for s in granting] == [
        "BuildNetworkInterfaces",
        "PipelineJobNetworkInterfaces",
    ]
    assert granting[0]["Condition"] == {
        "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"}
    }
    for statement in granting:
        (resource,) = statement["Resource"]
        assert resource["Fn::Sub"].endswith(":network-interface/*")
