"""The MlflowTrackingServer platform option, as the platform template says it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from lambda_project_lifecycle.environment import (
    MLFLOW_CLIENT_SECURITY_GROUP_ENV,
    MLFLOW_CREDENTIALS_SECRET_ENV,
    MLFLOW_SUBNETS_ENV,
    MLFLOW_TRACKING_URI_ENV,
    MLFLOW_VPC_ENV,
)
from portfolio import platform
from portfolio.mlflow_self_hosted import DATABASE_MIN_ACU, SELF_HOSTED
from portfolio.mlflow_server_command import server_command
from portfolio.mlflow_tracking import MANAGED_CONDITION, TRACKING_SERVER_PARAMETER
from template_common.settings import TemplateSettings

BODY: dict[str, Any] = json.loads(json.dumps(platform.build(TemplateSettings()).to_dict()))
RESOURCES = {k: v for k, v in BODY["Resources"].items() if isinstance(v, dict)}
MLFLOW_FUNCTIONS = [
    name
    for name, r in RESOURCES.items()
    if r["Type"] == "AWS::Lambda::Function"
    and MLFLOW_TRACKING_URI_ENV in r["Properties"]["Environment"]["Variables"]
]


def _of(condition: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in RESOURCES.items() if v.get("Condition") == condition}


def test_external_is_the_default_and_makes_nothing() -> None:
    parameter = BODY["Parameters"][TRACKING_SERVER_PARAMETER]
    assert parameter["Default"] == "external"
    assert parameter["AllowedValues"] == ["external", "managed", "self-hosted"]
    assert BODY["Conditions"][MANAGED_CONDITION] == {
        "Fn::Equals": [{"Ref": TRACKING_SERVER_PARAMETER}, "managed"]
    }
    # Every resource of the two other options is conditional on its option (the webhook
    # receiver's signing secret is every option's: any self-hosted server may sign with it).
    made = {
        r["Type"]
        for logical_id, r in RESOURCES.items()
        if "Condition" not in r and logical_id != "MlflowWebhookSecret"
    }
    assert not made & {
        "AWS::SageMaker::MlflowApp",
        "AWS::ECS::Service",
        "AWS::RDS::DBCluster",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::SecretsManager::Secret",
    }


@pytest.mark.parametrize("variable", [MLFLOW_TRACKING_URI_ENV, MLFLOW_CREDENTIALS_SECRET_ENV])
def test_every_mlflow_function_is_told_the_server_of_the_chosen_option(variable: str) -> None:
    assert "LifecycleFunction" in MLFLOW_FUNCTIONS
    values = {
        json.dumps(RESOURCES[f]["Properties"]["Environment"]["Variables"][variable])
        for f in MLFLOW_FUNCTIONS
    }
    assert len(values) == 1
    uri = RESOURCES["LifecycleFunction"]["Properties"]["Environment"]["Variables"]
    assert uri[MLFLOW_TRACKING_URI_ENV] == {
        "Fn::If": [
            MANAGED_CONDITION,
            {"Fn::GetAtt": ["MlflowApp", "Arn"]},
            {
                "Fn::If": [
                    SELF_HOSTED,
                    {"Fn::Sub": ["https://${Host}", {"Host": {"Ref": "MlflowServerHostName"}}]},
                    {"Ref": "MlflowTrackingUri"},
                ]
            },
        ]
    }
    assert uri[MLFLOW_CREDENTIALS_SECRET_ENV] == {
        "Fn::If": [SELF_HOSTED, {"Ref": "MlflowPlatformCredentials"}, ""]
    }


def test_the_managed_app_keeps_artifacts_in_the_data_bucket_with_a_role_of_that_prefix() -> None:
    app = RESOURCES["MlflowApp"]["Properties"]
    assert app["ArtifactStoreUri"] == {
        "Fn::Sub": ["s3://${Bucket}/mlflow", {"Bucket": {"Ref": "ProjectDataBucket"}}]
    }
    role = RESOURCES["MlflowAppRole"]["Properties"]
    resources = [s["Resource"] for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert "*" not in json.dumps(resources).replace("mlflow/*", "")
    access = RESOURCES["MlflowManagedAppAccess"]
    assert access["Condition"] == MANAGED_CONDITION
    assert {r["Ref"] for r in access["Properties"]["Roles"]} == {
        RESOURCES[f]["Properties"]["Role"]["Fn::GetAtt"][0] for f in MLFLOW_FUNCTIONS
    }


def test_every_option_lets_the_mlflow_functions_read_this_accounts_sagemaker_mlflow_only() -> None:
    """A project may name a SageMaker MLflow server or app by ARN whatever the option: the
    sync describes it and reads two things from it, in this account and region only."""
    read = RESOURCES["MlflowSageMakerServersRead"]
    assert "Condition" not in read
    assert {r["Ref"] for r in read["Properties"]["Roles"]} == {
        RESOURCES[f]["Properties"]["Role"]["Fn::GetAtt"][0] for f in MLFLOW_FUNCTIONS
    }
    granted = {
        action: statement["Resource"]
        for statement in read["Properties"]["PolicyDocument"]["Statement"]
        for action in statement["Action"]
    }
    here = "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}"
    servers, apps = (
        {"Fn::Sub": f"{here}:{kind}/*"} for kind in ("mlflow-tracking-server", "mlflow-app")
    )
    assert granted == {
        "sagemaker:DescribeMlflowTrackingServer": [servers, apps],
        "sagemaker:DescribeMlflowApp": [servers, apps],
        "sagemaker-mlflow:GetRegisteredModel": [servers, apps],
        "sagemaker-mlflow:GetModelVersion": [servers, apps],
        "sagemaker:CallMlflowAppApi": [apps],
    }


def test_the_self_hosted_task_runs_the_one_start_command_with_secrets_from_secrets_manager() -> (
    None
):
    (container,) = RESOURCES["MlflowServerTask"]["Properties"]["ContainerDefinitions"]
    assert container["Command"] == server_command()
    assert "--app-name basic-auth" in container["Command"][-1]
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert {"MLFLOW_AUTH_ADMIN_PASSWORD", "PLATFORM_PASSWORD", "DB_PASSWORD"} <= set(secrets)
    # No password anywhere in the template: generated by Secrets Manager, resolved at deploy.
    text = json.dumps(BODY)
    assert '"MasterUserPassword": {"Fn::Sub": ["{{resolve:secretsmanager:${Secret}' in text
    for name in ("MlflowAdminCredentials", "MlflowPlatformCredentials"):
        generated = RESOURCES[name]["Properties"]["GenerateSecretString"]
        assert generated["GenerateStringKey"] == "password"


def test_the_self_hosted_server_is_private_and_its_database_pauses_when_idle() -> None:
    balancer = RESOURCES["MlflowLoadBalancer"]["Properties"]
    assert balancer["Scheme"] == "internal"
    (listener,) = [r for r in RESOURCES.values() if r["Type"].endswith("::Listener")]
    assert listener["Properties"]["Protocol"] == "HTTPS"
    service = RESOURCES["MlflowServer"]["Properties"]
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"
    scaling = RESOURCES["MlflowDatabase"]["Properties"]["ServerlessV2ScalingConfiguration"]
    assert scaling["MinCapacity"] == DATABASE_MIN_ACU == 0
    assert RESOURCES["MlflowDatabase"]["Properties"]["StorageEncrypted"] is True
    # Only the load balancer reaches the server, only the server reaches the database.
    ingress = {
        r["Properties"]["GroupId"]["Ref"]: r["Properties"]["SourceSecurityGroupId"]["Ref"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
    }
    assert ingress == {
        "MlflowLoadBalancerSecurityGroup": "MlflowClientsSecurityGroup",
        "MlflowServerSecurityGroup": "MlflowLoadBalancerSecurityGroup",
        "MlflowDatabaseSecurityGroup": "MlflowServerSecurityGroup",
    }


def test_the_mlflow_functions_join_the_vpc_only_when_self_hosted() -> None:
    for name in MLFLOW_FUNCTIONS:
        vpc = RESOURCES[name]["Properties"]["VpcConfig"]["Fn::If"]
        assert vpc[0] == SELF_HOSTED
        assert vpc[2] == {"Ref": "AWS::NoValue"}
        assert vpc[1]["SecurityGroupIds"] == [{"Ref": "MlflowClientsSecurityGroup"}]


@pytest.mark.parametrize(
    "parameter",
    [
        "MlflowVpcId",
        "MlflowSubnetIds",
        "MlflowServerImage",
        "MlflowCertificateArn",
        "MlflowServerHostName",
    ],
)
def test_self_hosted_without_its_network_is_refused_naming_the_parameter(parameter: str) -> None:
    rule = BODY["Rules"]["MlflowSelfHostedNeedsItsNetwork"]
    assert rule["RuleCondition"] == {
        "Fn::Equals": [{"Ref": TRACKING_SERVER_PARAMETER}, "self-hosted"]
    }
    described = [a["AssertDescription"] for a in rule["Assertions"]]
    assert f"{TRACKING_SERVER_PARAMETER}=self-hosted needs {parameter}" in described
    assert re.search(parameter, json.dumps(rule["Assertions"]))


def test_the_lifecycle_function_hands_the_builds_the_self_hosted_servers_network() -> None:
    """Only when self-hosted: the VPC, its subnets and the clients' group the load balancer
    admits (the attributes of every MLflow project's lifecycle resource)."""
    variables = RESOURCES["LifecycleFunction"]["Properties"]["Environment"]["Variables"]
    assert variables[MLFLOW_VPC_ENV] == {"Fn::If": [SELF_HOSTED, {"Ref": "MlflowVpcId"}, ""]}
    assert variables[MLFLOW_SUBNETS_ENV] == {
        "Fn::If": [SELF_HOSTED, {"Fn::Join": [",", {"Ref": "MlflowSubnetIds"}]}, ""]
    }
    assert variables[MLFLOW_CLIENT_SECURITY_GROUP_ENV] == {
        "Fn::If": [SELF_HOSTED, {"Ref": "MlflowClientsSecurityGroup"}, ""]
    }


def test_the_option_is_published_for_the_product_templates_conditions() -> None:
    parameter = RESOURCES["MlflowTrackingServerParameter"]["Properties"]
    assert parameter["Name"] == TemplateSettings().mlflow_tracking_server_parameter
    assert parameter["Type"] == "String"
    assert parameter["Value"] == {"Ref": TRACKING_SERVER_PARAMETER}


def test_the_platform_users_secret_has_the_name_the_project_roles_boundary_allows() -> None:
    """The builds read it as their training role, which carries the projects' boundary: that
    lets them read this secret by name, never the administrator's."""
    name = RESOURCES["MlflowPlatformCredentials"]["Properties"]["Name"]
    assert name == {"Fn::Sub": "${AWS::StackName}-mlflow-platform-user"}
    assert "Name" not in RESOURCES["MlflowAdminCredentials"]["Properties"]
    boundary = RESOURCES["ProjectRoleBoundary"]["Properties"]["PolicyDocument"]["Statement"]
    (statement,) = [s for s in boundary if s["Sid"] == "SelfHostedMlflowPlatformUser"]
    assert statement["Action"] == ["secretsmanager:GetSecretValue"]
    assert statement["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"
            "secret:${AWS::StackName}-mlflow-platform-user-??????"
        }
    ]


def test_the_self_hosted_server_registers_its_webhook_to_the_sync_with_the_signing_secret() -> None:
    """Its start command (as MLflow's administrator) registers the webhook: the task is given
    the MLflow sync's function URL and, from Secrets Manager, the secret the receiver checks."""
    (container,) = RESOURCES["MlflowServerTask"]["Properties"]["ContainerDefinitions"]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment["PLATFORM_WEBHOOK_URL"] == {
        "Fn::GetAtt": ["MlflowWebhookUrl", "FunctionUrl"]
    }
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert secrets["PLATFORM_WEBHOOK_SECRET"] == {"Ref": "MlflowWebhookSecret"}
    receiver = RESOURCES["MlflowWebhookFunction"]["Properties"]["Environment"]["Variables"]
    assert receiver["MLFLOW_WEBHOOK_SECRET_ARN"] == {"Ref": "MlflowWebhookSecret"}
    role = RESOURCES["MlflowServerExecutionRole"]["Properties"]["Policies"][0]
    (reads,) = [s for s in role["PolicyDocument"]["Statement"] if s["Sid"] == "ItsSecrets"]
    assert {"Ref": "MlflowWebhookSecret"} in reads["Resource"]
