"""The role a project's deployed models run as: its own training role, else the shared one.

The training role is made by the project's product stack (moto's CloudFormation does
not run product stacks here, so the tests make it as the stack would: trusting
SageMaker, tagged with the project). It reaches only the project's prefix of the data
bucket, so an approved model cannot read another project's data; the shared role is
only for projects without one (a plain git repository has no training project).
"""

from __future__ import annotations

from lambda_project_lifecycle.naming import ProjectNames
from tests.support.deployments import MODEL_ROLE_ARN, DeployWorld


def execution_roles(world: DeployWorld, names: ProjectNames) -> set[str]:
    return {
        world.sagemaker.describe_model(ModelName=name)["ExecutionRoleArn"]
        for name in world.model_names()
        if names.project_id in name
    }


def test_a_projects_models_run_as_its_own_training_role(world: DeployWorld) -> None:
    names = world.create_project(Scenario="advanced")
    role = world.create_training_role(names)
    for kind in ("champion", "challenger", "dev"):
        result = world.approve(world.register_package(names.model_package_group(kind)))
        assert result["model_role"] == role

    assert execution_roles(world, names) == {role}
    record = world.record(names.endpoint("production"))
    assert record is not None and record["ModelRoleArn"] == role
    assert all(n["details"]["model_role"] == role for n in world.notices())


def test_a_project_without_a_training_role_uses_the_shared_role(world: DeployWorld) -> None:
    names = world.create_project()  # as with a plain git repository: no training role
    world.approve(world.register_package(names.model_package_group("prod")))
    assert execution_roles(world, names) == {MODEL_ROLE_ARN}


def test_a_role_with_the_training_roles_name_but_another_projects_tag_is_not_used(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    world.create_training_role(names, project_id="p-someoneelse1")
    world.approve(world.register_package(names.model_package_group("dev")))
    assert execution_roles(world, names) == {MODEL_ROLE_ARN}


def test_each_project_gets_its_own_role(world: DeployWorld) -> None:
    churn = world.create_project()
    fraud = world.create_project("fraud-model", "p-0therpr0ject1")
    roles = {names: world.create_training_role(names) for names in (churn, fraud)}
    for names in (churn, fraud):
        world.approve(world.register_package(names.model_package_group("prod")))

    assert execution_roles(world, churn) == {roles[churn]}
    assert execution_roles(world, fraud) == {roles[fraud]}
