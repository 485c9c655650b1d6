"""Which projects' builds get the platform's self-hosted MLflow server, read from the
lifecycle function's environment as the platform stack writes it."""

from __future__ import annotations

from lambda_project_lifecycle.lifecycle import Settings

ENVIRONMENT = {
    "PROJECT_REGISTRY_TABLE": "registry",
    "MLFLOW_TRACKING_URI": "https://mlflow.platform.example",
    "MLFLOW_CREDENTIALS_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:p-mlflow-x-AbCdEf",
    "MLFLOW_VPC_ID": "vpc-1",
    "MLFLOW_SUBNET_IDS": "subnet-1,subnet-2",
    "MLFLOW_CLIENT_SECURITY_GROUP_ID": "sg-1",
}


def test_the_lifecycle_reads_the_servers_network_from_its_environment() -> None:
    server = Settings.from_environment(ENVIRONMENT).platform_mlflow

    assert server.build_attributes("https://mlflow.platform.example/") == {
        "MlflowTrackingUri": "https://mlflow.platform.example/",
        "MlflowBuildCredentialsArn": ENVIRONMENT["MLFLOW_CREDENTIALS_SECRET_ARN"],
        "MlflowBuildVpcId": "vpc-1",
        "MlflowBuildSubnetIds": "subnet-1,subnet-2",
        "MlflowBuildSecurityGroupId": "sg-1",
    }
    assert not server.serves("https://mlflow.platform.example.attacker.example")


def test_an_external_server_is_never_the_platforms_own() -> None:
    """external and managed: the platform stack leaves the secret and the network empty."""
    environment = {
        **ENVIRONMENT,
        "MLFLOW_CREDENTIALS_SECRET_ARN": "",
        "MLFLOW_VPC_ID": "",
        "MLFLOW_SUBNET_IDS": "",
        "MLFLOW_CLIENT_SECURITY_GROUP_ID": "",
    }
    server = Settings.from_environment(environment).platform_mlflow

    assert not server.serves("https://mlflow.platform.example")
    attributes = server.build_attributes("https://mlflow.platform.example")
    assert attributes.pop("MlflowTrackingUri") == "https://mlflow.platform.example"
    assert set(attributes.values()) == {""}
