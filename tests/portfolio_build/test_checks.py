"""The build's own checks, each on a template that breaks exactly one rule."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from portfolio_build.checks import limits, studio_contract
from portfolio_build.render import render_templates
from template_common.settings import TemplateSettings

SETTINGS = TemplateSettings()
PARAMETERS = {
    "SageMakerProjectName": {"Type": "String", "MaxLength": 32},
    "SageMakerProjectId": {"Type": "String", "MaxLength": 16},
    "Stage": {"Type": "String", "AllowedValues": ["dev", "production"]},
    "Free": {"Type": "String"},
}


def rendered(name: str) -> dict[str, Any]:
    body = next(t for _, n, t, _ in render_templates(SETTINGS) if n == name).to_dict()
    return copy.deepcopy(json.loads(json.dumps(body)))


@pytest.mark.parametrize(
    ("value", "longest"),
    [
        ("literal", 7),
        ({"Ref": "SageMakerProjectName"}, 32),
        ({"Ref": "Stage"}, 10),
        ({"Ref": "AWS::Region"}, 16),
        ({"Fn::Sub": "sagemaker-${SageMakerProjectName}-${SageMakerProjectId}"}, 10 + 32 + 1 + 16),
        ({"Fn::Sub": ["${A}-${Stage}", {"A": {"Ref": "SageMakerProjectId"}}]}, 16 + 1 + 10),
        ({"Fn::Join": ["-", ["a", {"Ref": "SageMakerProjectId"}, "b"]]}, 1 + 16 + 1 + 2),
        ({"Ref": "Free"}, limits.UNBOUNDED),
        ({"Fn::GetAtt": ["ProjectLifecycle", "ProjectPrefix"]}, None),
        ({"Fn::Sub": "${Bucket.Arn}-x"}, None),
        ({"Ref": "SomeResource"}, None),
    ],
)
def test_worst_case_length(value: Any, longest: float | None) -> None:
    assert limits.worst_case_length(value, PARAMETERS) == longest


def test_a_name_from_an_unbounded_parameter_is_a_finding() -> None:
    body = {
        "Parameters": PARAMETERS,
        "Resources": {
            "Repo": {
                "Type": "AWS::CodeCommit::Repository",
                "Properties": {"RepositoryName": {"Ref": "Free"}},
            }
        },
    }
    [finding] = limits.check_names("t.json", body)
    assert finding.check == "name-limits"
    assert "Repo.RepositoryName is built from a parameter with no MaxLength" in finding.message


@pytest.mark.parametrize(
    ("runtime", "today", "message"),
    [
        ("python3.11", date(2026, 11, 22), "runtime 'python3.11' is not Python 3.12+"),
        ("nodejs22.x", date(2026, 11, 22), "is not Python 3.12+"),
        ("python3.12", date(2027, 12, 1), "runtime python3.12 is deprecated on 2028-10-31"),
    ],
)
def test_a_rotting_lambda_runtime_is_a_finding(runtime: str, today: date, message: str) -> None:
    body = {
        "Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": runtime}}}
    }
    [finding] = limits.check_lambda_runtimes("platform.json", body, today=today)
    assert message in finding.message


def test_the_platform_runtime_is_current() -> None:
    assert (
        limits.check_lambda_runtimes(
            "platform.json", rendered("platform"), today=date(2026, 11, 22)
        )
        == []
    )


def test_an_oversized_template_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(" " * (limits.TEMPLATE_MAX_BYTES + 1))
    body = {"Resources": {f"R{i}": {} for i in range(501)}}
    messages = [f.message for f in limits.check_template_size("big.json", path, body)]
    assert any("over the 1000000-byte limit" in m for m in messages)
    assert any("501 Resources, over the limit of 500" in m for m in messages)


PRODUCT_BREAKS = [
    (
        lambda t: t["Parameters"]["SageMakerProjectName"].update(MaxLength=64),
        "SageMakerProjectName: MaxLength must be 32",
    ),
    (
        lambda t: t["Parameters"]["SageMakerProjectName"].pop("AllowedPattern"),
        "AllowedPattern must be",
    ),
    (
        lambda t: t["Parameters"]["OnDelete"].pop("Default"),
        "user parameter OnDelete has no Default",
    ),
    (
        lambda t: t["Metadata"]["AWS::CloudFormation::Interface"]["ParameterLabels"].pop(
            "OnDelete"
        ),
        "user parameter OnDelete has no label",
    ),
    (
        lambda t: t["Metadata"]["SagemakerTemplateParameterRules"].pop("OnDelete"),
        "not declared in Metadata",
    ),
    (
        lambda t: t["Resources"]["ProjectLifecycle"]["Properties"].update(
            ServiceToken="arn:aws:lambda:x"
        ),
        "ServiceToken must resolve the SSM parameter",
    ),
    (
        lambda t: t["Resources"]["ProjectLifecycle"]["Properties"].update(ProjectId="p-1"),
        "ProjectId must be {'Ref': 'SageMakerProjectId'}",
    ),
    (
        lambda t: t["Resources"].update(
            Endpoint={"Type": "AWS::SageMaker::Endpoint", "Properties": {"EndpointConfigName": "x"}}
        ),
        "AWS::SageMaker::Endpoint has an idle price",
    ),
    (
        lambda t: t["Resources"].update(
            Build={
                "Type": "AWS::CodeBuild::Project",
                "Properties": {"Tags": [{"Key": "a", "Value": "b"}]},
            }
        ),
        "Build: tag sagemaker:project-name must be",
    ),
]


@pytest.mark.parametrize(("breaker", "message"), PRODUCT_BREAKS)
def test_a_product_template_breaking_the_studio_contract_is_a_finding(
    breaker: Any, message: str
) -> None:
    body = rendered("baseline-sagemaker")
    assert studio_contract.check_product("p.json", body, SETTINGS) == []
    breaker(body)
    findings = studio_contract.check_product("p.json", body, SETTINGS)
    assert any(message in f.message for f in findings), findings


PLATFORM_BREAKS = [
    (
        lambda t: t["Resources"]["BaselineSagemakerProduct"]["Properties"].pop("Tags"),
        "sagemaker:studio-visibility=true is missing",
    ),
    (
        lambda t: t["Resources"].pop("AdvancedMlflowAssociation"),
        "AdvancedMlflowProduct: not associated",
    ),
    (
        lambda t: t["Resources"].pop("AdvancedMlflowLaunchConstraint"),
        "AdvancedMlflowProduct: has no launch-role constraint",
    ),
    (
        lambda t: t["Resources"].pop("BaselineMlflowProduct"),
        "expected 4 Service Catalog products, found 3",
    ),
    (
        lambda t: [
            t["Resources"].pop(k)
            for k in ("StudioRolePatternPrincipal", "Fn::ForEach::StudioRoles")
        ],
        "no principal association",
    ),
    (
        lambda t: [
            policy["PolicyDocument"].update(
                Statement=[
                    s
                    for s in policy["PolicyDocument"]["Statement"]
                    if s.get("Sid") != "ServiceCatalogTemplateCopies"
                ]
            )
            for policy in t["Resources"]["LaunchRole"]["Properties"]["Policies"]
        ],
        "LaunchRole: launch role may not s3:GetObject objects tagged",
    ),
    (
        lambda t: t["Resources"].pop("LifecycleFunctionArnParameter"),
        "SSM parameter /mlops-portfolio/lifecycle-function-arn",
    ),
]


@pytest.mark.parametrize(("breaker", "message"), PLATFORM_BREAKS)
def test_a_platform_template_breaking_the_studio_contract_is_a_finding(
    breaker: Any, message: str
) -> None:
    body = rendered("platform")
    assert studio_contract.check_platform("platform.json", body, SETTINGS) == []
    breaker(body)
    findings = studio_contract.check_platform("platform.json", body, SETTINGS)
    assert any(message in f.message for f in findings), findings


BOOTSTRAP_BREAKS = [
    (lambda b: b["Properties"].pop("BucketEncryption"), "not encrypted"),
    (
        lambda b: b["Properties"]["VersioningConfiguration"].update(Status="Suspended"),
        "versioning is not enabled",
    ),
    (
        lambda b: b["Properties"]["PublicAccessBlockConfiguration"].update(BlockPublicPolicy=False),
        "PublicAccessBlockConfiguration.BlockPublicPolicy is not true",
    ),
]


@pytest.mark.parametrize(("breaker", "message"), BOOTSTRAP_BREAKS)
def test_a_weak_bucket_is_a_finding(breaker: Any, message: str) -> None:
    body = rendered("bootstrap")
    assert studio_contract.check_buckets("bootstrap.json", body) == []
    breaker(body["Resources"]["ArtifactsBucket"])
    findings = studio_contract.check_buckets("bootstrap.json", body)
    assert any(f"ArtifactsBucket: {message}" in f.message for f in findings)


def test_a_bucket_without_the_tls_only_policy_is_a_finding() -> None:
    body = rendered("platform")
    body["Resources"].pop("ProjectDataBucketPolicy")
    [finding] = studio_contract.check_buckets("platform.json", body)
    assert "ProjectDataBucket: no bucket policy denies requests without TLS" in finding.message


def test_a_bootstrap_without_a_bucket_is_a_finding() -> None:
    body = rendered("bootstrap")
    body["Resources"] = {}
    [finding] = studio_contract.check_bootstrap("bootstrap.json", body)
    assert finding.message == "no artifacts bucket"
