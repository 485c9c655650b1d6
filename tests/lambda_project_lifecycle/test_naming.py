"""Every name a project gets fits its service's limit, for the longest legal name and id."""

from __future__ import annotations

import pytest

from lambda_project_lifecycle.errors import InvalidProjectError
from lambda_project_lifecycle.naming import (
    NAME_RULES,
    ProjectNames,
    check_name,
    validate_project_identity,
)
from lambda_project_lifecycle.scenarios import MODEL_GROUP_DESCRIPTIONS, STAGE_OF_GROUP

LONGEST_NAME = "m" * 32
LONGEST_ID = "p-" + "x" * 14
# Names at the limits, and names whose cut point falls next to dashes.
PROJECTS = [
    ("a", "p-1"),
    ("churn-model", "p-7gxpyr2wsl2k"),
    (LONGEST_NAME, LONGEST_ID),
    ("a" + "-" * 30 + "b", LONGEST_ID),
    ("abcdefghijklmnopqrstuvwx-------z", "p-2"),
]
STAGES = sorted(set(STAGE_OF_GROUP.values()))


def every_name(names: ProjectNames) -> list[tuple[str, str]]:
    """(kind, name) for each name a project's resources get."""
    result = [
        ("model_package_group", names.model_package_group(kind))
        for kind in MODEL_GROUP_DESCRIPTIONS
    ]
    result += [("endpoint", names.endpoint(stage)) for stage in STAGES]
    result += [("pipeline", names.pipeline(kind)) for kind in MODEL_GROUP_DESCRIPTIONS]
    result += [("endpoint_config", names.endpoint_config(stage, "0" * 10)) for stage in STAGES]
    result += [("model", names.model(kind, 99_999_999)) for kind in MODEL_GROUP_DESCRIPTIONS]
    result += [
        ("cloudwatch_alarm", names.rollback_alarm(stage, variant))
        for stage in STAGES
        for variant in ("AllTraffic", "champion", "challenger")
    ]
    result += [("scaling_policy", names.scaling_policy("production", "challenger"))]
    result += [
        ("codecommit_repository", names.repository()),
        ("codebuild_project", names.training_project()),
        ("iam_role", names.training_role()),
    ]
    result += [
        (kind, names.repository(kind))
        for kind in ("github_repository", "gitlab_project", "bitbucket_repository")
    ]
    result += [("log_group", names.training_log_group())]
    return result


@pytest.mark.parametrize(("name", "project_id"), PROJECTS)
def test_every_name_fits_its_service(name: str, project_id: str) -> None:
    validate_project_identity(name, project_id)
    for kind, resource_name in every_name(ProjectNames(name, project_id)):
        check_name(kind, resource_name)
        assert project_id in resource_name, "the id keeps names unique when the name is cut"
        assert not resource_name.endswith("-")


def test_the_longest_model_group_name_is_exactly_at_the_limit() -> None:
    names = ProjectNames(LONGEST_NAME, LONGEST_ID)
    assert (
        len(names.model_package_group("challenger")) == NAME_RULES["model_package_group"].max_length
    )
    assert names.model_package_group("challenger").endswith(f"-{LONGEST_ID}-challenger")
    assert names.prefix == f"sagemaker-{LONGEST_NAME}-{LONGEST_ID}"


def test_short_names_are_not_cut() -> None:
    names = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
    assert names.model_package_group("prod") == "sagemaker-churn-model-p-7gxpyr2wsl2k-prod"
    assert names.endpoint("production") == "sagemaker-churn-model-p-7gxpyr2wsl2k-production"


def test_two_projects_with_the_same_long_name_get_different_names() -> None:
    first = every_name(ProjectNames(LONGEST_NAME, "p-aaaaaaaaaaaa"))
    second = every_name(ProjectNames(LONGEST_NAME, "p-bbbbbbbbbbbb"))
    assert not {n for _, n in first} & {n for _, n in second}


@pytest.mark.parametrize(
    ("name", "project_id", "message"),
    [
        ("m" * 33, "p-1", "SageMakerProjectName must be at most 32 characters (got 33"),
        ("9lives", "p-1", "SageMakerProjectName '9lives' does not match"),
        ("with space", "p-1", "does not match"),
        ("ok", "p-" + "1" * 15, "SageMakerProjectId must be at most 16 characters (got 17"),
        ("ok", "-p1", "SageMakerProjectId '-p1' does not match"),
        ("ok", None, "SageMakerProjectId is required"),
    ],
)
def test_invalid_identity_names_the_field_and_the_rule(
    name: str, project_id: str, message: str
) -> None:
    with pytest.raises(InvalidProjectError, match=message.replace("(", r"\(").replace("*", r"\*")):
        validate_project_identity(name, project_id)


def test_check_name_rejects_a_name_over_the_limit() -> None:
    with pytest.raises(ValueError, match="over 63 characters"):
        check_name("endpoint", "e" * 64)


def test_the_training_names_at_the_limits() -> None:
    names = ProjectNames(LONGEST_NAME, LONGEST_ID)
    role = names.training_role()
    assert len(role) == NAME_RULES["iam_role"].max_length == 64
    assert role.endswith(f"-{LONGEST_ID}-training")
    assert names.training_project() == f"sagemaker-{LONGEST_NAME}-{LONGEST_ID}-training"
    assert names.training_log_group() == f"/aws/codebuild/{names.training_project()}"


def test_repository_names_per_provider_for_the_longest_project() -> None:
    names = ProjectNames(LONGEST_NAME, LONGEST_ID)
    # 59 characters: within every provider's limit, so never cut.
    assert names.repository() == names.prefix
    assert names.repository("github_repository") == names.prefix
    assert names.repository("bitbucket_repository") == names.prefix.lower()
    assert len(names.prefix) == 59 < NAME_RULES["bitbucket_repository"].max_length


@pytest.mark.parametrize(("name", "project_id"), PROJECTS)
def test_a_project_owns_its_deployment_names_and_no_one_elses(name: str, project_id: str) -> None:
    names = ProjectNames(name, project_id)
    deployment_kinds = {
        "endpoint",
        "endpoint_config",
        "model",
        "cloudwatch_alarm",
        "scaling_policy",
    }
    suffixed = [n for kind, n in every_name(names) if kind in deployment_kinds]
    assert suffixed
    assert all(names.owns(n) for n in suffixed)
    other = ProjectNames(name, "p-someoneelse1")
    assert not any(other.owns(n) for n in suffixed)
    assert not names.owns(f"sagemaker-{name}x-{project_id}-dev-1")
    assert not names.owns(f"{name}-{project_id}-dev-1")
