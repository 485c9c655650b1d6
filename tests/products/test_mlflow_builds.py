"""The MLflow products' builds on the platform's self-hosted tracking server: in its VPC, as
its user, with that one secret; on any other server, none of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portfolio_build.checks.studio_contract import check_product
from products.template import build
from template_common.catalog import PRODUCTS
from template_common.settings import TemplateSettings

SETTINGS = TemplateSettings()
MLFLOW_PRODUCTS = [p for p in PRODUCTS if p.registry == "mlflow"]
CONDITION = "BuildsOnThePlatformsMlflowServer"
NO_VALUE = {"Ref": "AWS::NoValue"}


def rendered(product: Any) -> dict[str, Any]:
    return json.loads(json.dumps(build(product, SETTINGS).to_dict()))


def evaluate(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """A condition's truth, as CloudFormation decides it from the parameters' values."""
    if isinstance(value, str):
        return value
    ((function, arguments),) = value.items()
    if function == "Ref":
        return parameters.get(arguments, template["Parameters"][arguments].get("Default"))
    if function == "Condition":
        return evaluate(template["Conditions"][arguments], template, parameters)
    results = [evaluate(argument, template, parameters) for argument in arguments]
    if function == "Fn::Equals":
        return results[0] == results[1]
    if function == "Fn::And":
        return all(results)
    if function == "Fn::Not":
        return not results[0]
    raise AssertionError(f"no evaluator for {function}")


def resolved(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """``value`` with each ``Fn::If`` taken as CloudFormation would (AWS::NoValue dropped)."""
    if isinstance(value, list):
        items = [resolved(item, template, parameters) for item in value]
        return [item for item in items if item != NO_VALUE]
    if not isinstance(value, dict):
        return value
    if "Fn::If" in value:
        name, true, false = value["Fn::If"]
        taken = evaluate(template["Conditions"][name], template, parameters)
        return resolved(true if taken else false, template, parameters)
    items = {key: resolved(item, template, parameters) for key, item in value.items()}
    return {key: item for key, item in items.items() if item != NO_VALUE}


def training_build(product: Any, parameters: dict[str, str]) -> tuple[dict, dict]:
    """The training project's and role's properties for these parameter values."""
    template = rendered(product)
    resources = template["Resources"]
    return (
        resolved(resources["TrainingProject"]["Properties"], template, parameters),
        resolved(resources["TrainingRole"]["Properties"], template, parameters),
    )


def variables(project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["Name"]: v for v in project["Environment"]["EnvironmentVariables"]}


def role_statements(role: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in role["Policies"][0]["PolicyDocument"]["Statement"]}


def attribute(name: str) -> dict[str, Any]:
    return {"Fn::GetAtt": ["ProjectLifecycle", name]}


SELF_HOSTED = {"PlatformMlflowTrackingServer": "self-hosted"}


@pytest.mark.parametrize("product", MLFLOW_PRODUCTS, ids=[p.name for p in MLFLOW_PRODUCTS])
def test_on_the_platforms_self_hosted_server_the_build_runs_in_its_vpc(product: Any) -> None:
    project, _ = training_build(product, SELF_HOSTED)

    assert project["VpcConfig"] == {
        "VpcId": attribute("MlflowBuildVpcId"),
        "Subnets": {"Fn::Split": [",", attribute("MlflowBuildSubnetIds")]},
        "SecurityGroupIds": [attribute("MlflowBuildSecurityGroupId")],
    }


@pytest.mark.parametrize("product", MLFLOW_PRODUCTS, ids=[p.name for p in MLFLOW_PRODUCTS])
def test_the_build_logs_in_as_the_platforms_user_from_its_secret(product: Any) -> None:
    project, _ = training_build(product, SELF_HOSTED)

    found = variables(project)
    secret = attribute("MlflowBuildCredentialsArn")
    assert found["MLFLOW_TRACKING_USERNAME"] == {
        "Name": "MLFLOW_TRACKING_USERNAME",
        "Type": "SECRETS_MANAGER",
        "Value": {"Fn::Sub": ["${Secret}:username", {"Secret": secret}]},
    }
    assert found["MLFLOW_TRACKING_PASSWORD"]["Type"] == "SECRETS_MANAGER"
    assert found["MLFLOW_TRACKING_PASSWORD"]["Value"] == {
        "Fn::Sub": ["${Secret}:password", {"Secret": secret}]
    }
    assert found["MLFLOW_TRACKING_URI"] == {
        "Name": "MLFLOW_TRACKING_URI",
        "Type": "PLAINTEXT",
        "Value": attribute("MlflowTrackingUri"),
    }
    # for the pipeline's register job: the network, and the secret's name, never its value
    for name, source in (
        ("MLFLOW_CREDENTIALS_SECRET_ARN", "MlflowBuildCredentialsArn"),
        ("MLFLOW_SUBNET_IDS", "MlflowBuildSubnetIds"),
        ("MLFLOW_SECURITY_GROUP_ID", "MlflowBuildSecurityGroupId"),
    ):
        assert found[name] == {"Name": name, "Type": "PLAINTEXT", "Value": attribute(source)}


@pytest.mark.parametrize("product", MLFLOW_PRODUCTS, ids=[p.name for p in MLFLOW_PRODUCTS])
def test_the_training_role_may_read_that_one_secret_and_use_only_that_vpc(product: Any) -> None:
    _, role = training_build(product, SELF_HOSTED)

    by_sid = role_statements(role)
    readers = [s for s in by_sid.values() if "secretsmanager:GetSecretValue" in s["Action"]]
    assert readers == [by_sid["PlatformMlflowUser"]]  # the provider is CodeCommit: no token
    assert by_sid["PlatformMlflowUser"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert by_sid["PlatformMlflowUser"]["Resource"] == [attribute("MlflowBuildCredentialsArn")]
    interfaces = by_sid["BuildNetworkInterfaces"]
    assert interfaces["Action"] == ["ec2:CreateNetworkInterfacePermission"]
    assert interfaces["Condition"]["StringEquals"] == {
        "ec2:AuthorizedService": "codebuild.amazonaws.com"
    }
    vpc = json.dumps(interfaces["Condition"]["ArnEquals"]["ec2:Vpc"])
    assert "vpc/${Vpc}" in vpc and "MlflowBuildVpcId" in vpc
    # the unconditioned network actions are the ones EC2 cannot scope, never the permission
    assert "ec2:CreateNetworkInterfacePermission" not in by_sid["BuildNetwork"]["Action"]
    # the pipeline's register job in that VPC: SageMaker attaches its network interfaces
    jobs = by_sid["PipelineJobNetworkInterfaces"]
    assert jobs["Action"] == [
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterfacePermission",
    ]
    assert "network-interface/*" in json.dumps(jobs["Resource"])


@pytest.mark.parametrize(
    "parameters",
    [
        {"PlatformMlflowTrackingServer": "external"},
        {"PlatformMlflowTrackingServer": "managed"},
        # the project's own server: the platform's password and network are not for it
        {**SELF_HOSTED, "MlflowTrackingUri": "https://mlflow.team-a.example"},
    ],
    ids=["external", "managed", "self-hosted-but-the-projects-own-server"],
)
@pytest.mark.parametrize("product", MLFLOW_PRODUCTS, ids=[p.name for p in MLFLOW_PRODUCTS])
def test_on_any_other_server_the_build_gets_no_vpc_credentials_or_permission(
    product: Any, parameters: dict[str, str]
) -> None:
    project, role = training_build(product, parameters)

    assert "VpcConfig" not in project
    assert set(variables(project)) == {
        "SAGEMAKER_PIPELINE_ROLE_ARN",
        "BUILD_TIMEOUT_MINUTES",
        "MLFLOW_TRACKING_URI",
    }
    granted = json.dumps(role["Policies"])
    assert "MlflowBuild" not in granted
    assert "ec2:" not in granted


def test_sagemaker_registry_products_know_nothing_of_mlflow_builds() -> None:
    for product in PRODUCTS:
        if product.registry != "sagemaker":
            continue
        template = rendered(product)
        assert CONDITION not in template["Conditions"]
        assert "PlatformMlflowTrackingServer" not in template["Parameters"]
        project = template["Resources"]["TrainingProject"]["Properties"]
        assert "VpcConfig" not in project
        assert "MLFLOW" not in json.dumps(project)


@pytest.mark.parametrize("product", MLFLOW_PRODUCTS, ids=[p.name for p in MLFLOW_PRODUCTS])
def test_the_platforms_option_comes_from_its_ssm_parameter_within_the_studio_contract(
    product: Any,
) -> None:
    """A condition reads parameters only: the option is one, of a type CloudFormation fills
    from the SSM parameter the platform writes, optional and labelled as Studio's form
    needs, and not passed on to the lifecycle Lambda."""
    template = rendered(product)
    parameter = template["Parameters"]["PlatformMlflowTrackingServer"]

    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == SETTINGS.mlflow_tracking_server_parameter
    assert check_product(product.name, template, SETTINGS) == []
    lifecycle = template["Resources"]["ProjectLifecycle"]["Properties"]
    assert "PlatformMlflowTrackingServer" not in lifecycle
    assert evaluate(template["Conditions"][CONDITION], template, SELF_HOSTED) is True
