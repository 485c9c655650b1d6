"""What ``python build.py taskcat`` checks once taskcat has deleted its stacks, in each region.

taskcat names each test stack ``tCaT-<project>-<test>-<run id>``; a deleted stack can still
be described by its id, with its parameters and outputs. For each stack of the run:

- it is ``DELETE_COMPLETE``;
- while it was up it had the lifecycle's outputs of every project (model groups for the
  SageMaker flavour, the repository's clone URL): CloudFormation fails the test stack
  without them, and they are read back here;
- the projects' model groups are gone (``OnDelete=delete-all``), and so are their records
  in the platform's project registry;
- what the platform keeps when its stack is deleted (the registry table and the project
  data bucket, ``DeletionPolicy: Retain`` for real platforms) is the test's own: it is
  emptied and deleted here, and so is the bucket taskcat made in the region (with
  ``s3_regional_buckets`` taskcat keeps it for its next run), so that the run leaves
  nothing behind.

Every finding is one line; none means the run left nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from portfolio_build import taskcat_project, taskcat_template

ClientFactory = Callable[[str, str], Any]  # (service, region) -> a boto3 client
MISSING_GROUP_CODES = ("ValidationException", "ResourceNotFound")
TASKCAT_BUCKET_PREFIX = "tcat-"  # the buckets taskcat makes: tcat-<digest>[-<region>]


def run_stack_pattern() -> re.Pattern[str]:
    project, test = taskcat_project.PROJECT_NAME, taskcat_project.TEST_NAME
    return re.compile(rf"^tCaT-{re.escape(project)}-{re.escape(test)}-[0-9a-f]{{32}}$")


def check_run(
    clients: ClientFactory,
    regions: tuple[str, ...],
    since: datetime,
    products: tuple[taskcat_template.ProductUnderTest, ...],
) -> list[str]:
    """The findings of the run started at ``since`` in ``regions`` ([] when it left nothing)."""
    findings: list[str] = []
    for region in regions:
        stacks = run_stacks(clients("cloudformation", region), since)
        if not stacks:
            findings.append(f"{region}: taskcat made no test stack")
        for stack in stacks:
            findings += [f"{region}: {f}" for f in check_stack(clients, region, stack, products)]
    return findings


def run_stacks(cloudformation: Any, since: datetime) -> list[dict[str, Any]]:
    pattern = run_stack_pattern()
    found = []
    for page in cloudformation.get_paginator("list_stacks").paginate():
        for summary in page["StackSummaries"]:
            if pattern.match(summary["StackName"]) and summary["CreationTime"] >= since:
                found.append(summary)
    return found


def check_stack(
    clients: ClientFactory,
    region: str,
    summary: dict[str, Any],
    products: tuple[taskcat_template.ProductUnderTest, ...],
) -> list[str]:
    name = summary["StackName"]
    if summary["StackStatus"] != "DELETE_COMPLETE":
        return [f"stack {name} is {summary['StackStatus']}, not deleted"]
    stack = clients("cloudformation", region).describe_stacks(StackName=summary["StackId"])
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Stacks"][0].get("Outputs") or []}
    parameters = {
        p["ParameterKey"]: p["ParameterValue"] for p in stack["Stacks"][0].get("Parameters") or []
    }
    findings = []
    sagemaker = clients("sagemaker", region)
    for product in products:
        for output in product.outputs:
            if not outputs.get(f"{product.logical_id}{output}"):
                findings.append(f"stack {name}: the {product.name} project had no {output}")
        for group in filter(None, outputs.get(f"{product.logical_id}ModelGroups", "").split(",")):
            if model_group_exists(sagemaker, group):
                findings.append(f"model package group {group} of {product.name} is still there")
    findings += remove_kept_platform_data(clients, region, outputs, products)
    # taskcat keeps its regional buckets for the next run (it deletes only a shared one).
    if parameters.get("ArtifactsBucket", "").startswith(TASKCAT_BUCKET_PREFIX):
        delete_bucket(clients("s3", region), parameters["ArtifactsBucket"])
    return findings


def model_group_exists(sagemaker: Any, name: str) -> bool:
    return exists(
        lambda: sagemaker.describe_model_package_group(ModelPackageGroupName=name),
        MISSING_GROUP_CODES,
    )


def exists(describe: Callable[[], object], missing_codes: tuple[str, ...]) -> bool:
    """Whether ``describe`` finds its resource (an error of ``missing_codes``: it does not)."""
    try:
        describe()
    except ClientError as exc:
        if exc.response["Error"]["Code"] in missing_codes:
            return False
        raise
    return True


def remove_kept_platform_data(
    clients: ClientFactory,
    region: str,
    outputs: dict[str, str],
    products: tuple[taskcat_template.ProductUnderTest, ...],
) -> list[str]:
    """The registry records of the test projects are gone; the kept table and data bucket
    of the test's platform are deleted."""
    findings = []
    table = outputs.get("ProjectRegistryTable", "")
    dynamodb = clients("dynamodb", region)
    if table and table_exists(dynamodb, table):
        for product in products:
            project_id = outputs.get(f"{product.logical_id}ProjectId", "")
            record = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"project#{project_id}"}})
            if "Item" in record:
                findings.append(f"registry {table} still holds project {project_id}")
        dynamodb.delete_table(TableName=table)
    bucket = outputs.get("ProjectDataBucketName", "")
    if bucket:
        delete_bucket(clients("s3", region), bucket)
    return findings


def table_exists(dynamodb: Any, table: str) -> bool:
    return exists(lambda: dynamodb.describe_table(TableName=table), ("ResourceNotFoundException",))


def delete_bucket(s3: Any, bucket: str) -> None:
    """Every object version of ``bucket``, then the bucket (gone already: nothing)."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            keys = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucket":
            raise
