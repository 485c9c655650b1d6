"""Plans: variants, weights, blue/green settings and names, without any AWS call."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_project_lifecycle.deployments.config import StageConfig, load_schema, parse_stage_config
from lambda_project_lifecycle.deployments.plan import plan_endpoint, variant_for
from lambda_project_lifecycle.deployments.records import VariantState
from lambda_project_lifecycle.naming import ProjectNames, check_name
from tests.support.deployments import deploy_config_schema

LONGEST = ProjectNames("m" * 32, "p-" + "x" * 14)
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/{version}"


def stage(name: str, scenario: str = "baseline", **settings: Any) -> StageConfig:
    return parse_stage_config(
        {"schema_version": 1, name: settings},
        stage=name,
        scenario=scenario,
        schema=load_schema(deploy_config_schema()),
        source="config.json",
    )


def package(names: ProjectNames, kind: str, version: int = 123456) -> VariantState:
    arn = ARN.format(group=names.model_package_group(kind), version=version)
    return VariantState(kind, arn, "2026-11-22T10:00:00+00:00")


@pytest.mark.parametrize(
    ("scenario", "stage_name", "kind", "variant"),
    [
        ("baseline", "development", "feature", "AllTraffic"),
        ("baseline", "development", "dev", "AllTraffic"),
        ("baseline", "production", "prod", "AllTraffic"),
        ("advanced", "development", "dev", "AllTraffic"),
        ("advanced", "production", "champion", "champion"),
        ("advanced", "production", "challenger", "challenger"),
    ],
)
def test_each_group_kind_has_its_variant(
    scenario: str, stage_name: str, kind: str, variant: str
) -> None:
    assert variant_for(scenario, stage_name, kind) == variant


def test_the_same_desired_state_always_gets_the_same_config_name() -> None:
    config = stage("production")
    desired = {"AllTraffic": package(LONGEST, "prod")}
    first = plan_endpoint(LONGEST, "baseline", config, desired).plan
    second = plan_endpoint(LONGEST, "baseline", config, dict(desired)).plan
    other = plan_endpoint(
        LONGEST, "baseline", config, {"AllTraffic": package(LONGEST, "prod", 7)}
    ).plan
    assert first and second and other
    assert first.config_name == second.config_name != other.config_name


@pytest.mark.parametrize(
    ("strategy", "routing"),
    [
        ({"strategy": "all-at-once"}, {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}),
        (
            {"strategy": "linear", "linear": {"size_percent": 20, "wait_seconds": 120}},
            {
                "Type": "LINEAR",
                "WaitIntervalInSeconds": 120,
                "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20},
            },
        ),
    ],
)
def test_traffic_shifting_follows_the_stage(
    strategy: dict[str, Any], routing: dict[str, Any]
) -> None:
    config = stage("production", deployment=strategy)
    plan = plan_endpoint(LONGEST, "baseline", config, {"AllTraffic": package(LONGEST, "prod")}).plan
    assert plan is not None
    deployment = plan.deployment_config()
    assert deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == routing
    assert deployment["BlueGreenUpdatePolicy"]["TerminationWaitInSeconds"] == 300


def test_autoscaling_only_for_realtime_variants_whose_max_is_above_min() -> None:
    desired = {"AllTraffic": package(LONGEST, "prod")}
    scaled = plan_endpoint(LONGEST, "baseline", stage("production"), desired).plan
    fixed = plan_endpoint(
        LONGEST,
        "baseline",
        stage(
            "production",
            realtime={"autoscaling": {"min": 2, "max": 2}, "initial_instance_count": 2},
        ),
        desired,
    ).plan
    serverless = plan_endpoint(
        LONGEST, "baseline", stage("production", mode="serverless"), desired
    ).plan
    assert scaled and fixed and serverless
    assert scaled.variants[0].autoscaling == {"min": 1, "max": 2, "target": 100}
    assert fixed.variants[0].autoscaling is None
    assert serverless.variants[0].autoscaling is None
    assert "ServerlessConfig" in serverless.variants[0].request


@pytest.mark.parametrize("mode", ["split", "shadow"])
def test_names_fit_at_the_longest_legal_project_name_and_id(mode: str) -> None:
    config = stage("production", "advanced", champion_challenger={"mode": mode})
    desired = {
        "champion": package(LONGEST, "champion", 99999999),
        "challenger": package(LONGEST, "challenger", 99999999),
    }
    plan = plan_endpoint(LONGEST, "advanced", config, desired).plan
    assert plan is not None
    check_name("endpoint", plan.endpoint_name)
    check_name("endpoint_config", plan.config_name)
    for variant in plan.variants:
        check_name("model", variant.model_name)
        assert LONGEST.project_id in variant.model_name
    for alarm in plan.own_alarms.values():
        check_name("cloudwatch_alarm", alarm)
    json.dumps(plan.config_request())
