"""The checks after taskcat's run: read back from the deleted test stack, on the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from portfolio_build import taskcat_checks
from portfolio_build.taskcat_template import ProductUnderTest
from sandbox.emulator import Emulator
from tests.support.publishing import embedded_aws

REGION = "ap-southeast-1"
RUN_STACK = "tCaT-mlops-portfolio-platform-and-projects-" + "0123456789abcdef" * 2
PRODUCTS = (
    ProductUnderTest("baseline-sagemaker", "sagemaker", "k1"),
    ProductUnderTest("baseline-mlflow", "mlflow", "k2"),
)
TASKCAT_BUCKET = f"tcat-0123456789abcdef-{REGION}"
GROUPS = "sagemaker-tcat-a-p-1-prod,sagemaker-tcat-a-p-1-dev"


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with embedded_aws() as emulator:
        yield emulator


def run_outputs(table: str, bucket: str, **changed: str) -> dict[str, str]:
    outputs = {
        "ProjectRegistryTable": table,
        "ProjectDataBucketName": bucket,
        "BaselineSagemakerProjectId": "p-1",
        "BaselineSagemakerModelGroups": GROUPS,
        "BaselineSagemakerRepositoryCloneUrl": "https://git-codecommit/v1/repos/a",
        "BaselineMlflowProjectId": "p-2",
        "BaselineMlflowRepositoryCloneUrl": "https://git-codecommit/v1/repos/b",
    }
    outputs.update(changed)
    return {k: v for k, v in outputs.items() if v}


def make_run(aws: Emulator, outputs: dict[str, str], *, delete: bool = True) -> None:
    """A test stack as taskcat's run leaves it: its outputs, then deleted; the platform's kept
    table and bucket exist (the table holding ``records``)."""
    body = {
        "Parameters": {"ArtifactsBucket": {"Type": "String"}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    s3 = aws.client("s3", REGION)
    s3.create_bucket(
        Bucket=TASKCAT_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    s3.put_object(
        Bucket=TASKCAT_BUCKET, Key="mlops-portfolio/templates/region-test.json", Body=b"{}"
    )
    cloudformation = aws.client("cloudformation", REGION)
    stack_id = cloudformation.create_stack(
        StackName=RUN_STACK,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": "ArtifactsBucket", "ParameterValue": TASKCAT_BUCKET}],
    )["StackId"]
    cloudformation.describe_stacks(StackName=stack_id)  # outputs read while the stack is up
    if delete:
        cloudformation.delete_stack(StackName=stack_id)


def kept_platform_data(aws: Emulator, records: list[str]) -> tuple[str, str]:
    dynamodb = aws.client("dynamodb", REGION)
    dynamodb.create_table(
        TableName="registry",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for record in records:
        dynamodb.put_item(TableName="registry", Item={"pk": {"S": record}})
    s3 = aws.client("s3", REGION)
    s3.create_bucket(Bucket="data", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="data", Key="p-1/train.csv", Body=b"x")
    return "registry", "data"


def check(aws: Emulator) -> list[str]:
    since = datetime.now(UTC) - timedelta(minutes=5)
    return taskcat_checks.check_run(aws.client, (REGION,), since, PRODUCTS)


def is_gone(aws: Emulator, table: str, bucket: str) -> bool:
    tables = aws.client("dynamodb", REGION).list_tables()["TableNames"]
    buckets = [b["Name"] for b in aws.client("s3", REGION).list_buckets()["Buckets"]]
    return table not in tables and bucket not in buckets


def test_a_clean_run_leaves_nothing_and_its_kept_platform_data_is_removed(aws: Emulator) -> None:
    table, bucket = kept_platform_data(aws, records=["platform#settings"])
    make_run(aws, run_outputs(table, bucket))

    assert check(aws) == []
    assert is_gone(aws, table, bucket)
    assert is_gone(aws, "", TASKCAT_BUCKET)  # taskcat keeps its regional bucket; not here


def test_model_groups_and_registry_records_left_are_findings(aws: Emulator) -> None:
    table, bucket = kept_platform_data(aws, records=["project#p-2"])
    aws.client("sagemaker", REGION).create_model_package_group(
        ModelPackageGroupName="sagemaker-tcat-a-p-1-dev"
    )
    make_run(aws, run_outputs(table, bucket))

    assert check(aws) == [
        f"{REGION}: model package group sagemaker-tcat-a-p-1-dev of baseline-sagemaker is "
        "still there",
        f"{REGION}: registry registry still holds project p-2",
    ]
    assert is_gone(aws, table, bucket)  # the test's own, deleted all the same


def test_a_project_without_its_lifecycle_outputs_is_a_finding(aws: Emulator) -> None:
    make_run(aws, run_outputs("", "", BaselineMlflowRepositoryCloneUrl=""))

    assert check(aws) == [
        f"{REGION}: stack {RUN_STACK}: the baseline-mlflow project had no RepositoryCloneUrl"
    ]


def test_a_stack_not_deleted_or_no_stack_at_all_is_a_finding(aws: Emulator) -> None:
    assert check(aws) == [f"{REGION}: taskcat made no test stack"]

    make_run(aws, run_outputs("", ""), delete=False)

    assert check(aws) == [f"{REGION}: stack {RUN_STACK} is CREATE_COMPLETE, not deleted"]


def test_only_the_runs_root_stacks_are_read(aws: Emulator) -> None:
    pattern = taskcat_checks.run_stack_pattern()
    assert pattern.match(RUN_STACK)
    assert not pattern.match(f"{RUN_STACK}-Platform-ABCDEF123456")  # a nested stack
    assert not pattern.match("tCaT-other-project-" + "0" * 32)
