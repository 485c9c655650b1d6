"""Fixtures of the pipeline tests: the SageMaker SDK offline, everything under moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pipelines.project import Project, load_project

ROLE_ARN = "arn:aws:iam::123456789012:role/pipeline-execution"
SDK_CONFIG = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


@pytest.fixture(scope="session")
def project() -> Project:
    return load_project()


@pytest.fixture
def offline_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, project: Project
) -> Iterator[None]:
    """Fake credentials, the project's region, SDK telemetry off, everything under moto."""
    from moto import mock_aws

    config = tmp_path / "sagemaker-sdk.yaml"
    config.write_text(SDK_CONFIG)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": project.region,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(config),
        # moto has no iam:SimulatePrincipalPolicy, which the SDK uses to check roles client-side.
        "SAGEMAKER_VALIDATE_ROLE": "false",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name=project.region)
        if project.region == "us-east-1":
            s3.create_bucket(Bucket=project.bucket)
        else:
            s3.create_bucket(
                Bucket=project.bucket,
                CreateBucketConfiguration={"LocationConstraint": project.region},
            )
        yield
