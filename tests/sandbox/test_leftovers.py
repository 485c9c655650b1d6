"""What a deleted project left, and whether its OnDelete keeps it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_project_lifecycle.naming import ProjectNames
from sandbox.leftovers import UnexpectedLeftovers, check_leftovers, project_leftovers

NAMES = ProjectNames("churn", "p-abc123")
TABLE, BUCKET = "registry", "project-data"


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = session.client(service)
            return clients[service]

        client("dynamodb").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        client("s3").create_bucket(Bucket=BUCKET)
        client("s3").put_bucket_versioning(
            Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        yield client


def test_pipelines_and_every_object_version_under_the_prefix_are_found(client: Any) -> None:
    client("sagemaker").create_pipeline(
        PipelineName=NAMES.pipeline("dev"),
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn="arn:aws:iam::123456789012:role/training",
    )
    s3 = client("s3")
    s3.put_object(Bucket=BUCKET, Key=f"{NAMES.prefix}/datasets/train.csv", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key=f"{NAMES.prefix}/dev/model.tar.gz", Body=b"x")
    # Deleted, but its older version still holds the data.
    s3.delete_object(Bucket=BUCKET, Key=f"{NAMES.prefix}/dev/model.tar.gz")
    s3.put_object(Bucket=BUCKET, Key="sagemaker-churn-p-abc1234/other.csv", Body=b"x")

    left = project_leftovers(client, NAMES, registry_table=TABLE, data_bucket=BUCKET)

    assert left["pipelines"] == [NAMES.pipeline("dev")]
    assert left["data objects"] == [
        f"{NAMES.prefix}/datasets/train.csv",
        f"{NAMES.prefix}/dev/model.tar.gz",
    ]
    assert not any(
        names for kind, names in left.items() if kind not in ("pipelines", "data objects")
    )
    with pytest.raises(UnexpectedLeftovers, match="pipelines: sagemaker-churn-p-abc123-dev"):
        check_leftovers("retain-data", left)


def test_another_projects_models_are_not_this_projects_leftovers(client: Any) -> None:
    """A project whose name begins like this one's (churn, churn-mlflow) keeps its models."""
    sagemaker = client("sagemaker")
    container = {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn:1"}
    other = ProjectNames("churn-mlflow", "p-def456")
    for name in (f"{NAMES.prefix}-dev-1", f"{other.prefix}-prod-1"):
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer=container,
            ExecutionRoleArn="arn:aws:iam::123456789012:role/models",
        )

    left = project_leftovers(client, NAMES, registry_table=TABLE, data_bucket=BUCKET)

    assert left["models"] == [f"{NAMES.prefix}-dev-1"]


@pytest.mark.parametrize(
    ("on_delete", "left", "text"),
    [
        ("delete-all", {"repositories": [], "data objects": []}, "nothing left"),
        ("retain-data", {"pipelines": []}, "nothing left"),
        (
            "retain-data",
            {"repositories": ["r"], "model groups": ["g1", "g2"], "data objects": ["k"]},
            "kept as retain-data promises: 1 repositories; 2 model groups; 1 data objects",
        ),
    ],
)
def test_what_on_delete_keeps_passes(on_delete: str, left: dict[str, list[str]], text: str) -> None:
    assert check_leftovers(on_delete, left) == text


@pytest.mark.parametrize(
    ("on_delete", "left", "named"),
    [
        ("delete-all", {"data objects": ["p/train.csv"]}, "data objects: p/train.csv"),
        ("delete-all", {"pipelines": ["p-dev"]}, "pipelines: p-dev"),
        ("delete-all", {"repositories": ["r"]}, "repositories: r"),
        ("retain-data", {"endpoints": ["p-development"]}, "endpoints: p-development"),
        ("retain-data", {"roles": ["p-training"]}, "roles: p-training"),
    ],
)
def test_anything_else_left_fails_naming_it(
    on_delete: str, left: dict[str, list[str]], named: str
) -> None:
    with pytest.raises(UnexpectedLeftovers, match=f"OnDelete={on_delete} .*{named}"):
        check_leftovers(on_delete, left)
