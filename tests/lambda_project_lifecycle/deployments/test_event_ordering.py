"""Which package an endpoint serves when model package events repeat, tie or cross.

SageMaker sends "Model Package State Change" for every change of a package, each
with the package's current status (UpdatedModelPackageFields says what changed),
and EventBridge may deliver events late, twice, or to two Lambdas at once. What
the user notices: the package the endpoint serves, and the notices.
"""

from __future__ import annotations

from typing import Any

import pytest

from lambda_project_lifecycle.deployments.context import DeploymentContext
from tests.support.deployments import DeployWorld

# --- events for changes that are not approvals ------------------------------------------


@pytest.mark.parametrize(
    "changed",
    [["CustomerMetadataProperties"], ["ModelLifeCycle"], ["ApprovalDescription"]],
)
def test_an_edit_of_an_older_approved_package_does_not_take_production_back_to_it(
    world: DeployWorld, changed: list[str]
) -> None:
    names = world.create_project()
    group = names.model_package_group("prod")
    endpoint = names.endpoint("production")
    v1, v2 = world.register_package(group), world.register_package(group)
    world.approve(v1)
    world.endpoint_event(endpoint)
    world.approve(v2)
    world.endpoint_event(endpoint)
    world.notices()
    updates_before = len(world.gap_calls("UpdateEndpoint"))
    edit = world.package_event(v1, "Approved")  # v1 is still Approved; its metadata changed
    edit["detail"]["UpdatedModelPackageFields"] = changed

    result = world.deploy_event(edit)

    assert result["action"] == "ignored"
    assert f"only {', '.join(changed)} changed" in result["detail"]
    assert world.served_packages(endpoint) == {"AllTraffic": v2}
    assert len(world.gap_calls("UpdateEndpoint")) == updates_before
    assert world.notices() == []


def test_a_package_registered_as_approved_is_deployed(world: DeployWorld) -> None:
    """A registration event lists no updated fields (the pipeline may register Approved)."""
    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"), status="Approved")
    event = world.package_event(package, "Approved")
    del event["detail"]["UpdatedModelPackageFields"]

    assert world.deploy_event(event)["action"] == "deploying"
    assert world.served_packages(names.endpoint("development")) == {"AllTraffic": package}


def test_two_approvals_in_the_same_second_keep_the_newer_package_whatever_the_order(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    group = names.model_package_group("prod")
    v1, v2 = world.register_package(group), world.register_package(group)
    for package in (v1, v2):
        world.set_status(package, "Approved")
    older, newer = world.package_event(v1, "Approved"), world.package_event(v2, "Approved")
    older["time"] = newer["time"]  # EventBridge times have a resolution of one second

    world.deploy_event(newer)
    late = world.deploy_event(older)

    assert late["action"] == "ignored"
    assert world.served_packages(names.endpoint("production")) == {"AllTraffic": v2}


# --- an approval and a rejection of the same package at the same time --------------------


def test_a_rejection_handled_while_the_approval_is_read_is_never_deployed(
    world: DeployWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("prod"))
    world.set_status(package, "Approved")
    approval = world.package_event(package, "Approved")
    read_config = DeploymentContext.stage_config
    rejections: list[dict[str, Any]] = []

    def config_while_rejected(self: Any, project: Any, stage: str) -> Any:
        if not rejections:  # the user rejects while this approval is being handled
            rejections.append(world.reject(package))
        return read_config(self, project, stage)

    monkeypatch.setattr(DeploymentContext, "stage_config", config_while_rejected)

    result = world.deploy_event(approval)

    assert rejections[0]["action"] == "ignored", "nothing was deployed yet"
    assert result["action"] == "ignored"
    assert "rejected" in result["detail"]
    assert world.endpoint_names() == set()
    assert world.model_names() == set()
    record = world.record(names.endpoint("production"))
    assert record is not None and package in record["Rejected"]


def test_a_rejection_handled_while_the_approval_creates_the_endpoint_is_undone(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("prod"))
    endpoint = names.endpoint("production")
    rejections: list[dict[str, Any]] = []

    def reject_meanwhile(**_: Any) -> None:
        if not rejections:
            world.gaps.set_endpoint_status(endpoint, "Creating")  # as SageMaker answers
            rejections.append(world.reject(package))

    world.sagemaker.meta.events.register("after-call.sagemaker.CreateEndpoint", reject_meanwhile)

    result = world.approve(package)

    assert rejections[0]["action"] == "ignored", "the record did not hold the package yet"
    assert result["action"] == "pending", result
    assert "rejected" in result["superseded"]
    world.gaps.set_endpoint_status(endpoint, "InService")
    assert world.endpoint_event(endpoint)["action"] == "removed"
    assert world.endpoint_names() == set()
    assert world.config_names() == set() and world.model_names() == set()
    assert [n["status"] for n in world.notices()] == ["PENDING", "REMOVED"]


def test_a_late_copy_of_an_old_rejection_does_not_undo_a_later_approval(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    group = names.model_package_group("dev")
    v1, v2 = world.register_package(group), world.register_package(group)
    world.approve(v1)
    world.approve(v2)
    world.set_status(v2, "Rejected")
    rejection = world.package_event(v2, "Rejected")
    world.deploy_event(rejection)
    assert world.served_packages(names.endpoint("development")) == {"AllTraffic": v1}
    world.approve(v2)  # approved again, after the rejection

    again = world.deploy_event(rejection)  # EventBridge delivers the rejection once more

    assert again["action"] == "ignored"
    assert "approved again" in again["detail"]
    assert world.served_packages(names.endpoint("development")) == {"AllTraffic": v2}
