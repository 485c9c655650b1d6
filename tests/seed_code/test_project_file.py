"""project.json: the contract between the lifecycle Lambda (writer) and the seed code (reader)."""

from __future__ import annotations

import json

import pytest
from pipelines import project as seed_project
from pipelines.errors import ProjectFileError

from lambda_project_lifecycle.naming import (
    PROJECT_ID_MAX_LENGTH,
    PROJECT_NAME_MAX_LENGTH,
    ProjectNames,
)
from lambda_project_lifecycle.scenarios import SCENARIOS, STAGE_OF_GROUP
from tests.seed_code.conftest import FLAVOURS, SCENARIO_NAMES, project_document

LONGEST_NAME = "a" + "b1-" * 10 + "z"  # 32 characters, dashes inside
LONGEST_ID = "p-" + "x" * 14


def test_the_longest_legal_identity_is_exercised() -> None:
    assert len(LONGEST_NAME) == PROJECT_NAME_MAX_LENGTH
    assert len(LONGEST_ID) == PROJECT_ID_MAX_LENGTH


@pytest.mark.parametrize(("scenario", "registry"), FLAVOURS)
@pytest.mark.parametrize(("name", "project_id"), [("churn", "p-1"), (LONGEST_NAME, LONGEST_ID)])
def test_a_project_json_the_platform_writes_loads(scenario, registry, name, project_id) -> None:
    document = project_document(scenario, registry, name=name, project_id=project_id)
    project = seed_project.parse_project(document)
    names = ProjectNames(name, project_id)
    assert project.prefix == names.prefix
    assert project.production_kinds == SCENARIOS[scenario].production_kinds
    for kind in ("feature", "dev"):
        assert project.pipeline_name(kind) == names.pipeline(kind)
    assert project.tags == [
        {"Key": "sagemaker:project-name", "Value": name},
        {"Key": "sagemaker:project-id", "Value": project_id},
    ]


def test_the_seed_knows_the_platform_scenarios_and_stages() -> None:
    assert {s.name: s.production_kinds for s in SCENARIOS.values()} == seed_project.PRODUCTION_KINDS
    for scenario in SCENARIOS.values():
        assert set(scenario.model_group_kinds) == {
            *seed_project.TRAINING_KINDS,
            *scenario.production_kinds,
        }
    assert seed_project.STAGE_OF_KIND == STAGE_OF_GROUP


def _without(document: dict, key: str) -> dict:
    return {k: v for k, v in document.items() if k != key}


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (_without(project_document("baseline"), "bucket"), "key 'bucket' is required"),
        ({**project_document("baseline"), "account_id": "12345"}, "key 'account_id'"),
        ({**project_document("baseline"), "colour": "blue"}, "key 'colour' is not allowed"),
        ({**project_document("baseline"), "schema_version": 2}, "key 'schema_version'"),
        ({**project_document("baseline"), "project_name": "x" * 33}, "key 'project_name'"),
        (
            {**project_document("baseline"), "registry": "mlflow"},
            "key 'mlflow_tracking_uri' is required",
        ),
        (
            {
                **project_document("baseline"),
                "model_groups": project_document("advanced")["model_groups"],
            },
            "key 'model_groups",
        ),
        (
            {**project_document("advanced"), "model_groups": {"dev": "a", "feature": "b"}},
            "key 'model_groups",
        ),
        ({**project_document("baseline"), "prefix": "sagemaker-other-p-1"}, "key 'prefix'"),
    ],
    ids=[
        "missing",
        "pattern",
        "unknown-key",
        "version",
        "too-long",
        "mlflow-uri",
        "wrong-kinds",
        "missing-kinds",
        "prefix",
    ],
)
def test_a_broken_project_json_fails_with_the_key_named(broken, message) -> None:
    with pytest.raises(ProjectFileError, match=message):
        seed_project.parse_project(broken)


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_the_documented_schema_is_shipped_with_an_example_that_validates(scenario) -> None:
    schema = json.loads((seed_project.SCHEMA_FILE).read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for example in schema["examples"]:
        seed_project.parse_project(example)
    seed_project.parse_project(project_document(scenario))


def test_a_missing_project_json_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ProjectFileError, match=r"project\.json not found"):
        seed_project.load_project(tmp_path / "project.json")


def test_unreadable_json_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "project.json"
    path.write_text("{not json")
    with pytest.raises(ProjectFileError, match="not readable JSON"):
        seed_project.load_project(path)


@pytest.mark.parametrize("kind", ["prod", "champion", "challenger", "dev", "feature"])
@pytest.mark.parametrize(("name", "project_id"), [("churn", "p-1"), (LONGEST_NAME, LONGEST_ID)])
def test_the_seed_code_names_groups_endpoints_and_builds_as_the_platform(name, project_id, kind):
    from pipelines import naming

    names = ProjectNames(name, project_id)
    assert naming.model_group(name, project_id, kind) == names.model_package_group(kind)
    for stage in ("development", "production"):
        assert naming.endpoint(name, project_id, stage) == names.endpoint(stage)
    assert naming.training_project(name, project_id) == names.training_project()
