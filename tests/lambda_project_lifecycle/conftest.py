from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.codecommit.models import codecommit_backends

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.lifecycle import Settings
from portfolio_build.render import package_seed_code
from sandbox.emulator_gaps import (
    CodeCommitGaps,
    CodeCommitGitData,
    CodeConnectionsGaps,
    SageMakerGaps,
)
from sandbox.git_server import GitHttpServer
from sandbox.http_routes import RoutingPoolManager
from sandbox.sigv4_check import sigv4_auth
from sandbox.tls import CertificateAuthority
from tests.support.network import loopback_only

REGISTRY_TABLE = "mlops-portfolio-project-registry"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account, and the account of the stored events
ARTIFACTS_BUCKET = "mlops-portfolio-artifacts-123456789012-us-east-1"
PROJECT_DATA_BUCKET = "mlops-portfolio-project-data-123456789012-us-east-1"
SEED_CODE_KEYS = {
    "baseline": "mlops-portfolio/seed_code/baseline-0123456789abcdef.zip",
    "advanced": "mlops-portfolio/seed_code/advanced-fedcba9876543210.zip",
}
# The platform's MLflow tracking server (nothing connects to it in these tests).
MLFLOW_TRACKING_URI = "https://mlflow.platform.example.internal"
CODECOMMIT_HOST = f"git-codecommit.{REGION}.amazonaws.com"
CONNECTION_HOSTS = (
    f"codestar-connections.{REGION}.amazonaws.com",
    f"codeconnections.{REGION}.amazonaws.com",
)


@dataclass
class Emulated:
    """moto-backed clients, the gap fillers, the local git server, and the Lambda's settings."""

    sagemaker: Any
    dynamodb: Any
    gaps: SageMakerGaps
    settings: Settings
    s3: Any
    codecommit: Any
    secretsmanager: Any
    codebuild: Any
    codeconnections: Any
    codestar_connections: Any
    codecommit_gaps: CodeCommitGaps
    codecommit_git: CodeCommitGitData
    connections: CodeConnectionsGaps
    legacy_connections: CodeConnectionsGaps
    aws_git: GitHttpServer  # plays CodeCommit and the CodeConnections git-http endpoint
    http: RoutingPoolManager
    # The CA of the local HTTPS servers (git hosts, provider APIs), trusted through
    # SSL_CERT_FILE and GIT_SSL_CAINFO while the emulation runs, as the sandbox does.
    authority: CertificateAuthority

    @property
    def clients(self) -> AwsClients:
        return self.clients_with()

    def clients_with(self, **overrides: Any) -> AwsClients:
        clients = {
            "sagemaker": self.sagemaker,
            "dynamodb": self.dynamodb,
            "s3": self.s3,
            "codecommit": self.codecommit,
            "secretsmanager": self.secretsmanager,
            "codebuild": self.codebuild,
            "codeconnections": self.codeconnections,
            "codestar-connections": self.codestar_connections,
            "http": self.http,
        }
        clients.update(overrides)
        return AwsClients(**clients)

    @property
    def boto_clients(self) -> list[Any]:
        return [
            self.sagemaker,
            self.dynamodb,
            self.s3,
            self.codecommit,
            self.secretsmanager,
            self.codebuild,
            self.codeconnections,
            self.codestar_connections,
        ]

    def group_names(self) -> set[str]:
        paginator = self.sagemaker.get_paginator("list_model_package_groups")
        return {
            g["ModelPackageGroupName"]
            for page in paginator.paginate()
            for g in page["ModelPackageGroupSummaryList"]
        }

    def registry_keys(self) -> set[str]:
        items = self.dynamodb.scan(TableName=REGISTRY_TABLE)["Items"]
        return {item["pk"]["S"] for item in items}

    def repository_names(self) -> set[str]:
        """CodeCommit repositories (read from moto's state: it lacks ListRepositories)."""
        return set(codecommit_backends[ACCOUNT_ID][REGION].repositories)


@functools.cache
def boto3_session() -> boto3.session.Session:
    """One session for every test: service models load once per run (clients stay per test)."""
    return boto3.session.Session(region_name=REGION)


_SEED_ZIPS: dict[str, bytes] = {}


def seed_zips() -> dict[str, bytes]:
    """The seed-code zips as ``python build.py`` makes them (built once per test session)."""
    if not _SEED_ZIPS:
        with tempfile.TemporaryDirectory() as dist:
            for artifact in package_seed_code(Path(dist)):
                _SEED_ZIPS[artifact.name] = artifact.path.read_bytes()
    return _SEED_ZIPS


def upload_seed_code(s3: Any, zips: dict[str, bytes] | None = None) -> None:
    s3.create_bucket(Bucket=ARTIFACTS_BUCKET)
    for scenario, data in (zips or seed_zips()).items():
        s3.put_object(Bucket=ARTIFACTS_BUCKET, Key=SEED_CODE_KEYS[scenario], Body=data)


@contextmanager
def emulated_aws() -> Iterator[Emulated]:
    """moto with what the platform stack would have made (registry table, artifacts bucket
    holding the seed code), and a git server on 127.0.0.1 standing in for CodeCommit."""
    with ExitStack() as stack:
        stack.enter_context(loopback_only())
        stack.enter_context(mock_aws())
        root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (root / "ca").mkdir()
        authority = CertificateAuthority.create(root / "ca")
        stack.enter_context(mock.patch.dict(os.environ, authority.environment()))
        session = boto3_session()
        dynamodb = session.client("dynamodb")
        dynamodb.create_table(
            TableName=REGISTRY_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        s3 = session.client("s3")
        upload_seed_code(s3)
        sagemaker = session.client("sagemaker")
        codecommit = session.client("codecommit")
        codeconnections = session.client("codeconnections")
        codestar_connections = session.client("codestar-connections")
        credentials = session.get_credentials().get_frozen_credentials()
        aws_git = GitHttpServer(
            root / "aws-git",
            sigv4_auth(
                access_key=credentials.access_key,
                secret_key=credentials.secret_key,
                region=REGION,
                hosts=(CODECOMMIT_HOST, *CONNECTION_HOSTS),
            ),
        ).start()
        stack.callback(aws_git.stop)
        (root / "aws-git").mkdir()
        codecommit_git = CodeCommitGitData(root / "codecommit", REGION)
        (root / "codecommit").mkdir()
        aws_git.resolver = codecommit_git.resolve
        http = RoutingPoolManager(
            {host: aws_git.port for host in (CODECOMMIT_HOST, *CONNECTION_HOSTS)}
        )
        yield Emulated(
            sagemaker=sagemaker,
            dynamodb=dynamodb,
            gaps=SageMakerGaps(sagemaker),
            settings=Settings(
                registry_table=REGISTRY_TABLE,
                artifacts_bucket=ARTIFACTS_BUCKET,
                project_data_bucket=PROJECT_DATA_BUCKET,
                seed_code_keys=SEED_CODE_KEYS,
                mlflow_tracking_uri=MLFLOW_TRACKING_URI,
            ),
            s3=s3,
            codecommit=codecommit,
            secretsmanager=session.client("secretsmanager"),
            codebuild=session.client("codebuild"),
            codeconnections=codeconnections,
            codestar_connections=codestar_connections,
            codecommit_gaps=CodeCommitGaps(codecommit),
            codecommit_git=codecommit_git,
            connections=CodeConnectionsGaps(codeconnections),
            legacy_connections=CodeConnectionsGaps(codestar_connections),
            aws_git=aws_git,
            http=http,
            authority=authority,
        )


@pytest.fixture
def aws() -> Iterator[Emulated]:
    with emulated_aws() as emulated:
        yield emulated
