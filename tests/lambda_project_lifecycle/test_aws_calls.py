"""Calling AWS from the handlers: a failure names what was being done and keeps the
service's code; an expected "not found" is an answer, not an error; a list call over
several pages loses no page."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from lambda_project_lifecycle.aws_calls import MISSING, call, call_unless, pages
from lambda_project_lifecycle.errors import AwsCallError, LifecycleError

MISSING_PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/sagemaker-x-p-1-dev/9"


@mock_aws
def test_a_listing_over_several_pages_reads_every_page() -> None:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    names = [f"sagemaker-churn-p-1-g{i:02d}" for i in range(7)]
    for name in names:
        sagemaker.create_model_package_group(ModelPackageGroupName=name)

    listed = list(pages("Listing groups", sagemaker.list_model_package_groups, MaxResults=3))

    assert len(listed) == 3  # 3 + 3 + 1 groups
    read = [s["ModelPackageGroupSummaryList"] for s in listed]
    assert sorted(g["ModelPackageGroupName"] for page in read for g in page) == names


@mock_aws
def test_a_failed_call_names_the_action_and_keeps_the_service_code() -> None:
    codecommit = boto3.client("codecommit", region_name="us-east-1")

    with pytest.raises(AwsCallError) as caught:
        call("Reading repository sagemaker-x", codecommit.get_repository, repositoryName="nope")

    assert isinstance(caught.value, LifecycleError)
    assert caught.value.code == "RepositoryDoesNotExistException"
    assert str(caught.value).startswith(
        "Reading repository sagemaker-x failed: RepositoryDoesNotExistException"
    )


@mock_aws
def test_an_expected_code_answers_none_and_any_other_still_fails() -> None:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")

    gone = call_unless(
        MISSING,
        "Describing a model package",
        sagemaker.describe_model_package,
        ModelPackageName=MISSING_PACKAGE,
    )
    assert gone is None

    with pytest.raises(AwsCallError) as caught:
        call_unless(
            frozenset({"NoSuchEntity"}),
            "Describing a model package",
            sagemaker.describe_model_package,
            ModelPackageName=MISSING_PACKAGE,
        )
    assert caught.value.code in MISSING
