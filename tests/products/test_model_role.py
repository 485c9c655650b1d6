"""A project's own model role (model_role_isolation "per-project"), from the generated
product templates: it reads only its project's model archives, pulls images, writes its own
endpoints' logs, and holds nothing that approves, trains, or reads a repository."""

from __future__ import annotations

import json
from typing import Any

import pytest

from products.template import build
from template_common.catalog import PRODUCTS
from template_common.settings import TemplateSettings

PER_PROJECT = TemplateSettings(model_role_isolation="per-project")
# What a model's container must never be able to do (the review of issue 16).
FORBIDDEN_ACTION_PARTS = (
    "ModelPackage",
    "Pipeline",
    "TrainingJob",
    "ProcessingJob",
    "secretsmanager:",
    "codecommit:",
    "codeconnections:",
    "codestar-connections:",
    "codebuild:",
    "iam:",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
)


def rendered(product: Any, settings: TemplateSettings) -> dict[str, Any]:
    return json.loads(json.dumps(build(product, settings).to_dict()))


@pytest.fixture(params=PRODUCTS, ids=[p.name for p in PRODUCTS])
def product(request: pytest.FixtureRequest) -> Any:
    return request.param


def model_role_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = template["Resources"]["ModelRole"]["Properties"]["Policies"]
    return list(policy["PolicyDocument"]["Statement"])


def test_the_project_model_role_reads_only_its_projects_model_archives(product: Any) -> None:
    statements = model_role_statements(rendered(product, PER_PROJECT))
    s3 = [s for s in statements if any(a.startswith("s3:") for a in s["Action"])]

    assert [s["Action"] for s in s3] == [["s3:GetObject"]]
    assert s3[0]["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:s3:::{{resolve:ssm:/mlops-portfolio/"
            "project-data-bucket}}/sagemaker-${SageMakerProjectName}-${SageMakerProjectId}"
            "/*.tar.gz"
        }
    ]


def test_the_project_model_role_writes_only_its_projects_endpoint_logs(product: Any) -> None:
    statements = model_role_statements(rendered(product, PER_PROJECT))
    (logs,) = [s for s in statements if s["Sid"] == "EndpointLogs"]
    assert logs["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:"
            "log-group:/aws/sagemaker/Endpoints/sagemaker-*-${SageMakerProjectId}-*"
        }
    ]


def test_the_project_model_role_can_neither_approve_train_nor_read_a_repository(
    product: Any,
) -> None:
    actions = [
        a for s in model_role_statements(rendered(product, PER_PROJECT)) for a in s["Action"]
    ]
    assert set(actions) == {
        "s3:GetObject",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "ecr:GetAuthorizationToken",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    }
    assert not [a for a in actions if any(part in a for part in FORBIDDEN_ACTION_PARTS)]


def test_the_project_model_role_is_trusted_by_sagemaker_only_under_the_platform_path(
    product: Any,
) -> None:
    role = rendered(product, PER_PROJECT)["Resources"]["ModelRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": ["sagemaker.amazonaws.com"]}
    assert role["Path"] == "/mlops-portfolio/project-models/"
    assert "RoleName" not in role, "CloudFormation names it: no name to collide or overflow"


def test_the_lifecycle_gets_the_project_model_role_only_when_isolated(product: Any) -> None:
    isolated = rendered(product, PER_PROJECT)["Resources"]
    shared = rendered(product, TemplateSettings())["Resources"]

    assert isolated["ProjectLifecycle"]["Properties"]["ModelRoleArn"] == {
        "Fn::GetAtt": ["ModelRole", "Arn"]
    }
    assert "ModelRole" not in shared
    assert "ModelRoleArn" not in shared["ProjectLifecycle"]["Properties"]
