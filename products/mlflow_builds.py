"""The MLflow products' builds on the platform's self-hosted tracking server.

That server is behind a private load balancer with MLflow's own authentication on. When the
platform runs it (its ``MlflowTrackingServer`` option, which the platform writes to an SSM
parameter the template reads as a parameter) and the project names no server of its own,
the training build

* runs in the server's VPC: its private subnets, in the security group the load balancer
  admits (CodeBuild ``VpcConfig``);
* logs in as the platform's MLflow user: ``MLFLOW_TRACKING_USERNAME`` and
  ``MLFLOW_TRACKING_PASSWORD``, which CodeBuild reads from the platform's secret (variables
  of type ``SECRETS_MANAGER``), the one secret the training role may read for it.

The values are attributes of the lifecycle resource (``mlflow_build_access`` in the Lambda
package); every MLflow build is given its tracking server's URI (``MLFLOW_TRACKING_URI``).
On an external or managed server none of this is made.
"""

from __future__ import annotations

from typing import Any

from awacs import secretsmanager as secretsmanager_actions
from awacs.aws import Allow, Statement
from troposphere import And, Equals, GetAtt, If, Ref, Split, Sub, Template, codebuild

from lambda_project_lifecycle.resource_properties import (
    MLFLOW_BUILD_CREDENTIALS_ATTRIBUTE,
    MLFLOW_BUILD_SECURITY_GROUP_ATTRIBUTE,
    MLFLOW_BUILD_SUBNETS_ATTRIBUTE,
    MLFLOW_BUILD_VPC_ATTRIBUTE,
    MLFLOW_SELF_HOSTED_OPTION,
    MLFLOW_TRACKING_URI_ATTRIBUTE,
    MLFLOW_TRACKING_URI_PROPERTY,
)
from template_common.arns import regional_arn
from template_common.build_network import build_network_statements

PLATFORM_MLFLOW_PARAMETER = "PlatformMlflowTrackingServer"
ON_PLATFORM_SERVER = "BuildsOnThePlatformsMlflowServer"
# The variables MLflow's client reads (basic-auth), from the secret's JSON keys.
CREDENTIAL_VARIABLES = (
    ("MLFLOW_TRACKING_USERNAME", "username"),
    ("MLFLOW_TRACKING_PASSWORD", "password"),
)
TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"
# The seed's pipelines/definition.py reads these (MlflowAccess).
PIPELINE_VARIABLES = (
    ("MLFLOW_CREDENTIALS_SECRET_ARN", MLFLOW_BUILD_CREDENTIALS_ATTRIBUTE),
    ("MLFLOW_SUBNET_IDS", MLFLOW_BUILD_SUBNETS_ATTRIBUTE),
    ("MLFLOW_SECURITY_GROUP_ID", MLFLOW_BUILD_SECURITY_GROUP_ATTRIBUTE),
)


def add_condition(template: Template, parameters: dict[str, Ref]) -> None:
    template.add_condition(
        ON_PLATFORM_SERVER,
        And(
            Equals(parameters[PLATFORM_MLFLOW_PARAMETER], MLFLOW_SELF_HOSTED_OPTION),
            Equals(parameters[MLFLOW_TRACKING_URI_PROPERTY], ""),
        ),
    )


def environment_variables(variables: list[Any], lifecycle: Any) -> If:
    """``variables`` and the build's tracking server; on the platform's own, also the
    credentials of its user. Two whole lists: an ``Fn::If`` in a list of variables is one
    CloudFormation takes, but the emulator turns an ``AWS::NoValue`` in a list into null."""
    plain = [
        *variables,
        codebuild.EnvironmentVariable(
            Name=TRACKING_URI_VARIABLE,
            Type="PLAINTEXT",
            Value=GetAtt(lifecycle, MLFLOW_TRACKING_URI_ATTRIBUTE),
        ),
    ]
    credentials = GetAtt(lifecycle, MLFLOW_BUILD_CREDENTIALS_ATTRIBUTE)
    logged_in = [
        *plain,
        *(
            codebuild.EnvironmentVariable(
                Name=name,
                Type="SECRETS_MANAGER",
                Value=Sub(f"${{Secret}}:{key}", Secret=credentials),
            )
            for name, key in CREDENTIAL_VARIABLES
        ),
        # For the pipeline's register job, which the build defines: the same network, and
        # the secret's name (the job reads it itself; its definition holds no password).
        *(
            codebuild.EnvironmentVariable(
                Name=name, Type="PLAINTEXT", Value=GetAtt(lifecycle, attribute)
            )
            for name, attribute in PIPELINE_VARIABLES
        ),
    ]
    return If(ON_PLATFORM_SERVER, logged_in, plain)


def vpc_config(lifecycle: Any) -> If:
    return If(
        ON_PLATFORM_SERVER,
        codebuild.VpcConfig(
            VpcId=GetAtt(lifecycle, MLFLOW_BUILD_VPC_ATTRIBUTE),
            Subnets=Split(",", GetAtt(lifecycle, MLFLOW_BUILD_SUBNETS_ATTRIBUTE)),
            SecurityGroupIds=[GetAtt(lifecycle, MLFLOW_BUILD_SECURITY_GROUP_ATTRIBUTE)],
        ),
        Ref("AWS::NoValue"),
    )


def role_statements(lifecycle: Any) -> list[If]:
    """The platform user's secret (that one only) and the build's network interfaces, in the
    server's VPC only, made by CodeBuild only."""
    vpc = regional_arn("ec2", "vpc/${Vpc}", Vpc=GetAtt(lifecycle, MLFLOW_BUILD_VPC_ATTRIBUTE))
    statements = [
        Statement(
            Sid="PlatformMlflowUser",
            Effect=Allow,
            Action=[secretsmanager_actions.GetSecretValue],
            Resource=[GetAtt(lifecycle, MLFLOW_BUILD_CREDENTIALS_ATTRIBUTE)],
        ),
        *build_network_statements(vpc),
    ]
    return [If(ON_PLATFORM_SERVER, statement, Ref("AWS::NoValue")) for statement in statements]
