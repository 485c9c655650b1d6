"""Project Delete through the handler: pipelines always go; data objects as OnDelete says."""

from __future__ import annotations

import pytest

from lambda_project_lifecycle.naming import ProjectNames
from sandbox.cloudformation import ResponseListener
from tests.lambda_project_lifecycle.conftest import PROJECT_DATA_BUCKET, Emulated
from tests.lambda_project_lifecycle.test_lifecycle import properties, send
from tests.lambda_project_lifecycle.test_project_pipelines import make_pipeline, pipeline_names

NAMES = ProjectNames("churn-model", "p-7gxpyr2wsl2k")  # the stored events' project
OTHER_PROJECT_KEY = "sagemaker-churn-model-p-otherproject1/datasets/train.csv"


def what_the_builds_made(aws: Emulated) -> None:
    """The seed's builds: a pipeline per training branch kind, data under the prefix."""
    for kind in ("feature", "dev"):
        make_pipeline(aws.sagemaker, NAMES.pipeline(kind))
    aws.s3.create_bucket(Bucket=PROJECT_DATA_BUCKET)
    aws.s3.put_bucket_versioning(
        Bucket=PROJECT_DATA_BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    for key in ("datasets/train.csv", "datasets/train.csv", "dev/abc123/model.tar.gz"):
        aws.s3.put_object(Bucket=PROJECT_DATA_BUCKET, Key=f"{NAMES.prefix}/{key}", Body=b"x")
    aws.s3.put_object(Bucket=PROJECT_DATA_BUCKET, Key=OTHER_PROJECT_KEY, Body=b"x")


def data_keys(aws: Emulated) -> list[str]:
    listed = aws.s3.list_object_versions(Bucket=PROJECT_DATA_BUCKET)
    return sorted(v["Key"] for v in (*listed.get("Versions", []), *listed.get("DeleteMarkers", [])))


@pytest.mark.parametrize(
    ("on_delete", "data_left"),
    [
        ("delete-all", [OTHER_PROJECT_KEY]),
        (
            "retain-data",
            [
                OTHER_PROJECT_KEY,
                f"{NAMES.prefix}/datasets/train.csv",
                f"{NAMES.prefix}/datasets/train.csv",
                f"{NAMES.prefix}/dev/abc123/model.tar.gz",
            ],
        ),
    ],
)
def test_delete_removes_the_pipelines_and_the_data_as_on_delete_says(
    aws: Emulated, cfn_listener: ResponseListener, on_delete: str, data_left: list[str]
) -> None:
    props = properties(OnDelete=on_delete)
    send(aws, cfn_listener, "Create", props)
    what_the_builds_made(aws)

    answer = send(aws, cfn_listener, "Delete", props)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert pipeline_names(aws.sagemaker) == set()
    assert data_keys(aws) == sorted(data_left)
    # A retried Delete converges.
    assert send(aws, cfn_listener, "Delete", props)["Status"] == "SUCCESS"
