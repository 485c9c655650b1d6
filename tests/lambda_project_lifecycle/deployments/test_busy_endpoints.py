"""An endpoint SageMaker is still creating or updating is not gone until SageMaker says so.

SageMaker refuses DeleteEndpoint while an endpoint is Creating or Updating (a
ValidationException, the same code it gives for an endpoint that does not exist;
the refusal is emulated in tests/support/emulator_gaps.py). What the user notices:
which endpoints, configs, models, alarms and scaling targets exist afterwards, what
the endpoint serves, and what they were told.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lambda_project_lifecycle.naming import ProjectNames
from tests.support.deployments import DeployWorld

PROD_SCALING = {
    "schema_version": 1,
    "production": {"realtime": {"autoscaling": {"min": 1, "max": 3}}},
}


def owned_by(names: ProjectNames, found: set[str]) -> set[str]:
    return {name for name in found if names.project_id in name}


def everything_of(world: DeployWorld, names: ProjectNames) -> dict[str, set[str]]:
    return {
        "endpoints": owned_by(names, world.endpoint_names()),
        "configs": owned_by(names, world.config_names()),
        "models": owned_by(names, world.model_names()),
        "alarms": owned_by(names, world.alarm_names()),
        "scaling_targets": owned_by(names, world.scalable_targets()),
    }


def nothing() -> dict[str, set[str]]:
    return {k: set() for k in ("endpoints", "configs", "models", "alarms", "scaling_targets")}


# --- rejecting the only package while SageMaker creates the endpoint ----------------------


def test_rejecting_the_only_package_while_the_endpoint_is_creating_removes_it_once_in_service(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("prod"))
    world.approve(package)
    endpoint = names.endpoint("production")
    world.gaps.set_endpoint_status(endpoint, "Creating")

    result = world.reject(package)

    assert result["action"] == "pending", result
    assert "is Creating and is removed as soon as SageMaker is done with it" in result["detail"]
    assert world.endpoint_names() == {endpoint}, "SageMaker refused: it is still there"
    assert world.served_packages(endpoint) == {"AllTraffic": package}
    assert world.config_names() and world.model_names(), "what it uses is kept until it goes"
    record = world.record(endpoint)
    assert record is not None
    assert (record["Status"], record["Pending"]) == ("Pending", True)

    world.gaps.set_endpoint_status(endpoint, "InService")
    removed = world.endpoint_event(endpoint)

    assert removed["action"] == "removed"
    assert everything_of(world, names) == nothing()
    assert [n["status"] for n in world.notices()] == ["STARTED", "PENDING", "REMOVED"]


def test_a_rejected_endpoint_that_then_fails_is_removed_with_what_it_used(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"))
    world.approve(package)
    endpoint = names.endpoint("development")
    world.gaps.set_endpoint_status(endpoint, "Creating")
    assert world.reject(package)["action"] == "pending"

    world.gaps.set_endpoint_status(endpoint, "Failed", "ping health check failed")
    result = world.endpoint_event(endpoint, "FAILED", "ping health check failed")

    assert result["action"] == "removed"
    assert everything_of(world, names) == nothing()


def test_rolling_back_while_the_endpoint_is_updating_waits_then_serves_the_previous_package(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    group = names.model_package_group("prod")
    v1, v2 = world.register_package(group), world.register_package(group)
    endpoint = names.endpoint("production")
    world.approve(v1)
    world.endpoint_event(endpoint)
    world.approve(v2)
    world.gaps.set_endpoint_status(endpoint, "Updating")

    assert world.reject(v2)["action"] == "pending"
    world.gaps.set_endpoint_status(endpoint, "InService")
    assert world.endpoint_event(endpoint)["action"] == "deploying"

    assert world.served_packages(endpoint) == {"AllTraffic": v1}


# --- deleting a project while SageMaker creates its endpoint ------------------------------


def delete_while_creating(world: DeployWorld) -> tuple[ProjectNames, str]:
    names = world.create_project()
    world.publish_config(names, "prod", PROD_SCALING)
    world.approve(world.register_package(names.model_package_group("dev")))
    world.endpoint_event(names.endpoint("development"))
    world.approve(world.register_package(names.model_package_group("prod")))
    endpoint = names.endpoint("production")
    world.gaps.set_endpoint_status(endpoint, "Creating")
    world.notices()
    answer = world.delete_project(names)
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    return names, endpoint


def test_a_project_deleted_while_its_endpoint_is_creating_loses_it_once_in_service(
    world: DeployWorld,
) -> None:
    names, endpoint = delete_while_creating(world)

    # The development stage is gone now; production waits for SageMaker, and says so.
    left = everything_of(world, names)
    assert left["endpoints"] == {endpoint}
    assert left["configs"] and all("-production-" in name for name in left["configs"])
    assert left["models"] == {names.model("prod", 1)}
    record = world.record(endpoint)
    assert record is not None
    assert (record["ProjectDeleted"], record["Status"]) == (True, "DeletePending")

    world.gaps.set_endpoint_status(endpoint, "InService")
    result = world.endpoint_event(endpoint)

    assert result["action"] == "removed"
    assert everything_of(world, names) == nothing()
    assert world.record(endpoint) is None
    (notice,) = world.notices()
    assert notice["status"] == "REMOVED"
    assert f"project {names.project_id} was deleted" in notice["summary"]


def test_the_reaper_removes_an_endpoint_of_a_deleted_project_whose_event_was_lost(
    world: DeployWorld,
) -> None:
    names, endpoint = delete_while_creating(world)
    world.gaps.set_endpoint_status(endpoint, "InService")  # ... and its event never came
    world.clock[0] += dt.timedelta(hours=1)  # long before any TTL: production has none

    result = world.reap()

    assert result["endpoints"] == [endpoint]
    assert everything_of(world, names) == nothing()
    assert world.record(endpoint) is None


def test_the_reaper_waits_while_the_deleted_projects_endpoint_is_still_creating(
    world: DeployWorld,
) -> None:
    _, endpoint = delete_while_creating(world)

    assert world.reap()["endpoints"] == []
    assert world.endpoint_names() == {endpoint}


def test_the_reaper_never_touches_a_live_projects_production_endpoint(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    world.approve(world.register_package(names.model_package_group("prod")))
    world.clock[0] += dt.timedelta(days=90)

    assert world.reap()["endpoints"] == []
    assert world.endpoint_names() == {names.endpoint("production")}


def test_an_approval_while_the_project_is_being_deleted_makes_no_endpoint(
    world: DeployWorld,
) -> None:
    """The approval arrives after the Delete removed the endpoints and before it removes
    the project's registry records."""
    names = world.create_project()
    package = world.register_package(names.model_package_group("prod"))
    world.set_status(package, "Approved")
    approval = world.package_event(package, "Approved")
    answers: list[dict[str, Any]] = []

    def approve_now(**_: Any) -> None:
        if not answers:
            answers.append(world.deploy_event(approval))

    # Model groups are the step after the endpoints.
    world.sagemaker.meta.events.register(
        "before-call.sagemaker.ListModelPackageGroups", approve_now
    )
    assert world.delete_project(names)["Status"] == "SUCCESS"

    (answer,) = answers
    assert answer["action"] == "ignored"
    assert "is being deleted" in answer["detail"]
    assert everything_of(world, names) == nothing()
