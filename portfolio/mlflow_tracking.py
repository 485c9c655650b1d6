"""The MLflow products' tracking server, a platform option (``MlflowTrackingServer``).

- ``external`` (default): the team's server, given as ``MlflowTrackingUri`` (an https://
  URL or a SageMaker MLflow ARN); nothing is made.
- ``managed``: a SageMaker serverless MLflow App (``AWS::SageMaker::MlflowApp``; no
  instance to size or pay while idle), its artifacts under the project data bucket's
  ``mlflow/`` prefix, with a role that reaches that prefix only.
- ``self-hosted``: MLflow on Fargate (``portfolio.mlflow_self_hosted``).

One template with conditions, not a nested stack: the platform stack is published as
it is today (no second template to upload, version and pass by URL), and an option
switched off costs nothing but lines. The functions that talk to MLflow (those given
``MLFLOW_TRACKING_URI``) get the server's URI, the secret of the platform's credentials
(self-hosted) and, for a self-hosted server in the team's VPC, a place in it. Whatever
the option, a project may name a SageMaker MLflow server or app of its own (its
``MlflowTrackingUri``), which the sync resolves and reads with the functions' role: that
role may describe and read the registered models of the account's SageMaker MLflow
servers and apps in the stack's region, and nothing more of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awacs import ec2 as ec2_actions
from awacs import sagemaker as sagemaker_actions
from awacs import sagemaker_mlflow as sagemaker_mlflow_actions
from awacs import secretsmanager as secrets_actions
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import (
    And,
    Equals,
    GetAtt,
    If,
    Join,
    Not,
    Output,
    Parameter,
    Ref,
    Split,
    Sub,
    Template,
    iam,
    sagemaker,
)
from troposphere import awslambda as lambda_

from lambda_project_lifecycle.environment import (
    MLFLOW_CLIENT_SECURITY_GROUP_ENV,
    MLFLOW_CREDENTIALS_SECRET_ENV,
    MLFLOW_SUBNETS_ENV,
    MLFLOW_TRACKING_URI_ENV,
    MLFLOW_VPC_ENV,
)
from lambda_project_lifecycle.resource_properties import (
    MLFLOW_SELF_HOSTED_OPTION,
    MLFLOW_TRACKING_URI_PROPERTY,
)
from portfolio.mlflow_self_hosted import (
    ARTIFACTS_PREFIX,
    SELF_HOSTED,
    NetworkParameters,
    SelfHostedServer,
    add_self_hosted_server,
    allow_empty_network,
    artifact_statements,
)
from template_common.arns import sagemaker_arn
from template_common.checkov_skips import MLFLOW_FUNCTIONS_IN_VPC, skip_metadata
from template_common.trust import trust_policy

TRACKING_SERVER_PARAMETER = "MlflowTrackingServer"
EXTERNAL, MANAGED, SELF_HOSTED_OPTION = "external", "managed", MLFLOW_SELF_HOSTED_OPTION
MANAGED_CONDITION = "MlflowManaged"


@dataclass(frozen=True)
class TrackingServer:
    """What the platform's functions are given (the URI, the credentials' secret) and
    what they are connected to."""

    option: Parameter
    uri: Any
    credentials_secret: Any
    app: sagemaker.MlflowApp
    self_hosted: SelfHostedServer
    network: NetworkParameters


def add_tracking_server(template: Template, data_bucket: Any) -> TrackingServer:
    option = template.add_parameter(
        Parameter(
            TRACKING_SERVER_PARAMETER,
            Type="String",
            Default=EXTERNAL,
            AllowedValues=[EXTERNAL, MANAGED, SELF_HOSTED_OPTION],
            Description="The MLflow products' tracking server: external (the team's, "
            f"{MLFLOW_TRACKING_URI_PROPERTY}), managed (a SageMaker serverless MLflow App the "
            "platform makes) or self-hosted (MLflow on Fargate in the Mlflow* network).",
        )
    )
    external_uri = template.add_parameter(
        Parameter(
            MLFLOW_TRACKING_URI_PROPERTY,
            Type="String",
            Default="",
            Description="external: the MLflow tracking server (https:// URL or SageMaker MLflow "
            "ARN) of projects of the MLflow products that name none themselves.",
        )
    )
    network = _add_network_parameters(template)
    template.add_condition(MANAGED_CONDITION, Equals(Ref(option), MANAGED))
    template.add_condition(SELF_HOSTED, Equals(Ref(option), SELF_HOSTED_OPTION))
    _add_rules(template, option, network)

    app = _add_managed_app(template, data_bucket)
    server = add_self_hosted_server(template, network, data_bucket)
    uri = If(
        MANAGED_CONDITION,
        GetAtt(app, "Arn"),
        If(SELF_HOSTED, server.tracking_uri, Ref(external_uri)),
    )
    template.add_output(
        Output(
            "MlflowTrackingServerUri",
            Description="The MLflow products' tracking server (empty: each project names one).",
            Value=uri,
        )
    )
    template.add_output(
        Output(
            "MlflowLoadBalancerDnsName",
            Condition=SELF_HOSTED,
            Description="Point the Mlflow host name (its certificate's) at this name.",
            Value=GetAtt(server.load_balancer, "DNSName"),
        )
    )
    template.add_output(
        Output(
            "MlflowPlatformCredentialsArn",
            Condition=SELF_HOSTED,
            Description="Secret of the platform's MLflow user (username, password).",
            Value=Ref(server.platform_credentials),
        )
    )
    secret = If(SELF_HOSTED, Ref(server.platform_credentials), "")
    return TrackingServer(option, uri, secret, app, server, network)


def connect_functions(template: Template, server: TrackingServer) -> None:
    """Give every function that has ``MLFLOW_TRACKING_URI`` the access its server needs:
    the managed app's API (IAM), or the self-hosted server's credentials and VPC."""
    functions = [
        resource
        for resource in template.resources.values()
        if isinstance(resource, lambda_.Function)
        and MLFLOW_TRACKING_URI_ENV in resource.Environment.Variables
    ]
    roles = [function.Role.data["Fn::GetAtt"][0] for function in functions]
    template.add_resource(
        iam.ManagedPolicy(
            "MlflowSageMakerServersRead",
            Description="mlops-portfolio: the MLflow sync finds and reads the registered "
            "models of the SageMaker MLflow servers and apps that projects name.",
            Roles=[Ref(role) for role in roles],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17", Statement=_sagemaker_mlflow_read_statements()
            ),
        )
    )
    template.add_resource(
        iam.ManagedPolicy(
            "MlflowManagedAppAccess",
            Condition=MANAGED_CONDITION,
            Description="mlops-portfolio: the platform's functions call the MLflow App's API.",
            Roles=[Ref(role) for role in roles],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="TheMlflowApp",
                        Effect=Allow,
                        Action=[
                            sagemaker_actions.CallMlflowAppApi,
                            sagemaker_mlflow_actions.Action("*"),
                        ],
                        Resource=[GetAtt(server.app, "Arn")],
                    )
                ],
            ),
        )
    )
    template.add_resource(
        iam.ManagedPolicy(
            "MlflowSelfHostedAccess",
            Condition=SELF_HOSTED,
            Description="mlops-portfolio: the platform's functions reach the self-hosted MLflow "
            "server from the team's VPC, with the platform user's credentials.",
            Roles=[Ref(role) for role in roles],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="PlatformCredentials",
                        Effect=Allow,
                        Action=[secrets_actions.GetSecretValue],
                        Resource=[Ref(server.self_hosted.platform_credentials)],
                    ),
                    Statement(
                        # What Lambda does for a function in a VPC; EC2 scopes none of these.
                        Sid="NetworkInterfacesOfFunctionsInTheVpc",
                        Effect=Allow,
                        Action=[
                            ec2_actions.CreateNetworkInterface,
                            ec2_actions.DescribeNetworkInterfaces,
                            ec2_actions.DeleteNetworkInterface,
                            ec2_actions.AssignPrivateIpAddresses,
                            ec2_actions.UnassignPrivateIpAddresses,
                        ],
                        Resource=["*"],
                    ),
                ],
            ),
            Metadata=skip_metadata(MLFLOW_FUNCTIONS_IN_VPC),
        )
    )
    for function in functions:
        allow_empty_network(function)
        function.VpcConfig = If(
            SELF_HOSTED,
            lambda_.VPCConfig(
                SecurityGroupIds=[Ref(server.self_hosted.client_security_group)],
                # Split of a Join: the same list, which cfn-lint does not resolve to the
                # parameter's empty default (its W1030 would name the parameter, not this).
                SubnetIds=Split(",", Join(",", server.network.subnets)),
            ),
            Ref("AWS::NoValue"),
        )


def _sagemaker_mlflow_read_statements() -> list[Statement]:
    """What :mod:`lambda_project_lifecycle.deployments.mlflow_sagemaker` calls: the describe
    that says where a server is, and the two REST reads (registered-models/get,
    model-versions/get); an MLflow App's API also takes CallMlflowAppApi."""
    servers = sagemaker_arn("mlflow-tracking-server/*")
    apps = sagemaker_arn("mlflow-app/*")
    return [
        Statement(
            Sid="FindAndReadTheServers",
            Effect=Allow,
            Action=[
                sagemaker_actions.DescribeMlflowTrackingServer,
                sagemaker_actions.DescribeMlflowApp,
                sagemaker_mlflow_actions.GetRegisteredModel,
                sagemaker_mlflow_actions.GetModelVersion,
            ],
            Resource=[servers, apps],
        ),
        Statement(
            Sid="TheAppsApi",
            Effect=Allow,
            Action=[sagemaker_actions.CallMlflowAppApi],
            Resource=[apps],
        ),
    ]


