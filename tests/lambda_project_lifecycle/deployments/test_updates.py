"""Updating a live endpoint: what SageMaker refuses, and the autoscaling around an update.

SageMaker does not update an endpoint between real-time and serverless (emulated in
tests/support/emulator_gaps.py). Autoscaling of a variant whose instance type changes
must be deregistered before the update; when the update is refused or rolled back,
the endpoint must scale again as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from lambda_project_lifecycle.errors import AwsCallError
from lambda_project_lifecycle.naming import ProjectNames
from tests.support.deployments import DeployWorld


def realtime(instance_type: str = "ml.m5.large", low: int = 1, high: int = 3) -> dict[str, Any]:
    return {
        "mode": "realtime",
        "realtime": {
            "instance_type": instance_type,
            "initial_instance_count": low,
            "autoscaling": {"min": low, "max": high, "target_invocations_per_instance": 100},
        },
    }


def scaling(world: DeployWorld) -> dict[str, tuple[int, int]]:
    reply = world.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )
    return {t["ResourceId"]: (t["MinCapacity"], t["MaxCapacity"]) for t in reply["ScalableTargets"]}


def live(world: DeployWorld, stage_settings: dict[str, Any]) -> tuple[ProjectNames, str, str]:
    """Production serving v1, InService (scaling registered); v2 registered, not approved."""
    names = world.create_project()
    world.publish_config(names, "prod", {"schema_version": 1, "production": stage_settings})
    group = names.model_package_group("prod")
    v1, v2 = world.register_package(group), world.register_package(group)
    world.approve(v1)
    world.endpoint_event(names.endpoint("production"))
    world.notices()
    return names, v1, v2


def target_of(names: ProjectNames) -> str:
    return f"endpoint/{names.endpoint('production')}/variant/AllTraffic"


# --- real-time <-> serverless ---------------------------------------------------------------


def test_switching_production_to_serverless_is_refused_naming_the_key_and_keeps_it_scaling(
    world: DeployWorld,
) -> None:
    names, v1, v2 = live(world, realtime())
    assert scaling(world) == {target_of(names): (1, 3)}
    world.publish_config(names, "prod", {"schema_version": 1, "production": {"mode": "serverless"}})

    result = world.approve(v2)  # returns: a refusal is not retried by EventBridge

    assert result["action"] == "failed"
    assert "key 'production.mode'" in result["detail"]
    assert "cannot update an endpoint between real-time and serverless" in result["detail"]
    assert world.served_packages(names.endpoint("production")) == {"AllTraffic": v1}
    assert scaling(world) == {target_of(names): (1, 3)}, "production keeps scaling"
    assert world.gap_calls("UpdateEndpoint") == []
    (notice,) = world.notices()
    assert notice["status"] == "FAILED" and "'production.mode'" in notice["summary"]

    # What the notice says to do: delete the endpoint, approve again.
    world.sagemaker.delete_endpoint(EndpointName=names.endpoint("production"))
    assert world.approve(v2)["action"] == "deploying"
    config = world.sagemaker.describe_endpoint_config(
        EndpointConfigName=world.sagemaker.describe_endpoint(
            EndpointName=names.endpoint("production")
        )["EndpointConfigName"]
    )
    assert "ServerlessConfig" in config["ProductionVariants"][0]
    assert world.served_packages(names.endpoint("production")) == {"AllTraffic": v2}


def test_switching_development_from_serverless_to_realtime_is_refused_naming_the_key(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    group = names.model_package_group("dev")
    v1, v2 = world.register_package(group), world.register_package(group)
    world.approve(v1)  # development is serverless by default
    world.publish_config(names, "dev", {"schema_version": 1, "development": {"mode": "realtime"}})

    result = world.approve(v2)

    assert result["action"] == "failed"
    assert "key 'development.mode'" in result["detail"]
    assert world.served_packages(names.endpoint("development")) == {"AllTraffic": v1}


# --- autoscaling around updates -------------------------------------------------------------


def test_a_refused_update_puts_back_the_scaling_it_had_to_remove(world: DeployWorld) -> None:
    names, v1, v2 = live(world, realtime("ml.m5.large"))
    world.publish_config(
        names, "prod", {"schema_version": 1, "production": realtime("ml.m5.xlarge", 2, 4)}
    )

    def throttled(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
        return AWSResponse("https://x", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400, "MaxAttemptsReached": True},
        }

    world.sagemaker.meta.events.register_first("before-call.sagemaker.UpdateEndpoint", throttled)
    with pytest.raises(AwsCallError, match="ThrottlingException"):
        world.approve(v2)

    assert scaling(world) == {target_of(names): (1, 3)}, "as before the refused update"
    assert world.served_packages(names.endpoint("production")) == {"AllTraffic": v1}


def test_a_rolled_back_update_scales_again_as_before(world: DeployWorld) -> None:
    names, v1, v2 = live(world, realtime("ml.m5.large"))
    endpoint = names.endpoint("production")
    old_config = world.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    world.publish_config(
        names, "prod", {"schema_version": 1, "production": realtime("ml.m5.xlarge", 2, 4)}
    )
    world.approve(v2)
    assert scaling(world) == {}, "deregistered: SageMaker refuses to change a scaled type"
    world.gaps.roll_back(endpoint, old_config, f"Alarm {endpoint}-AllTraffic-5xx fired")

    result = world.endpoint_event(endpoint)

    assert result["action"] == "rolled-back"
    assert scaling(world) == {target_of(names): (1, 3)}
    assert world.served_packages(endpoint) == {"AllTraffic": v1}


def test_turning_autoscaling_off_deregisters_the_old_target(world: DeployWorld) -> None:
    names, _, v2 = live(world, realtime(low=1, high=3))
    world.publish_config(
        names, "prod", {"schema_version": 1, "production": realtime(low=2, high=2)}
    )
    world.approve(v2)
    assert scaling(world) == {target_of(names): (1, 3)}, "kept during the update"

    world.endpoint_event(names.endpoint("production"))

    assert scaling(world) == {}, "a fixed count of 2, no longer overridden by scaling to 1..3"
