"""Stage configs: read from where the project's build publishes them, defaults when absent."""

from __future__ import annotations

import boto3
import pytest

from lambda_project_lifecycle.deployments.config import (
    config_key,
    hosting_instance_types,
    load_schema,
    load_stage_config,
    parse_stage_config,
)
from lambda_project_lifecycle.deployments.errors import DeployConfigError
from tests.support.deployments import DATA_BUCKET, DeployWorld, deploy_config_schema

SCHEMA = load_schema(deploy_config_schema())


def test_published_config_is_read_from_the_contract_path(world: DeployWorld) -> None:
    names = world.create_project()
    assert config_key(names.prefix, "production") == f"{names.prefix}/deploy/prod/config.json"
    assert config_key(names.prefix, "development") == f"{names.prefix}/deploy/dev/config.json"
    world.publish_config(names, "prod", {"schema_version": 1, "production": {"mode": "serverless"}})
    config = load_stage_config(
        world.client("s3"),
        DATA_BUCKET,
        names.prefix,
        stage="production",
        scenario="baseline",
        schema=SCHEMA,
    )
    assert config.mode == "serverless"
    assert config.source == f"s3://{DATA_BUCKET}/{names.prefix}/deploy/prod/config.json"
    assert config.deployment["termination_wait_seconds"] == 300  # a default filled in


def test_a_missing_config_means_every_default(world: DeployWorld) -> None:
    names = world.create_project()
    config = load_stage_config(
        world.client("s3"),
        DATA_BUCKET,
        names.prefix,
        stage="development",
        scenario="baseline",
        schema=SCHEMA,
    )
    assert config.source.startswith("schema defaults")
    assert (config.mode, config.ttl_hours, config.latency_budget_ms) == ("serverless", 24, 5000)


def test_a_config_that_is_not_json_is_named(world: DeployWorld) -> None:
    names = world.create_project()
    world.client("s3").put_object(
        Bucket=DATA_BUCKET, Key=config_key(names.prefix, "development"), Body=b"mode: [oops"
    )
    with pytest.raises(DeployConfigError, match=r"config.json: not valid JSON"):
        load_stage_config(
            world.client("s3"),
            DATA_BUCKET,
            names.prefix,
            stage="development",
            scenario="baseline",
            schema=SCHEMA,
        )


def test_an_advanced_project_without_champion_challenger_settings_splits_90_10() -> None:
    config = parse_stage_config(
        {"schema_version": 1}, stage="production", scenario="advanced", schema=SCHEMA, source="x"
    )
    assert config.champion_challenger == {"mode": "split", "challenger_weight": 10}
    shadow = parse_stage_config(
        {"schema_version": 1, "production": {"champion_challenger": {"mode": "shadow"}}},
        stage="production",
        scenario="advanced",
        schema=SCHEMA,
        source="x",
    )
    assert shadow.champion_challenger == {"mode": "shadow", "challenger_weight": 10}


def test_hosting_instance_types_come_from_the_sdk_service_model() -> None:
    types = hosting_instance_types(boto3.client("sagemaker", region_name="us-east-1"))
    assert types is not None
    assert {"ml.m5.large", "ml.c5.xlarge", "ml.g5.xlarge"} <= types
    assert "ml.t3.micro" not in types and "ml.m5.huge" not in types
    assert hosting_instance_types(object()) is None


def test_advanced_production_must_be_realtime_and_its_development_may_be_serverless() -> None:
    document = {"schema_version": 1, "production": {"mode": "serverless"}}
    with pytest.raises(DeployConfigError, match=r"key 'production\.mode': serverless is not"):
        parse_stage_config(
            document, stage="production", scenario="advanced", schema=SCHEMA, source="x"
        )
    development = parse_stage_config(
        document, stage="development", scenario="advanced", schema=SCHEMA, source="x"
    )
    assert development.mode == "serverless"
    baseline = parse_stage_config(
        document, stage="production", scenario="baseline", schema=SCHEMA, source="x"
    )
    assert baseline.mode == "serverless"