def environment(server: TrackingServer) -> dict[str, Any]:
    return {
        MLFLOW_TRACKING_URI_ENV: server.uri,
        MLFLOW_CREDENTIALS_SECRET_ENV: server.credentials_secret,
    }


def build_environment(server: TrackingServer) -> dict[str, Any]:
    """What the lifecycle function hands a project's builds to reach a self-hosted server
    (``lambda_project_lifecycle.mlflow_build_access``): its network; empty otherwise."""
    network = server.network
    return {
        MLFLOW_VPC_ENV: If(SELF_HOSTED, network.vpc, ""),
        MLFLOW_SUBNETS_ENV: If(SELF_HOSTED, Join(",", network.subnets), ""),
        MLFLOW_CLIENT_SECURITY_GROUP_ENV: If(
            SELF_HOSTED, Ref(server.self_hosted.client_security_group), ""
        ),
    }


def _add_network_parameters(template: Template) -> NetworkParameters:
    def parameter(name: str, description: str, kind: str = "String") -> Parameter:
        return template.add_parameter(
            Parameter(name, Type=kind, Default="", Description=f"self-hosted: {description}")
        )

    return NetworkParameters(
        vpc=Ref(parameter("MlflowVpcId", "the VPC of the MLflow server.")),
        subnets=Ref(
            parameter(
                "MlflowSubnetIds",
                "two or more private subnets (in different AZs) with egress to the image "
                "registry, S3 and Secrets Manager; the platform's functions and the projects' "
                "builds join them too (builds: egress to PyPI, git and AWS APIs, by NAT).",
                "CommaDelimitedList",
            )
        ),
        image=Ref(
            parameter(
                "MlflowServerImage",
                "container image with mlflow[auth] (the version of pyproject.toml), "
                "psycopg2 and boto3.",
            )
        ),
        certificate=Ref(
            parameter("MlflowCertificateArn", "ACM certificate of MlflowServerHostName.")
        ),
        host_name=Ref(
            parameter(
                "MlflowServerHostName",
                "the server's host name (its certificate's), pointed at the load balancer.",
            )
        ),
    )


