"""The platform stack's deployment Lambdas: which roles they may pass to SageMaker (the shared
model role, and the projects' own model roles under the platform's path: never a training
role), and what the shared model role may read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_project_lifecycle.naming import ProjectNames, check_name
from portfolio import platform
from template_common.settings import TemplateSettings

TEMPLATE: dict[str, Any] = json.loads(json.dumps(platform.build(TemplateSettings()).to_dict()))
RESOURCES = TEMPLATE["Resources"]
DEPLOYING = ("ModelDeployFunctionRole", "EndpointEventsFunctionRole")


def statements(role: str) -> list[dict[str, Any]]:
    return list(RESOURCES[role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"])


def by_sid(role: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements(role)}


@pytest.mark.parametrize("role", DEPLOYING)
def test_models_run_as_the_shared_or_a_projects_own_model_role_only(role: str) -> None:
    passing = [s for s in statements(role) if "iam:PassRole" in s["Action"]]
    assert passing == [
        {
            "Sid": "PassModelRolesToSageMaker",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [
                {"Fn::GetAtt": ["ModelExecutionRole", "Arn"]},
                {
                    "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:"
                    "role/mlops-portfolio/project-models/*"
                },
            ],
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }
    ]
    assert not [s for s in statements(role) if "iam:GetRole" in s["Action"]]


def test_the_model_role_may_read_archives_pull_images_and_log_nothing_else() -> None:
    policy = RESOURCES["ModelExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    services = {a.split(":")[0] for a in actions}
    assert services == {"s3", "ecr", "logs"}, actions
    assert "s3:PutObject" not in actions and "s3:ListBucket" not in actions
    trust = RESOURCES["ModelExecutionRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": ["sagemaker.amazonaws.com"]}


def test_the_training_role_pattern_matches_every_projects_training_role() -> None:
    for names in (ProjectNames("a", "p-1"), ProjectNames("a" * 32, "p-" + "9" * 14)):
        role = names.training_role()
        check_name("iam_role", role)
        assert role.startswith("sagemaker-") and role.endswith("-training")


@pytest.mark.parametrize("role", DEPLOYING)
def test_the_deploy_handlers_may_register_variant_scaling(role: str) -> None:
    # Application Auto Scaling refuses RegisterScalableTarget unless the caller may itself
    # describe the endpoint and change its variants' capacities.
    actions = {a for s in statements(role) for a in s["Action"]}
    assert {
        "application-autoscaling:RegisterScalableTarget",
        "sagemaker:DescribeEndpoint",
        "sagemaker:DescribeEndpointConfig",
        "sagemaker:UpdateEndpointWeightsAndCapacities",
    } <= actions
    [endpoints] = by_sid(role)["VariantScalingValidation"]["Resource"]
    assert endpoints["Fn::Sub"].endswith(":endpoint/sagemaker-*")


@pytest.mark.parametrize(
    "role", (*DEPLOYING, "LifecycleFunctionRole", "DevEndpointReaperFunctionRole")
)
def test_every_role_that_deletes_models_may_confirm_one_is_gone(role: str) -> None:
    actions = {a for s in statements(role) for a in s["Action"]}
    assert {"sagemaker:DeleteModel", "sagemaker:DescribeModel"} <= actions


def test_the_shared_model_role_reads_model_archives_not_project_data() -> None:
    policy = RESOURCES["ModelExecutionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    reads = [s for s in policy["Statement"] if "s3:GetObject" in s["Action"]]
    assert reads == [
        {
            "Sid": "ModelArchivesOnly",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [
                {
                    "Fn::Join": [
                        "",
                        [{"Fn::GetAtt": ["ProjectDataBucket", "Arn"]}, "/sagemaker-*/*.tar.gz"],
                    ]
                }
            ],
        }
    ]


@pytest.mark.parametrize("isolation", ["shared", "per-project"])
def test_the_isolation_setting_is_the_platform_parameters_default_and_reaches_the_lifecycle(
    isolation: str,
) -> None:
    settings = TemplateSettings(model_role_isolation=isolation)
    body = json.loads(json.dumps(platform.build(settings).to_dict()))
    parameter = body["Parameters"]["ModelRoleIsolation"]
    assert parameter["Default"] == isolation
    assert parameter["AllowedValues"] == ["shared", "per-project"]
    variables = body["Resources"]["LifecycleFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["MODEL_ROLE_ISOLATION"] == {"Ref": "ModelRoleIsolation"}
