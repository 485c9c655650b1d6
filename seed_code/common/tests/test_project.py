from __future__ import annotations

import json
from dataclasses import asdict

import pytest
from pipelines.errors import ProjectFileError
from pipelines.project import PRODUCTION_KINDS, TRAINING_KINDS, Project, load_project


def document_of(project: Project) -> dict[str, object]:
    document = {"schema_version": 1, **asdict(project)}
    if document["mlflow_tracking_uri"] is None:
        del document["mlflow_tracking_uri"]
    return document


def test_project_json_names_one_group_per_kind_of_the_scenario(project: Project) -> None:
    assert set(project.model_groups) == {*TRAINING_KINDS, *PRODUCTION_KINDS[project.scenario]}
    assert all(name.startswith(project.prefix) for name in project.model_groups.values())


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("account_id", "not-an-account", "key 'account_id'"),
        ("scenario", "premium", "key 'scenario'"),
        ("prefix", "sagemaker-other-p-1", "key 'prefix'"),
    ],
)
def test_a_broken_project_json_names_the_key(
    tmp_path, project: Project, key, value, message
) -> None:
    path = tmp_path / "project.json"
    path.write_text(json.dumps({**document_of(project), key: value}))
    with pytest.raises(ProjectFileError, match=message):
        load_project(path)


def test_a_missing_project_json_says_where_it_comes_from(tmp_path) -> None:
    with pytest.raises(ProjectFileError, match="not found"):
        load_project(tmp_path / "project.json")


def test_a_mistyped_model_group_is_named_with_the_name_the_platform_gave_it(
    tmp_path, project: Project
) -> None:
    document = document_of(project)
    right = document["model_groups"]["dev"]
    document["model_groups"] = {**document["model_groups"], "dev": right.replace("-dev", "-deb")}
    path = tmp_path / "project.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ProjectFileError, match=f"key 'model_groups.dev'.*named it '{right}'"):
        load_project(path)


def test_the_endpoints_are_named_after_the_project(project: Project) -> None:
    for stage in ("development", "production"):
        name = project.endpoint_name(stage)
        assert name.endswith(f"-{project.project_id}-{stage}") and len(name) <= 63
