"""The role a project's deployed models run as: the platform's model role, never the project's
training role (which may approve model packages and read the repository token).

The training role is made by the project's product stack (moto's CloudFormation does not run
product stacks here, so the tests make it as the stack would: trusting SageMaker, tagged with
the project). What the user notices: the role each SageMaker model runs as, and the role the
deployment record and the notices name.
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
