"""The role a project's deployed models run as: a model role (the platform's shared one, or the
project's own when its template made one), never the project's training role (which may
approve model packages and read the repository token).

The training role is made by the project's product stack (moto's CloudFormation does not run
product stacks here, so the tests make it as the stack would: trusting SageMaker, tagged with
the project). What the user notices: the role each SageMaker model runs as, and the role the
deployment record and the notices name.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lambda_project_lifecycle.lifecycle import Settings
from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.project_registry import load_project
from template_common.settings import TemplateSettings
from tests.support.deployments import MODEL_ROLE_ARN, DeployWorld


def execution_roles(world: DeployWorld, names: ProjectNames) -> set[str]:
    return {
        world.sagemaker.describe_model(ModelName=name)["ExecutionRoleArn"]
        for name in world.model_names()
        if names.project_id in name
    }


def test_a_projects_models_never_run_as_its_training_role(world: DeployWorld) -> None:
    names = world.create_project(Scenario="advanced")
    training_role = world.create_training_role(names)
    for kind in ("champion", "challenger", "dev"):
        result = world.approve(world.register_package(names.model_package_group(kind)))
        assert result["model_role"] == MODEL_ROLE_ARN

    assert execution_roles(world, names) == {MODEL_ROLE_ARN} != {training_role}
    record = world.record(names.endpoint("production"))
    assert record is not None and record["ModelRoleArn"] == MODEL_ROLE_ARN
    assert all(n["details"]["model_role"] == MODEL_ROLE_ARN for n in world.notices())


def test_a_project_without_a_training_role_uses_the_model_role_too(world: DeployWorld) -> None:
    names = world.create_project()  # as with a plain git repository: no training role
    world.approve(world.register_package(names.model_package_group("prod")))
    assert execution_roles(world, names) == {MODEL_ROLE_ARN}


def create_project_model_role(world: DeployWorld, names: ProjectNames) -> str:
    """The project's own model role as its product stack makes it with model_role_isolation
    "per-project" (products/model_role.py): under the platform's model-role path."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = world.client("iam").create_role(
        RoleName=f"SC-123456789012-pp-{names.project_id}-ModelRole-X1Y2Z3",
        Path=TemplateSettings().model_role_path,
        AssumeRolePolicyDocument=json.dumps(trust),
    )
    return str(role["Role"]["Arn"])


def test_a_project_with_its_own_model_role_runs_its_models_as_that_role(
    world: DeployWorld,
) -> None:
    own = ProjectNames("churn-model", "p-ownmodelrole1")
    own_role = create_project_model_role(world, own)
    world.create_project(own.project_name, own.project_id, ModelRoleArn=own_role)
    shared = world.create_project("fraud-model", "p-sharedrole001")

    for names in (own, shared):
        world.approve(world.register_package(names.model_package_group("prod")))

    assert execution_roles(world, own) == {own_role}
    assert execution_roles(world, shared) == {MODEL_ROLE_ARN}
    record = world.record(own.endpoint("production"))
    assert record is not None and record["ModelRoleArn"] == own_role


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("arn:aws:iam::123456789012:user/alice", "is not the ARN of an IAM role"),
        ("sagemaker-churn-model-model", "is not the ARN of an IAM role"),
    ],
)
def test_a_model_role_that_is_no_role_arn_fails_the_create_and_makes_nothing(
    world: DeployWorld, value: str, says: str
) -> None:
    answer = world.lifecycle_create(ProjectId="p-badmodelrole1", ModelRoleArn=value)

    assert answer["Status"] == "FAILED"
    assert "ModelRoleArn" in answer["Reason"] and says in answer["Reason"]
    table = world.lifecycle_settings.registry_table
    assert load_project(world.client("dynamodb"), table, "p-badmodelrole1") is None


def test_a_per_project_platform_refuses_a_new_project_whose_version_makes_no_model_role(
    world: DeployWorld,
) -> None:
    world.lifecycle_settings = replace(world.lifecycle_settings, model_role_isolation="per-project")
    refused = world.lifecycle_create(ProjectId="p-noownrole0001")
    names = ProjectNames("churn-model", "p-withownrole01")
    accepted = world.lifecycle_create(
        ProjectId=names.project_id, ModelRoleArn=create_project_model_role(world, names)
    )

    assert refused["Status"] == "FAILED"
    assert "ModelRoleIsolation per-project" in refused["Reason"]
    assert "ModelRoleArn is empty" in refused["Reason"]
    assert accepted["Status"] == "SUCCESS", accepted["Reason"]
    table = world.lifecycle_settings.registry_table
    assert load_project(world.client("dynamodb"), table, "p-noownrole0001") is None


def test_the_lifecycle_reads_the_platforms_isolation_from_its_environment() -> None:
    environ = {"PROJECT_REGISTRY_TABLE": "t", "MODEL_ROLE_ISOLATION": "per-project"}
    assert Settings.from_environment(environ).model_role_isolation == "per-project"
    assert Settings.from_environment({"PROJECT_REGISTRY_TABLE": "t"}).model_role_isolation == (
        "shared"
    )


def test_an_update_keeps_the_model_role_the_projects_models_run_as(world: DeployWorld) -> None:
    """A product version without the role (or with another) would have CloudFormation delete
    the role under the project's endpoints: the Update is refused and rolls back."""
    names = ProjectNames("churn-model", "p-keepsitsrole1")
    role = create_project_model_role(world, names)
    created = {"ProjectId": names.project_id, "ModelRoleArn": role}
    world.create_project(names.project_name, names.project_id, ModelRoleArn=role)

    dropped = world.lifecycle_update(created, ModelRoleArn="")
    swapped = world.lifecycle_update(created, ModelRoleArn=MODEL_ROLE_ARN)
    kept = world.lifecycle_update(created, ModelRoleArn=role)

    assert dropped["Status"] == "FAILED"
    assert (
        f"ModelRoleArn cannot change after the project's models run as {role}"
        in (dropped["Reason"])
    )
    assert swapped["Status"] == "FAILED" and MODEL_ROLE_ARN in swapped["Reason"]
    assert kept["Status"] == "SUCCESS", kept["Reason"]
    table = world.lifecycle_settings.registry_table
    record = load_project(world.client("dynamodb"), table, names.project_id)
    assert record is not None and record["ModelRoleArn"] == role


def test_an_update_may_give_a_shared_role_project_its_own(world: DeployWorld) -> None:
    names = ProjectNames("churn-model", "p-getsownrole01")
    world.create_project(names.project_name, names.project_id)
    role = create_project_model_role(world, names)

    answer = world.lifecycle_update({"ProjectId": names.project_id}, ModelRoleArn=role)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    table = world.lifecycle_settings.registry_table
    record = load_project(world.client("dynamodb"), table, names.project_id)
    assert record is not None and record["ModelRoleArn"] == role
