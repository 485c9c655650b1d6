"""The reaper deletes development endpoints past their TTL, with a fixed clock; never production."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.awsrequest import AWSResponse

from lambda_project_lifecycle.naming import ProjectNames
from tests.support.deployments import DeployWorld


def later(world: DeployWorld, hours: float) -> None:
    world.clock[0] = world.clock[0] + dt.timedelta(hours=hours)


def dev_and_prod(world: DeployWorld, ttl_hours: int = 24) -> ProjectNames:
    names = world.create_project()
    world.publish_config(
        names, "dev", {"schema_version": 1, "development": {"ttl_hours": ttl_hours}}
    )
    world.approve(world.register_package(names.model_package_group("dev")))
    world.approve(world.register_package(names.model_package_group("prod")))
    world.notices()
    return names


def test_a_development_endpoint_lives_until_its_ttl_then_goes_with_everything_it_used(
    world: DeployWorld,
) -> None:
    names = dev_and_prod(world, ttl_hours=24)
    development, production = names.endpoint("development"), names.endpoint("production")
    world.endpoint_event(development)  # autoscaling, tests
    world.notices()

    later(world, 23.5)
    assert world.reap() == {"action": "reaped", "endpoints": []}
    assert world.endpoint_names() == {development, production}

    later(world, 1)
    assert world.reap() == {"action": "reaped", "endpoints": [development]}

    assert world.endpoint_names() == {production}
    assert all("-production-" in c for c in world.config_names())
    assert world.model_names() == {names.model("prod", 1)}
    assert world.alarm_names() == {f"{production}-AllTraffic-5xx"}
    record = world.record(development)  # kept, serving nothing: the reaper's mark
    assert record is not None
    assert (record["Status"], record["Desired"], record["Applied"]) == ("Removed", {}, {})
    (notice,) = world.notices()
    assert notice["status"] == "REMOVED" and "expired at 2026-11-23T10:00:00Z" in notice["summary"]

    again = world.register_package(names.model_package_group("dev"))
    world.approve(again)  # an approval deploys again over the kept record
    assert world.served_packages(development) == {"AllTraffic": again}


def test_each_deployment_renews_the_ttl(world: DeployWorld) -> None:
    names = dev_and_prod(world, ttl_hours=6)
    later(world, 5)
    world.approve(world.register_package(names.model_package_group("feature")))
    later(world, 5)  # 10 h after the first deployment, 5 h after the second
    assert world.reap()["endpoints"] == []
    later(world, 1.5)
    assert world.reap()["endpoints"] == [names.endpoint("development")]


def test_production_is_never_reaped_whatever_its_tags_say(world: DeployWorld) -> None:
    names = dev_and_prod(world)
    production = names.endpoint("production")
    arn = world.sagemaker.describe_endpoint(EndpointName=production)["EndpointArn"]
    world.sagemaker.add_tags(
        ResourceArn=arn,
        Tags=[
            {"Key": "mlops-portfolio:expires-at", "Value": "2026-11-01T00:00:00Z"},
            {"Key": "mlops-portfolio:stage", "Value": "development"},
        ],
    )
    later(world, 24 * 30)
    assert world.reap()["endpoints"] == [names.endpoint("development")]
    assert world.endpoint_names() == {production}


def test_endpoints_without_the_platforms_tags_or_still_busy_are_left(world: DeployWorld) -> None:
    names = dev_and_prod(world)
    development = names.endpoint("development")
    world.sagemaker.create_endpoint(
        EndpointName="sagemaker-handmade-development",
        EndpointConfigName=world.sagemaker.describe_endpoint(EndpointName=development)[
            "EndpointConfigName"
        ],
    )
    world.gaps.set_endpoint_status(development, "Updating")
    later(world, 48)
    assert world.reap()["endpoints"] == []
    world.gaps.set_endpoint_status(development, "InService")
    assert world.reap()["endpoints"] == [development]
    assert "sagemaker-handmade-development" in world.endpoint_names()


def test_an_endpoint_that_cannot_be_deleted_does_not_stop_the_others(world: DeployWorld) -> None:
    churn = dev_and_prod(world)
    fraud = world.create_project("fraud-model", "p-0therpr0ject1")
    world.approve(world.register_package(fraud.model_package_group("dev")))
    world.notices()
    later(world, 48)

    def refuse_churns_endpoint(params: dict[str, Any], **_: Any) -> Any:
        if churn.project_id in str(params.get("body", "")):
            error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
            return AWSResponse("https://x", 400, {}, None), {
                "Error": error,
                "ResponseMetadata": {"HTTPStatusCode": 400, "MaxAttemptsReached": True},
            }
        return None

    world.sagemaker.meta.events.register_first(
        "before-call.sagemaker.DeleteEndpoint", refuse_churns_endpoint
    )
    result = world.reap()

    assert result["endpoints"] == [fraud.endpoint("development")]
    assert list(result["failed"]) == [churn.endpoint("development")]
    assert "ThrottlingException" in result["failed"][churn.endpoint("development")]
    statuses = sorted((n["status"], n["project_id"]) for n in world.notices())
    assert statuses == [("FAILED", churn.project_id), ("REMOVED", fraud.project_id)]

    world.sagemaker.meta.events.unregister(
        "before-call.sagemaker.DeleteEndpoint", refuse_churns_endpoint
    )
    assert world.reap()["endpoints"] == [churn.endpoint("development")], "the next run"
    assert world.endpoint_names() == {churn.endpoint("production")}
