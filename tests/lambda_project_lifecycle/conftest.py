from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.lifecycle import Settings
from tests.support.emulator_gaps import SageMakerGaps

REGISTRY_TABLE = "mlops-portfolio-project-registry"


@dataclass
class Emulated:
    """moto-backed clients, the gap filler, and the settings the Lambda would get."""

    sagemaker: Any
    dynamodb: Any
    gaps: SageMakerGaps
    settings: Settings

    @property
    def clients(self) -> AwsClients:
        return AwsClients(sagemaker=self.sagemaker, dynamodb=self.dynamodb)

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


@contextmanager
def emulated_aws() -> Iterator[Emulated]:
    """moto with the registry table made, as the platform stack would have it."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName=REGISTRY_TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        yield Emulated(
            sagemaker=sagemaker,
            dynamodb=dynamodb,
            gaps=SageMakerGaps(sagemaker),
            settings=Settings(registry_table=REGISTRY_TABLE),
        )


@pytest.fixture
def aws() -> Iterator[Emulated]:
    with emulated_aws() as emulated:
        yield emulated
