"""Deleting a project removes every endpoint, config, model, alarm and scaling target it has.

Checked by listing through moto after the Delete, for both OnDelete choices, with
live endpoints in both stages; another project's deployments are untouched.
"""

from __future__ import annotations

import pytest

from lambda_project_lifecycle.naming import ProjectNames
from tests.support.deployments import DeployWorld


def live_everywhere(world: DeployWorld, names: ProjectNames, scenario: str) -> None:
    production_kinds = ("champion", "challenger") if scenario == "advanced" else ("prod",)
    for kind in ("feature", "dev", *production_kinds):
        world.approve(world.register_package(names.model_package_group(kind)))
    for stage in ("development", "production"):
        world.endpoint_event(names.endpoint(stage))  # InService: autoscaling registered


def owned_by(names: ProjectNames, found: set[str]) -> set[str]:
    return {name for name in found if names.project_id in name}


@pytest.mark.parametrize("scenario", ["baseline", "advanced"])
@pytest.mark.parametrize("on_delete", ["retain-data", "delete-all"])
def test_project_delete_with_live_endpoints_leaves_nothing_of_the_project(
    world: DeployWorld, scenario: str, on_delete: str
) -> None:
    names = world.create_project(Scenario=scenario, OnDelete=on_delete)
    other = world.create_project("fraud-model", "p-0therpr0ject1", Scenario=scenario)
    prod_scaling = {
        "schema_version": 1,
        "production": {"realtime": {"autoscaling": {"min": 1, "max": 3}}},
    }
    world.publish_config(names, "prod", prod_scaling)
    live_everywhere(world, names, scenario)
    live_everywhere(world, other, scenario)
    assert len(owned_by(names, world.endpoint_names())) == 2
    assert owned_by(names, world.alarm_names())
    assert owned_by(names, world.scalable_targets())

    answer = world.delete_project(names, Scenario=scenario, OnDelete=on_delete)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert owned_by(names, world.endpoint_names()) == set()
    assert owned_by(names, world.config_names()) == set()
    assert owned_by(names, world.model_names()) == set()
    assert owned_by(names, world.alarm_names()) == set()
    assert owned_by(names, world.scalable_targets()) == set()
    for stage in ("development", "production"):
        assert world.record(names.endpoint(stage)) is None
    # The other project keeps all of its deployments.
    assert owned_by(other, world.endpoint_names()) == {
        other.endpoint("development"),
        other.endpoint("production"),
    }
    assert owned_by(other, world.alarm_names())
    assert owned_by(other, world.config_names())


def test_a_second_delete_and_a_delete_without_deployments_succeed(world: DeployWorld) -> None:
    names = world.create_project()
    live_everywhere(world, names, "baseline")
    assert world.delete_project(names)["Status"] == "SUCCESS"
    assert world.delete_project(names)["Status"] == "SUCCESS"
    bare = world.create_project("bare", "p-bare00000001")
    assert world.delete_project(bare)["Status"] == "SUCCESS"


def test_a_model_named_like_the_projects_but_not_tagged_for_it_is_left(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    lookalike = names.model("dev", 99)
    world.sagemaker.create_model(
        ModelName=lookalike,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/someone",
        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"},
    )
    assert world.delete_project(names)["Status"] == "SUCCESS"
    assert lookalike in world.model_names()