def _add_rules(template: Template, option: Parameter, network: NetworkParameters) -> None:
    """CloudFormation refuses the stack before it makes anything, naming the parameter."""
    needed = {
        "MlflowVpcId": network.vpc,
        "MlflowServerImage": network.image,
        "MlflowCertificateArn": network.certificate,
        "MlflowServerHostName": network.host_name,
    }
    template.add_rule(
        "MlflowSelfHostedNeedsItsNetwork",
        {
            "RuleCondition": Equals(Ref(option), SELF_HOSTED_OPTION),
            "Assertions": [
                {
                    "Assert": Not(Equals(value, "")),
                    "AssertDescription": f"{TRACKING_SERVER_PARAMETER}=self-hosted needs {name}",
                }
                for name, value in needed.items()
            ]
            + [
                {
                    "Assert": Not(Equals({"Fn::Join": ["", network.subnets]}, "")),
                    "AssertDescription": f"{TRACKING_SERVER_PARAMETER}=self-hosted needs "
                    "MlflowSubnetIds",
                }
            ],
        },
    )
    template.add_rule(
        "MlflowExternalNeedsNoNetwork",
        {
            "RuleCondition": Not(Equals(Ref(option), SELF_HOSTED_OPTION)),
            "Assertions": [
                {
                    "Assert": And(*(Equals(value, "") for value in needed.values())),
                    "AssertDescription": "the Mlflow* network parameters are for "
                    f"{TRACKING_SERVER_PARAMETER}=self-hosted only",
                }
            ],
        },
    )


def _add_managed_app(template: Template, data_bucket: Any) -> sagemaker.MlflowApp:
    role = template.add_resource(
        iam.Role(
            "MlflowAppRole",
            Condition=MANAGED_CONDITION,
            AssumeRolePolicyDocument=trust_policy("sagemaker.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="MlflowArtifacts",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17", Statement=artifact_statements(data_bucket)
                    ),
                )
            ],
        )
    )
    return template.add_resource(
        sagemaker.MlflowApp(
            "MlflowApp",
            Condition=MANAGED_CONDITION,
            Name=Sub("${AWS::StackName}-mlflow"),
            ArtifactStoreUri=Sub(f"s3://${{Bucket}}/{ARTIFACTS_PREFIX}", Bucket=Ref(data_bucket)),
            RoleArn=GetAtt(role, "Arn"),
            # The platform deploys from MLflow aliases; no SageMaker model groups mirror them.
            ModelRegistrationMode="AutoModelRegistrationDisabled",
        )
    )
