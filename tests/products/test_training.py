"""The product template's training: one CodeBuild project and one role per project, scoped."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_project_lifecycle.resource_properties import REPOSITORY_PROPERTIES
from lambda_project_lifecycle.triggers import BRANCH_PATTERN_FOR_WEBHOOKS
from products.template import USER_PARAMETERS, build
from template_common.catalog import PRODUCTS
from template_common.settings import TemplateSettings

SETTINGS = TemplateSettings()


def rendered(product: Any) -> dict[str, Any]:
    return json.loads(json.dumps(build(product, SETTINGS).to_dict()))


@pytest.fixture(params=PRODUCTS, ids=[p.name for p in PRODUCTS])
def product(request: pytest.FixtureRequest) -> Any:
    return request.param


def when_true(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of a list some of which are ``Fn::If``: each as its condition true."""
    return [item["Fn::If"][1] if "Fn::If" in item else item for item in items]


def statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    policy = template["Resources"]["TrainingRole"]["Properties"]["Policies"][0]
    return when_true(policy["PolicyDocument"]["Statement"])


def build_variables(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The training build's environment variables by name (each ``Fn::If`` as true)."""
    environment = template["Resources"]["TrainingProject"]["Properties"]["Environment"]
    variables = environment["EnvironmentVariables"]
    if "Fn::If" in variables:
        variables = variables["Fn::If"][1]
    return {v["Name"]: v for v in variables}


def test_names_come_from_the_lifecycle_resource(product: Any) -> None:
    template = rendered(product)
    resources = template["Resources"]
    project = resources["TrainingProject"]
    role = resources["TrainingRole"]
    assert project["Condition"] == role["Condition"] == "HasTrainingProject"
    assert project["Properties"]["Name"] == {
        "Fn::GetAtt": ["ProjectLifecycle", "TrainingProjectName"]
    }
    assert role["Properties"]["RoleName"] == {
        "Fn::GetAtt": ["ProjectLifecycle", "TrainingRoleName"]
    }
    assert project["Properties"]["ServiceRole"] == {"Fn::GetAtt": ["TrainingRole", "Arn"]}
    assert project["Properties"]["Source"]["Location"] == {
        "Fn::GetAtt": ["ProjectLifecycle", "RepositoryCloneUrl"]
    }
    assert "BuildSpec" not in project["Properties"]["Source"], "buildspec.yml of the repository"
    assert build_variables(template)["SAGEMAKER_PIPELINE_ROLE_ARN"] == {
        "Name": "SAGEMAKER_PIPELINE_ROLE_ARN",
        "Type": "PLAINTEXT",
        "Value": {"Fn::GetAtt": ["TrainingRole", "Arn"]},
    }


def test_the_build_knows_its_own_timeout(product: Any) -> None:
    """The seed's CI stops waiting for its pipeline, with a message, before CodeBuild's
    timeout stops the build without one: it reads the timeout from BUILD_TIMEOUT_MINUTES."""
    template = rendered(product)
    project = template["Resources"]["TrainingProject"]["Properties"]
    timeout = build_variables(template)["BUILD_TIMEOUT_MINUTES"]["Value"]
    assert timeout == str(project["TimeoutInMinutes"])


def test_hosted_git_builds_through_a_webhook_on_the_training_branches(product: Any) -> None:
    triggers = rendered(product)["Resources"]["TrainingProject"]["Properties"]["Triggers"]
    condition, webhook, otherwise = triggers["Fn::If"]
    assert condition == "IsHostedRepository"
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert webhook["Webhook"] is True
    assert webhook["FilterGroups"] == [
        [
            {"Type": "EVENT", "Pattern": "PUSH"},
            {"Type": "HEAD_REF", "Pattern": BRANCH_PATTERN_FOR_WEBHOOKS},
        ]
    ]


def test_the_role_passes_only_itself_and_only_to_sagemaker(product: Any) -> None:
    template = rendered(product)
    trust = template["Resources"]["TrainingRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"]["Service"] == [
        "codebuild.amazonaws.com",
        "sagemaker.amazonaws.com",
    ]
    passing = [s for s in statements(template) if "iam:PassRole" in s["Action"]]
    assert passing == [
        {
            "Sid": "PassItselfToSageMaker",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [
                {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${Name}",
                        {"Name": {"Fn::GetAtt": ["ProjectLifecycle", "TrainingRoleName"]}},
                    ]
                }
            ],
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        }
    ]


