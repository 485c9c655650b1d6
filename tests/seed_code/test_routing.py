"""Branch routing: which branch trains into which group, and which promotes."""

from __future__ import annotations

import pytest
from pipelines.errors import BuildEnvironmentError
from pipelines.project import parse_project
from pipelines.routing import (
    branch_from_environment,
    branch_kind,
    commit_from_environment,
    plan_build,
)

from lambda_project_lifecycle import scenarios
from tests.seed_code.conftest import SCENARIO_NAMES, project_document

COMMIT = "4f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"
BRANCHES = ["feature-a", "feature-new-loss", "dev", "prod", "main", "master", "feature-",
            "feature", "develop", "prod-hotfix", "dev-x", "release"]  # fmt: skip


@pytest.mark.parametrize("branch", BRANCHES)
def test_the_seed_routes_branches_like_the_platform(branch) -> None:
    assert branch_kind(branch) == scenarios.branch_kind(branch)


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
@pytest.mark.parametrize(
    ("branch", "action", "target_kinds"),
    [
        ("feature-new-loss", "train", ("feature",)),
        ("dev", "train", ("dev",)),
        ("prod", "promote", "production"),
        ("main", "skip", ()),
    ],
)
def test_each_branch_kind_builds_into_its_groups(scenario, branch, action, target_kinds) -> None:
    document = project_document(scenario)
    plan = plan_build(parse_project(document), branch, COMMIT)
    if target_kinds == "production":
        target_kinds = scenarios.SCENARIOS[scenario].production_kinds
    assert plan.action == action
    assert plan.target_groups == tuple(document["model_groups"][k] for k in target_kinds)
    assert plan.source_group == (document["model_groups"]["dev"] if action == "promote" else None)
    described = plan.describe()
    assert branch in described
    if action == "skip":
        assert "nothing to build" in described
    else:
        assert all(group in described for group in plan.target_groups)


def test_advanced_prod_promotes_into_champion_and_challenger() -> None:
    document = project_document("advanced")
    plan = plan_build(parse_project(document), "prod", COMMIT)
    groups = document["model_groups"]
    assert plan.target_groups == (groups["champion"], groups["challenger"])


@pytest.mark.parametrize(
    ("environ", "branch"),
    [
        ({"SOURCE_BRANCH": "feature-x"}, "feature-x"),
        ({"SOURCE_BRANCH": "refs/heads/dev"}, "dev"),
        ({"SOURCE_BRANCH": "dev", "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/prod"}, "dev"),
        ({"SOURCE_BRANCH": "", "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/prod"}, "prod"),
        ({"CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/feature-a/b"}, "feature-a/b"),
    ],
)
def test_the_branch_comes_from_the_trigger_or_the_webhook(environ, branch) -> None:
    assert branch_from_environment(environ) == branch


@pytest.mark.parametrize("environ", [{}, {"CODEBUILD_WEBHOOK_HEAD_REF": "refs/tags/v1"}])
def test_no_branch_is_a_clear_error(environ) -> None:
    with pytest.raises(BuildEnvironmentError, match="SOURCE_BRANCH"):
        branch_from_environment(environ)


def test_the_commit_comes_from_codebuild() -> None:
    assert commit_from_environment({"CODEBUILD_RESOLVED_SOURCE_VERSION": COMMIT}) == COMMIT
    with pytest.raises(BuildEnvironmentError, match="CODEBUILD_RESOLVED_SOURCE_VERSION"):
        commit_from_environment({})
