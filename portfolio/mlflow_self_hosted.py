"""The self-hosted MLflow tracking server: Fargate behind a private load balancer.

The architecture of the Fargate write-up, with MLflow's own authentication
(``mlflow server --app-name basic-auth``, see ``portfolio.mlflow_server_command``) in
place of its nginx proxy, Aurora PostgreSQL Serverless v2 that pauses at 0 ACUs when
idle, artifacts in the project data bucket, an internal HTTPS load balancer, and
credentials generated into Secrets Manager (no password in the template). Every
resource here carries the platform's ``MlflowSelfHosted`` condition.

The team gives the network (a VPC and private subnets with egress to the image
registry, S3 and Secrets Manager, through NAT or endpoints) and the certificate of the
host name it points at the load balancer; a VPC per platform would add a NAT gateway's
idle price.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from awacs import logs as logs_actions
from awacs import s3 as s3_actions
from awacs import secretsmanager as secrets_actions
from awacs.aws import Allow, Condition, PolicyDocument, Statement, StringLike
from troposphere import GetAtt, Ref, Sub, Template, ec2, ecs, iam, logs, rds, secretsmanager
from troposphere import elasticloadbalancingv2 as elb

from portfolio import mlflow_server_command as command
from portfolio.functions import LOG_RETENTION_DAYS
from portfolio.mlflow_sync import WEBHOOK_SECRET_ID, WEBHOOK_URL_ID
from template_common.arns import s3_arn
from template_common.checkov_skips import (
    LOGS_DEFAULT_ENCRYPTION,
    MLFLOW_CLUSTER_WITHOUT_INSIGHTS,
    MLFLOW_DATABASE_IAM_AUTH,
    MLFLOW_DATABASE_MONITORING,
    MLFLOW_LOAD_BALANCER_LOGS,
    MLFLOW_SECRET_DEFAULT_KEY,
    skip_metadata,
)
from template_common.trust import trust_policy

SELF_HOSTED = "MlflowSelfHosted"
ARTIFACTS_PREFIX = "mlflow"  # the data bucket's prefix for the server's artifacts
DATABASE_NAME = "mlflow"
DATABASE_PORT = 5432
HTTPS_PORT = 443
# Aurora PostgreSQL 16.3+ and 17.4+ scale Serverless v2 down to 0 ACUs (paused when idle).
DATABASE_ENGINE_VERSION = "17.7"
DATABASE_MIN_ACU = 0
DATABASE_MAX_ACU = 2.0
DATABASE_PAUSE_AFTER_SECONDS = 300
TASK_CPU = "512"  # 0.5 vCPU
TASK_MEMORY_MB = "1024"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ADMIN_USERNAME = "admin"
PLATFORM_USERNAME = "mlops-platform"
DATABASE_USERNAME = "mlflow"
# The platform user's secret has a name of its own, so that the boundary of the project
# roles can let the projects' builds read it (``project_role_boundary``) and no other.
PLATFORM_CREDENTIALS_NAME = "${AWS::StackName}-mlflow-platform-user"


@dataclass(frozen=True)
class NetworkParameters:
    vpc: Any
    subnets: Any
    image: Any
    certificate: Any
    host_name: Any


@dataclass(frozen=True)
class SelfHostedServer:
    tracking_uri: Sub
    platform_credentials: secretsmanager.Secret
    client_security_group: ec2.SecurityGroup
    load_balancer: elb.LoadBalancer


def add_self_hosted_server(
    template: Template, network: NetworkParameters, data_bucket: Any
) -> SelfHostedServer:
    admin = _add_credentials(template, "MlflowAdminCredentials", ADMIN_USERNAME, "administrator")
    platform = _add_credentials(
        template,
        "MlflowPlatformCredentials",
        PLATFORM_USERNAME,
        "platform's user (its functions and the projects' builds)",
        name=Sub(PLATFORM_CREDENTIALS_NAME),
    )
    database_credentials = _add_credentials(
        template, "MlflowDatabaseCredentials", DATABASE_USERNAME, "database master user"
    )
    session_key = _conditional(
        template,
        secretsmanager.Secret(
            "MlflowServerSessionKey",
            Description="mlops-portfolio: the MLflow auth app's CSRF key.",
            GenerateSecretString=secretsmanager.GenerateSecretString(
                PasswordLength=48, ExcludePunctuation=True
            ),
            Metadata=skip_metadata(MLFLOW_SECRET_DEFAULT_KEY),
        ),
    )
    groups = _add_security_groups(template, network.vpc)
    database = _add_database(
        template, network.subnets, groups["MlflowDatabase"], database_credentials
    )
    load_balancer, listener, target_group = _add_load_balancer(template, network, groups)
    log_group = _conditional(
        template,
        logs.LogGroup(
            "MlflowServerLogs",
            RetentionInDays=LOG_RETENTION_DAYS,
            Metadata=skip_metadata(LOGS_DEFAULT_ENCRYPTION),
        ),
    )
    secrets = {
        command.ADMIN_USERNAME_ENV: (admin, "username"),
        command.ADMIN_PASSWORD_ENV: (admin, "password"),
        command.PLATFORM_USERNAME_ENV: (platform, "username"),
        command.PLATFORM_PASSWORD_ENV: (platform, "password"),
        "DB_USERNAME": (database_credentials, "username"),
        "DB_PASSWORD": (database_credentials, "password"),
    }
    execution_role = _conditional(
        template,
        iam.Role(
            "MlflowServerExecutionRole",
            AssumeRolePolicyDocument=trust_policy("ecs-tasks.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="MlflowServerStart",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Sid="ItsSecrets",
                                Effect=Allow,
                                Action=[secrets_actions.GetSecretValue],
                                Resource=[
                                    *(
                                        Ref(s)
                                        for s in (
                                            admin,
                                            platform,
                                            database_credentials,
                                            session_key,
                                        )
                                    ),
                                    Ref(WEBHOOK_SECRET_ID),
                                ],
                            ),
                            Statement(
                                Sid="ItsLogs",
                                Effect=Allow,
                                Action=[logs_actions.CreateLogStream, logs_actions.PutLogEvents],
                                Resource=[GetAtt(log_group, "Arn")],
                            ),
                        ],
                    ),
                )
            ],
        ),
    )
    task_role = _conditional(
        template,
        iam.Role(
            "MlflowServerTaskRole",
            AssumeRolePolicyDocument=trust_policy("ecs-tasks.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="MlflowArtifacts",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=artifact_statements(data_bucket),
                    ),
                )
            ],
        ),
    )
    task = _conditional(
        template,
        ecs.TaskDefinition(
            "MlflowServerTask",
            RequiresCompatibilities=["FARGATE"],
            NetworkMode="awsvpc",
            Cpu=TASK_CPU,
            Memory=TASK_MEMORY_MB,
            ExecutionRoleArn=GetAtt(execution_role, "Arn"),
            TaskRoleArn=GetAtt(task_role, "Arn"),
            ContainerDefinitions=[
                ecs.ContainerDefinition(
                    Name="mlflow",
                    Image=network.image,
                    Essential=True,
                    Command=command.server_command(),
                    PortMappings=[ecs.PortMapping(ContainerPort=command.SERVER_PORT)],
                    Environment=[
                        ecs.Environment(Name=name, Value=value)
                        for name, value in (
                            (command.PORT_ENV, str(command.SERVER_PORT)),
                            (
                                command.ARTIFACTS_DESTINATION_ENV,
                                Sub(
                                    f"s3://${{Bucket}}/{ARTIFACTS_PREFIX}", Bucket=Ref(data_bucket)
                                ),
                            ),
                            ("DB_HOST", GetAtt(database, "Endpoint.Address")),
                            ("DB_PORT", str(DATABASE_PORT)),
                            ("DB_NAME", DATABASE_NAME),
                            # The load balancer's host name, its health checks (by IP), and
                            # MLflow's defaults for private addresses.
                            # Its webhook to the platform's MLflow sync (registered at start).
                            (command.WEBHOOK_URL_ENV, GetAtt(WEBHOOK_URL_ID, "FunctionUrl")),
                            (
                                "MLFLOW_SERVER_ALLOWED_HOSTS",
                                Sub(
                                    "${Host},${Host}:*,10.*,172.*,192.168.*", Host=network.host_name
                                ),
                            ),
                        )
                    ],
                    Secrets=[
                        ecs.Secret(Name=name, ValueFrom=Sub(f"${{Arn}}:{key}::", Arn=Ref(secret)))
                        for name, (secret, key) in secrets.items()
                    ]
                    + [
                        ecs.Secret(Name=command.SERVER_SECRET_KEY_ENV, ValueFrom=Ref(session_key)),
                        ecs.Secret(
                            Name=command.WEBHOOK_SECRET_ENV, ValueFrom=Ref(WEBHOOK_SECRET_ID)
                        ),
                    ],
                    LogConfiguration=ecs.LogConfiguration(
                        LogDriver="awslogs",
                        Options={
                            "awslogs-group": Ref(log_group),
                            "awslogs-region": Ref("AWS::Region"),
                            "awslogs-stream-prefix": "mlflow",
                        },
                    ),
                )
            ],
        ),
    )
    cluster = _conditional(
        template,
        ecs.Cluster("MlflowCluster", Metadata=skip_metadata(MLFLOW_CLUSTER_WITHOUT_INSIGHTS)),
    )
    _conditional(
        template,
        ecs.Service(
            "MlflowServer",
            DependsOn=[listener.title],
            Cluster=Ref(cluster),
            LaunchType="FARGATE",
            DesiredCount=1,
            TaskDefinition=Ref(task),
            HealthCheckGracePeriodSeconds=120,
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="DISABLED",
                    SecurityGroups=[Ref(groups["MlflowServer"])],
                    Subnets=network.subnets,
                )
            ),
            LoadBalancers=[
                ecs.LoadBalancer(
                    ContainerName="mlflow",
                    ContainerPort=command.SERVER_PORT,
                    TargetGroupArn=Ref(target_group),
                )
            ],
        ),
        network=True,
    )
    return SelfHostedServer(
        tracking_uri=Sub("https://${Host}", Host=network.host_name),
        platform_credentials=platform,
        client_security_group=groups["MlflowClients"],
        load_balancer=load_balancer,
    )


def _conditional(template: Template, resource: Any, *, network: bool = False) -> Any:
    """``resource`` under the self-hosted condition (``network``: it uses the VPC or subnets)."""
    resource.Condition = SELF_HOSTED
    if network:
        allow_empty_network(resource)
    return template.add_resource(resource)


def allow_empty_network(resource: Any) -> None:
    """cfn-lint resolves the Mlflow* network parameters to their empty defaults, which the
    stack's rules allow only when the server is not self-hosted, and then no resource uses
    them: W1030 and W1033 (a value, resolved or split, that does not match its pattern)
    do not apply to these."""
    metadata = dict(getattr(resource, "Metadata", None) or {})
    metadata["cfn-lint"] = {"config": {"ignore_checks": ["W1030", "W1033"]}}
    resource.Metadata = metadata


def _add_credentials(
    template: Template, logical_id: str, username: str, whose: str, name: Any = None
) -> secretsmanager.Secret:
    named = {} if name is None else {"Name": name}
    return _conditional(
        template,
        secretsmanager.Secret(
            logical_id,
            **named,
            Description=f"mlops-portfolio: the self-hosted MLflow server's {whose}.",
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate=json.dumps({"username": username}),
                GenerateStringKey="password",
                PasswordLength=32,
                # The password goes into a database URI and a basic-auth header unquoted.
                ExcludePunctuation=True,
            ),
            Metadata=skip_metadata(MLFLOW_SECRET_DEFAULT_KEY),
        ),
    )


def _add_security_groups(template: Template, vpc: Any) -> dict[str, ec2.SecurityGroup]:
    """Clients (the Lambdas) → load balancer (443) → server (5000) → database (5432)."""
    groups = {
        name: _conditional(
            template,
            ec2.SecurityGroup(
                f"{name}SecurityGroup",
                GroupDescription=f"mlops-portfolio: {description}",
                VpcId=vpc,
            ),
            network=True,
        )
        for name, description in (
            ("MlflowClients", "what may call the MLflow tracking server"),
            ("MlflowLoadBalancer", "the load balancer of the MLflow server"),
            ("MlflowServer", "the tasks of the MLflow server"),
            ("MlflowDatabase", "the database of the MLflow server"),
        )
    }
    for target, source, port in (
        ("MlflowLoadBalancer", "MlflowClients", HTTPS_PORT),
        ("MlflowServer", "MlflowLoadBalancer", command.SERVER_PORT),
        ("MlflowDatabase", "MlflowServer", DATABASE_PORT),
    ):
        _conditional(
            template,
            ec2.SecurityGroupIngress(
                f"{target}From{source}",
                GroupId=Ref(groups[target]),
                SourceSecurityGroupId=Ref(groups[source]),
                IpProtocol="tcp",
                FromPort=port,
                ToPort=port,
                Description=f"{source} to {target}",
            ),
        )
    return groups


def _add_database(
    template: Template, subnets: Any, group: ec2.SecurityGroup, credentials: Any
) -> rds.DBCluster:
    subnet_group = _conditional(
        template,
        rds.DBSubnetGroup(
            "MlflowDatabaseSubnets",
            DBSubnetGroupDescription="mlops-portfolio: the database of the MLflow server",
            SubnetIds=subnets,
        ),
        network=True,
    )
    resolve = "{{resolve:secretsmanager:${Secret}:SecretString:%s}}"
    cluster = _conditional(
        template,
        rds.DBCluster(
            "MlflowDatabase",
            DeletionPolicy="Snapshot",
            UpdateReplacePolicy="Snapshot",
            Engine="aurora-postgresql",
            EngineVersion=DATABASE_ENGINE_VERSION,
            DatabaseName=DATABASE_NAME,
            Port=DATABASE_PORT,
            MasterUsername=Sub(resolve % "username", Secret=Ref(credentials)),
            MasterUserPassword=Sub(resolve % "password", Secret=Ref(credentials)),
            DBSubnetGroupName=Ref(subnet_group),
            VpcSecurityGroupIds=[Ref(group)],
            StorageEncrypted=True,
            DeletionProtection=True,
            BackupRetentionPeriod=7,
            CopyTagsToSnapshot=True,
            ServerlessV2ScalingConfiguration=_scaling(),
            Metadata=skip_metadata(MLFLOW_DATABASE_IAM_AUTH),
        ),
    )
    _conditional(
        template,
        rds.DBInstance(
            "MlflowDatabaseInstance",
            DBClusterIdentifier=Ref(cluster),
            DBInstanceClass="db.serverless",
            Engine="aurora-postgresql",
            PubliclyAccessible=False,
            AutoMinorVersionUpgrade=True,
            Metadata=skip_metadata(MLFLOW_DATABASE_MONITORING),
        ),
    )
    return cluster


def _scaling() -> rds.ServerlessV2ScalingConfiguration:
    scaling = rds.ServerlessV2ScalingConfiguration(
        MaxCapacity=DATABASE_MAX_ACU, SecondsUntilAutoPause=DATABASE_PAUSE_AFTER_SECONDS
    )
    # troposphere's validator predates auto-pause (it refuses less than 0.5 ACU); the
    # resource schema cfn-lint checks allows 0 for the versions that pause.
    scaling.properties["MinCapacity"] = DATABASE_MIN_ACU
    return scaling


def _add_load_balancer(
    template: Template, network: NetworkParameters, groups: dict[str, ec2.SecurityGroup]
) -> tuple[elb.LoadBalancer, elb.Listener, elb.TargetGroup]:
    load_balancer = _conditional(
        template,
        elb.LoadBalancer(
            "MlflowLoadBalancer",
            Type="application",
            Scheme="internal",
            Subnets=network.subnets,
            SecurityGroups=[Ref(groups["MlflowLoadBalancer"])],
            LoadBalancerAttributes=[
                elb.LoadBalancerAttributes(
                    Key="routing.http.drop_invalid_header_fields.enabled", Value="true"
                )
            ],
            Metadata=skip_metadata(MLFLOW_LOAD_BALANCER_LOGS),
        ),
        network=True,
    )
    target_group = _conditional(
        template,
        elb.TargetGroup(
            "MlflowServerTargets",
            TargetType="ip",
            Protocol="HTTP",
            Port=command.SERVER_PORT,
            VpcId=network.vpc,
            HealthCheckPath=command.HEALTH_PATH,
            Matcher=elb.Matcher(HttpCode="200"),
        ),
        network=True,
    )
    listener = _conditional(
        template,
        elb.Listener(
            "MlflowHttpsListener",
            LoadBalancerArn=Ref(load_balancer),
            Protocol="HTTPS",
            Port=HTTPS_PORT,
            SslPolicy=TLS_POLICY,
            Certificates=[elb.Certificate(CertificateArn=network.certificate)],
            DefaultActions=[elb.Action(Type="forward", TargetGroupArn=Ref(target_group))],
        ),
    )
    return load_balancer, listener, target_group


def artifact_statements(data_bucket: Any) -> list[Statement]:
    """The tracking server's artifacts: the data bucket's mlflow/ prefix, nothing else (the
    server proxies them: clients need no S3 permission of their own)."""
    return [
        Statement(
            Sid="ArtifactObjects",
            Effect=Allow,
            Action=[s3_actions.GetObject, s3_actions.PutObject, s3_actions.DeleteObject],
            Resource=[s3_arn(f"${{Bucket}}/{ARTIFACTS_PREFIX}/*", Bucket=Ref(data_bucket))],
        ),
        Statement(
            Sid="ArtifactListing",
            Effect=Allow,
            Action=[s3_actions.ListBucket],
            Resource=[s3_arn("${Bucket}", Bucket=Ref(data_bucket))],
            Condition=Condition(StringLike("s3:prefix", [f"{ARTIFACTS_PREFIX}/*"])),
        ),
    ]