def test_the_role_reaches_only_the_projects_prefix_groups_and_pipelines(product: Any) -> None:
    template = rendered(product)
    by_sid = {s["Sid"]: s for s in statements(template)}
    bucket = f"{{{{resolve:ssm:{SETTINGS.project_data_bucket_parameter}}}}}"
    data = json.dumps(by_sid["ProjectData"]["Resource"])
    assert bucket in data and "${Prefix}/*" in data
    assert "ProjectPrefix" in data
    assert "pipeline/${ArnPrefix}-*" in json.dumps(by_sid["ProjectPipelines"]["Resource"])
    wildcard = [sid for sid, s in by_sid.items() if "*" in s["Resource"]]
    if product.registry == "sagemaker":
        assert wildcard == ["EcrTokenHasNoResourceScope", "ListingHasNoResourceScope"]
        groups = json.dumps(by_sid["ProjectModelGroups"]["Resource"])
        for kind in product.scenario.model_group_kinds:
            assert f"ModelGroup{kind.capitalize()}ArnName" in groups
        assert "ManagedMlflowTrackingServers" not in by_sid
        # Deleting packages: only promotion's own duplicates, so only the production groups.
        deleting = [
            s for s in statements(template) if "sagemaker:DeleteModelPackage" in s["Action"]
        ]
        assert [s["Sid"] for s in deleting] == ["PromotionDuplicates"]
        assert deleting[0]["Action"] == ["sagemaker:DeleteModelPackage"]
        assert deleting[0]["Resource"] == [
            {
                "Fn::Sub": [
                    "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
                    ":model-package/${Name}/*",
                    {
                        "Name": {
                            "Fn::GetAtt": [
                                "ProjectLifecycle",
                                f"ModelGroup{kind.capitalize()}ArnName",
                            ]
                        }
                    },
                ]
            }
            for kind in product.scenario.production_kinds
        ]
    else:
        # BuildNetwork: the build's network interfaces in the platform's self-hosted MLflow
        # server's VPC (tests/products/test_mlflow_builds.py), which EC2 does not scope.
        assert wildcard == ["EcrTokenHasNoResourceScope", "BuildNetwork"]
        assert "ProjectModelGroups" not in by_sid
        # Registering into a SageMaker managed MLflow server (or the serverless MLflow App of
        # the platform's managed option, whose API also asks for CallMlflowAppApi) is an
        # IAM-authorized call.
        mlflow = by_sid["ManagedMlflowTrackingServers"]
        assert mlflow["Action"] == ["sagemaker-mlflow:*", "sagemaker:CallMlflowAppApi"]
        # Only the project's own tracking server, as the lifecycle resolved it.
        assert mlflow["Resource"] == [
            {"Fn::GetAtt": ["ProjectLifecycle", "MlflowTrackingServerArn"]}
        ]


def test_the_role_runs_the_projects_jobs_and_writes_no_endpoint_logs(product: Any) -> None:
    """Its pipelines' jobs run as this role: it trusts SageMaker, pulls the jobs' images and
    reads the project's prefix. Deployed models run as a model role, so it writes no
    endpoint's logs."""
    template = rendered(product)
    role = template["Resources"]["TrainingRole"]["Properties"]
    services = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
    assert "sagemaker.amazonaws.com" in services
    by_sid = {s["Sid"]: s for s in statements(template)}
    assert by_sid["PullImages"]["Action"] == [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
    ]
    assert by_sid["EcrTokenHasNoResourceScope"]["Action"] == ["ecr:GetAuthorizationToken"]
    assert "s3:GetObject" in by_sid["ProjectData"]["Action"]
    logs = json.dumps(by_sid["BuildLogs"]["Resource"])
    assert "log-group:/aws/sagemaker/TrainingJobs:log-stream:*" in logs
    assert "Endpoints" not in logs
    assert "log-group:/aws/sagemaker/*" not in logs


def test_every_repository_setting_is_a_labelled_optional_studio_parameter(product: Any) -> None:
    template = rendered(product)
    assert {p.name for p in USER_PARAMETERS} >= set(REPOSITORY_PROPERTIES)
    properties = template["Resources"]["ProjectLifecycle"]["Properties"]
    labels = template["Metadata"]["AWS::CloudFormation::Interface"]["ParameterLabels"]
    for name in REPOSITORY_PROPERTIES:
        assert properties[name] == {"Ref": name}
        assert template["Parameters"][name]["Default"] in ("", "codecommit")
        assert labels[name]["default"]
        assert template["Metadata"]["SagemakerTemplateParameterRules"][name] == {"Optional": True}
    assert template["Parameters"]["RepositoryProvider"]["AllowedValues"] == [
        "codecommit",
        "github",
        "gitlab",
        "bitbucket",
        "git",
    ]


def test_every_project_endpoint_log_group_matches_the_roles_pattern() -> None:
    import fnmatch

    from lambda_project_lifecycle.deployments.config import STAGES
    from lambda_project_lifecycle.naming import ProjectNames

    for names in (ProjectNames("a", "p-1"), ProjectNames("a" * 32, "p-" + "9" * 14)):
        for stage in STAGES:
            endpoint = names.endpoint(stage)
            assert fnmatch.fnmatchcase(endpoint, f"sagemaker-*-{names.project_id}-*"), endpoint
