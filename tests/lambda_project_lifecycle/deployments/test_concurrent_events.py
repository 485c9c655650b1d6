"""Events handled side by side: EventBridge delivers at least once, Lambda runs invocations in
parallel, and SageMaker refuses a name that exists and an endpoint in progress.

A race is played exactly: when the first invocation is about to make a SageMaker resource
(it already found it missing), the second runs to its end, so the first meets SageMaker's
refusal (the emulator support plays it: moto would overwrite). What the user notices: no
error answer, no FAILED notice, and the endpoint serving what the last decision says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.support.deployments import DeployWorld


@contextmanager
def first_overtaken_at(
    world: DeployWorld, operation: str, overtaking: Callable[[], dict[str, Any]]
) -> Iterator[list[dict[str, Any]]]:
    """Run ``overtaking`` to its end when ``operation`` is first about to be called."""
    results: list[dict[str, Any]] = []
    started: list[bool] = []

    def overtake(**_: Any) -> None:
        if not started:  # once: the overtaking run's own calls go through
            started.append(True)
            results.append(overtaking())

    event = f"before-parameter-build.sagemaker.{operation}"
    world.sagemaker.meta.events.register_first(event, overtake)
    try:
        yield results
    finally:
        world.sagemaker.meta.events.unregister(event, overtake)
    assert results, f"nothing called {operation}"


def statuses(world: DeployWorld) -> list[str]:
    return [str(notice.get("status")) for notice in world.notices()]


@pytest.mark.parametrize("operation", ["CreateModel", "CreateEndpointConfig", "CreateEndpoint"])
def test_one_approval_delivered_twice_at_once_deploys_once_without_failure(
    world: DeployWorld, operation: str
) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("prod"))
    world.set_status(package, "Approved")
    event = world.package_event(package, "Approved")
    endpoint = names.endpoint("production")

    with first_overtaken_at(world, operation, lambda: world.deploy_event(event)) as second:
        first = world.deploy_event(event)

    assert second[0]["action"] == "deploying", second
    assert first["action"] in ("unchanged", "ignored"), first
    assert world.gap_calls(operation), "SageMaker refused the second create"
    assert world.served_packages(endpoint) == {"AllTraffic": package}
    assert "FAILED" not in statuses(world)
    world.gaps.set_endpoint_status(endpoint, "InService")
    assert world.endpoint_event(endpoint)["action"] != "failed"
    assert "FAILED" not in statuses(world)


def test_two_approvals_in_one_group_in_the_same_second_converge_on_the_newer(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    group = names.model_package_group("prod")
    endpoint = names.endpoint("production")
    v1 = world.register_package(group)
    world.approve(v1)
    world.endpoint_event(endpoint)
    v2, v3 = world.register_package(group), world.register_package(group)
    for package in (v2, v3):
        world.set_status(package, "Approved")
    older, newer = world.package_event(v2, "Approved"), world.package_event(v3, "Approved")
    older["time"] = newer["time"]
    world.notices()

    def newer_updates_first() -> dict[str, Any]:
        result = world.deploy_event(newer)
        world.gaps.set_endpoint_status(endpoint, "Updating")  # SageMaker is on it
        return result

    with first_overtaken_at(world, "UpdateEndpoint", newer_updates_first) as overtaking:
        late = world.deploy_event(older)

    assert overtaking[0]["action"] == "deploying", overtaking
    assert late["action"] in ("pending", "ignored"), late
    assert "FAILED" not in statuses(world)
    world.gaps.set_endpoint_status(endpoint, "InService")
    world.endpoint_event(endpoint)
    assert world.served_packages(endpoint) == {"AllTraffic": v3}
    assert "FAILED" not in statuses(world)


def test_an_update_refused_because_another_started_one_is_applied_on_in_service(
    world: DeployWorld,
) -> None:
    """The endpoint was InService when described; SageMaker then refuses: busy, not failed."""
    names = world.create_project()
    group = names.model_package_group("dev")
    endpoint = names.endpoint("development")
    v1, v2 = world.register_package(group), world.register_package(group)
    world.approve(v1)
    world.endpoint_event(endpoint)
    world.notices()

    def someone_updates() -> dict[str, Any]:
        world.gaps.set_endpoint_status(endpoint, "Updating")
        return {}

    with first_overtaken_at(world, "UpdateEndpoint", someone_updates):
        result = world.approve(v2)

    assert result["action"] == "pending", result
    assert "is Updating (another invocation changed it meanwhile)" in result["detail"]
    assert "FAILED" not in statuses(world)
    world.gaps.set_endpoint_status(endpoint, "InService")
    world.endpoint_event(endpoint)
    assert world.served_packages(endpoint) == {"AllTraffic": v2}


@pytest.mark.parametrize("on_delete", ["retain-data", "delete-all"])
@pytest.mark.parametrize("creating", [False, True], ids=["in-service", "still-creating"])
def test_a_delete_racing_an_approval_past_its_check_leaves_nothing_of_the_project(
    world: DeployWorld, on_delete: str, creating: bool
) -> None:
    names = world.create_project(OnDelete=on_delete)
    package = world.register_package(names.model_package_group("prod"))
    endpoint = names.endpoint("production")
    answers: list[dict[str, Any]] = []

    def delete_now() -> dict[str, Any]:
        answers.append(world.delete_project(names, OnDelete=on_delete))
        return answers[-1]

    if creating:  # SageMaker is still creating the endpoint when the approval checks again
        world.sagemaker.meta.events.register(
            "after-call.sagemaker.CreateEndpoint",
            lambda **_: world.gaps.set_endpoint_status(endpoint, "Creating"),
        )
    with first_overtaken_at(world, "CreateModel", delete_now):  # the check was passed
        result = world.approve(package)

    assert answers[0]["Status"] == "SUCCESS", answers[0]
    assert result["action"] == "removed", result
    if creating:
        assert world.endpoint_names() & {endpoint}, "SageMaker refuses while Creating"
        world.gaps.set_endpoint_status(endpoint, "InService")
        world.endpoint_event(endpoint)
    mine = {
        "endpoints": world.endpoint_names(),
        "configs": world.config_names(),
        "models": world.model_names(),
        "alarms": world.alarm_names(),
    }
    assert {k: {n for n in v if names.project_id in n} for k, v in mine.items()} == {
        k: set() for k in mine
    }
    assert world.record(endpoint) is None
    assert "FAILED" not in statuses(world)
