"""Resources moto's CloudFormation skips, made in its backends: EventInvokeConfig, function
URLs, CodeBuild, Secrets Manager secrets; and managed policies moto makes but cannot delete."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.cloudformation import parsing

from sandbox.cloudformation_models import ResourceModels
from sandbox.emulator import Emulator
from sandbox.service_catalog_provisioning import ServiceCatalogProvisioning
from tests.sandbox.conftest import function_code, lambda_role
from tests.support.network import loopback_only


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with loopback_only(), Emulator() as running:
        ResourceModels(running)
        yield running


def template(role: str, retries: int) -> dict[str, Any]:
    return {
        "Resources": {
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "lifecycle",
                    "Runtime": "python3.13",
                    "Handler": "app.echo",
                    "Role": role,
                    "Code": {"S3Bucket": "code", "S3Key": "app.zip"},
                },
            },
            "NoRetries": {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {
                    "FunctionName": {"Ref": "Function"},
                    "Qualifier": "$LATEST",
                    "MaximumRetryAttempts": retries,
                    "MaximumEventAgeInSeconds": 60,
                },
            },
            "TrainingProject": {
                "Type": "AWS::CodeBuild::Project",
                "Properties": {
                    "Name": "churn-training",
                    "ServiceRole": role,
                    "Source": {
                        "Type": "CODECOMMIT",
                        "Location": "https://127.0.0.1:1/v1/repos/sagemaker-churn",
                    },
                    "Artifacts": {"Type": "NO_ARTIFACTS"},
                    "Environment": {
                        "Type": "LINUX_CONTAINER",
                        "ComputeType": "BUILD_GENERAL1_SMALL",
                        "Image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
                        "EnvironmentVariables": [
                            {"Name": "BUILD_TIMEOUT_MINUTES", "Type": "PLAINTEXT", "Value": "120"}
                        ],
                    },
                    "LogsConfig": {"CloudWatchLogs": {"Status": "ENABLED"}},
                    "TimeoutInMinutes": 120,
                    "Tags": [{"Key": "sagemaker:project-name", "Value": "churn"}],
                },
            },
        },
        "Outputs": {"Project": {"Value": {"Fn::GetAtt": ["TrainingProject", "Arn"]}}},
    }


def test_a_stack_makes_the_event_invoke_config_and_the_codebuild_project(
    emulator: Emulator,
) -> None:
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="app.zip", Body=function_code("app.py"))
    cloudformation = emulator.client("cloudformation")
    body = template(lambda_role(emulator), retries=0)

    cloudformation.create_stack(StackName="platform", TemplateBody=json.dumps(body))

    config = emulator.client("lambda").get_function_event_invoke_config(FunctionName="lifecycle")
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (0, 60)
    (project,) = emulator.client("codebuild").batch_get_projects(names=["churn-training"])[
        "projects"
    ]
    assert project["source"] == {
        "type": "CODECOMMIT",
        "location": "https://127.0.0.1:1/v1/repos/sagemaker-churn",
    }
    assert project["environment"]["environmentVariables"] == [
        {"name": "BUILD_TIMEOUT_MINUTES", "type": "PLAINTEXT", "value": "120"}
    ]
    assert project["timeoutInMinutes"] == 120
    (stack,) = cloudformation.describe_stacks(StackName="platform")["Stacks"]
    assert stack["Outputs"][0]["OutputValue"] == project["arn"]

    cloudformation.delete_stack(StackName="platform")

    assert (
        emulator.client("codebuild").batch_get_projects(names=["churn-training"])["projects"] == []
    )


def test_a_stack_makes_the_function_url_its_output_names(emulator: Emulator) -> None:
    """The platform's MLflow webhook receiver: an AWS::Lambda::Url whose FunctionUrl is an
    output, as publish reads it."""
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="app.zip", Body=function_code("app.py"))
    body = template(lambda_role(emulator), retries=0)
    body["Resources"]["WebhookUrl"] = {
        "Type": "AWS::Lambda::Url",
        "Properties": {
            "TargetFunctionArn": {"Fn::GetAtt": ["Function", "Arn"]},
            "AuthType": "NONE",
        },
    }
    body["Outputs"] = {"Url": {"Value": {"Fn::GetAtt": ["WebhookUrl", "FunctionUrl"]}}}
    cloudformation = emulator.client("cloudformation")

    cloudformation.create_stack(StackName="platform", TemplateBody=json.dumps(body))

    config = emulator.client("lambda").get_function_url_config(FunctionName="lifecycle")
    assert config["AuthType"] == "NONE"
    (stack,) = cloudformation.describe_stacks(StackName="platform")["Stacks"]
    assert stack["Outputs"][0]["OutputValue"] == config["FunctionUrl"]

    cloudformation.delete_stack(StackName="platform")

    assert emulator.client("lambda").list_functions()["Functions"] == []


def test_a_stack_makes_the_generated_secret_its_output_names(emulator: Emulator) -> None:
    """The platform's MLflow webhook secret: generated as GenerateSecretString asks, Ref the
    ARN (an output), gone with the stack."""
    body = {
        "Resources": {
            "WebhookSecret": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Description": "signs webhooks",
                    "GenerateSecretString": {"PasswordLength": 48, "ExcludePunctuation": True},
                },
            },
            "Credentials": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Name": "platform/mlflow-user",
                    "GenerateSecretString": {
                        "SecretStringTemplate": '{"username": "platform"}',
                        "GenerateStringKey": "password",
                    },
                },
            },
        },
        "Outputs": {"Arn": {"Value": {"Ref": "WebhookSecret"}}},
    }
    cloudformation = emulator.client("cloudformation")
    secrets = emulator.client("secretsmanager")

    cloudformation.create_stack(StackName="platform", TemplateBody=json.dumps(body))

    (stack,) = cloudformation.describe_stacks(StackName="platform")["Stacks"]
    arn = stack["Outputs"][0]["OutputValue"]
    value = secrets.get_secret_value(SecretId=arn)["SecretString"]
    assert len(value) == 48 and value.isalnum()
    assert secrets.describe_secret(SecretId=arn)["Description"] == "signs webhooks"
    user = json.loads(secrets.get_secret_value(SecretId="platform/mlflow-user")["SecretString"])
    assert user["username"] == "platform" and len(user["password"]) == 32

    cloudformation.delete_stack(StackName="platform")

    assert secrets.list_secrets()["SecretList"] == []


def test_a_stack_with_a_managed_policy_on_its_roles_deletes_them_all(emulator: Emulator) -> None:
    """The platform's MLflow read policy on its functions' roles: CloudFormation detaches and
    deletes the policy, so the roles can go too (taskcat's delete of the platform stack)."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    read = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sagemaker:DescribeMlflowApp", "Resource": "*"}
        ],
    }
    body = {
        "Resources": {
            "WebhookRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {"AssumeRolePolicyDocument": trust},
            },
            "ReconcileRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {"AssumeRolePolicyDocument": trust},
            },
            "MlflowRead": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "PolicyDocument": read,
                    "Roles": [{"Ref": "WebhookRole"}, {"Ref": "ReconcileRole"}],
                },
            },
        },
        "Outputs": {"Policy": {"Value": {"Ref": "MlflowRead"}}},
    }
    cloudformation = emulator.client("cloudformation")
    iam = emulator.client("iam")
    cloudformation.create_stack(StackName="platform", TemplateBody=json.dumps(body))
    (stack,) = cloudformation.describe_stacks(StackName="platform")["Stacks"]
    policy = stack["Outputs"][0]["OutputValue"]
    (role,) = [r["RoleName"] for r in iam.list_roles()["Roles"] if "WebhookRole" in r["RoleName"]]
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policy]

    cloudformation.delete_stack(StackName="platform")

    assert iam.list_roles()["Roles"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_the_models_leave_with_the_emulator() -> None:
    saved = parsing.get_model_map
    with Emulator() as running:
        ResourceModels(running)
        assert "AWS::CodeBuild::Project" in parsing.get_model_map()
    assert parsing.get_model_map is saved
    assert "AWS::CodeBuild::Project" not in parsing.get_model_map()


def test_the_service_catalog_resources_leave_with_the_emulator() -> None:
    """Service Catalog's resource types are added through the same map, not as moto model
    subclasses that every later stack of the process would see."""
    saved = parsing.get_model_map
    kinds = ("AWS::ServiceCatalog::Portfolio", "AWS::ServiceCatalog::PortfolioPrincipalAssociation")
    with Emulator() as running:
        ServiceCatalogProvisioning().register(running)
        assert all(kind in parsing.get_model_map() for kind in kinds)
    assert parsing.get_model_map is saved
    assert not any(kind in parsing.get_model_map() for kind in kinds)
