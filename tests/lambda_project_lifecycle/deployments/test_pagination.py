"""Every list call of the Lambdas reads all pages: a project with more than one page of
model packages, configs or alarms loses none of them to a first-page-only listing."""

from __future__ import annotations

import boto3
from moto import mock_aws

from lambda_project_lifecycle.deployments.aws import pages


@mock_aws
def test_a_listing_over_several_pages_reads_every_page() -> None:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    names = [f"sagemaker-churn-p-1-g{i:02d}" for i in range(7)]
    for name in names:
        sagemaker.create_model_package_group(ModelPackageGroupName=name)

    listed = list(pages("Listing groups", sagemaker.list_model_package_groups, MaxResults=3))

    assert len(listed) == 3  # 3 + 3 + 1 groups
    read = [s["ModelPackageGroupName"] for p in listed for s in p["ModelPackageGroupSummaryList"]]
    assert sorted(read) == names
