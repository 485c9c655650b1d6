"""Removing a project's objects from the versioned project data bucket (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.project_data import (
    DELETE_OBJECTS_LIMIT,
    ProjectDataError,
    remove_project_data,
)
from tests.lambda_project_lifecycle.conftest import PROJECT_DATA_BUCKET, Emulated, emulated_aws

NAMES = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
PREFIX = f"{NAMES.prefix}/"


@pytest.fixture
def aws() -> Iterator[Emulated]:
    with emulated_aws() as emulated:
        yield emulated


def data_bucket(s3: Any, *, versioned: bool) -> str:
    s3.create_bucket(Bucket=PROJECT_DATA_BUCKET)
    if versioned:  # as the platform makes it (portfolio.buckets)
        s3.put_bucket_versioning(
            Bucket=PROJECT_DATA_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
    return PROJECT_DATA_BUCKET


def versions(s3: Any, prefix: str = "") -> list[str]:
    listed = s3.list_object_versions(Bucket=PROJECT_DATA_BUCKET, Prefix=prefix)
    return [
        f"{v['Key']}@{v['VersionId']}"
        for v in (*listed.get("Versions", []), *listed.get("DeleteMarkers", []))
    ]


class CountingS3:
    """The S3 client, counting DeleteObjects calls and their sizes."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def delete_objects(self, **kwargs: Any) -> Any:
        self.batches.append(len(kwargs["Delete"]["Objects"]))
        return self._real.delete_objects(**kwargs)


def test_every_version_and_delete_marker_under_the_prefix_goes_and_nothing_else(
    aws: Emulated,
) -> None:
    bucket = data_bucket(aws.s3, versioned=True)
    for key in ("datasets/train.csv", "pipelines/dev/model.tar.gz"):
        aws.s3.put_object(Bucket=bucket, Key=PREFIX + key, Body=b"one")
        aws.s3.put_object(Bucket=bucket, Key=PREFIX + key, Body=b"two")
    aws.s3.delete_object(Bucket=bucket, Key=PREFIX + "datasets/train.csv")  # a delete marker
    others = ["sagemaker-churn-model-p-7gxpyr2wsl2k9/data.csv", "shared/readme.txt"]
    for key in others:
        aws.s3.put_object(Bucket=bucket, Key=key, Body=b"keep")

    deleted = remove_project_data(aws.s3, bucket, NAMES)

    assert deleted == 5
    assert versions(aws.s3, PREFIX) == []
    assert sorted(v.split("@")[0] for v in versions(aws.s3)) == sorted(others)


def test_thousands_of_objects_go_in_batches_of_at_most_1000(aws: Emulated) -> None:
    bucket = data_bucket(aws.s3, versioned=True)
    count = DELETE_OBJECTS_LIMIT + 150
    for index in range(count):
        aws.s3.put_object(Bucket=bucket, Key=f"{PREFIX}outputs/{index:05}.json", Body=b"{}")
    s3 = CountingS3(aws.s3)

    assert remove_project_data(s3, bucket, NAMES) == count

    assert s3.batches == [DELETE_OBJECTS_LIMIT, 150]
    assert versions(aws.s3) == []


def test_an_unversioned_bucket_and_a_retry_converge(aws: Emulated) -> None:
    bucket = data_bucket(aws.s3, versioned=False)
    aws.s3.put_object(Bucket=bucket, Key=PREFIX + "datasets/train.csv", Body=b"x")

    assert remove_project_data(aws.s3, bucket, NAMES) == 1
    assert remove_project_data(aws.s3, bucket, NAMES) == 0
    assert versions(aws.s3) == []


def test_a_missing_bucket_or_no_bucket_setting_has_nothing_to_remove(aws: Emulated) -> None:
    assert remove_project_data(aws.s3, PROJECT_DATA_BUCKET, NAMES) == 0
    assert remove_project_data(aws.s3, "", NAMES) == 0


class RefusingS3(CountingS3):
    def delete_objects(self, **kwargs: Any) -> Any:
        first = kwargs["Delete"]["Objects"][0]
        return {"Errors": [{**first, "Code": "AccessDenied", "Message": "Access Denied"}]}


class ForgetfulS3(CountingS3):
    """Answers DeleteObjects with success but deletes nothing."""

    def delete_objects(self, **kwargs: Any) -> Any:
        self.batches.append(len(kwargs["Delete"]["Objects"]))
        return {}


def test_objects_s3_refuses_to_delete_fail_naming_the_first(aws: Emulated) -> None:
    bucket = data_bucket(aws.s3, versioned=True)
    aws.s3.put_object(Bucket=bucket, Key=PREFIX + "datasets/train.csv", Body=b"x")

    with pytest.raises(ProjectDataError, match=r"datasets/train\.csv .*AccessDenied"):
        remove_project_data(RefusingS3(aws.s3), bucket, NAMES)


def test_objects_still_listed_after_their_delete_fail_instead_of_looping(aws: Emulated) -> None:
    bucket = data_bucket(aws.s3, versioned=True)
    aws.s3.put_object(Bucket=bucket, Key=PREFIX + "datasets/train.csv", Body=b"x")
    s3 = ForgetfulS3(aws.s3)

    with pytest.raises(ProjectDataError, match=r"datasets/train\.csv .*still there"):
        remove_project_data(s3, bucket, NAMES)
    assert s3.batches == [1]
