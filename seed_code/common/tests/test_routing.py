from __future__ import annotations

import pytest
from pipelines.errors import BuildEnvironmentError
from pipelines.project import Project
from pipelines.routing import branch_from_environment, plan_build

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("branch", "action", "kinds"),
    [
        ("feature-new-features", "train", ("feature",)),
        ("dev", "train", ("dev",)),
        ("prod", "promote", None),
        ("main", "skip", ()),
        ("feature-", "skip", ()),
    ],
)
def test_each_branch_builds_into_its_groups(project: Project, branch, action, kinds) -> None:
    plan = plan_build(project, branch, COMMIT)
    assert plan.action == action
    expected = project.production_kinds if kinds is None else kinds
    assert plan.target_groups == tuple(project.model_groups[k] for k in expected)


@pytest.mark.parametrize(
    ("environ", "branch"),
    [
        ({"SOURCE_BRANCH": "dev", "CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/prod"}, "dev"),
        ({"CODEBUILD_WEBHOOK_HEAD_REF": "refs/heads/feature-x"}, "feature-x"),
    ],
)
def test_the_branch_comes_from_the_build_environment(environ, branch) -> None:
    assert branch_from_environment(environ) == branch


def test_a_build_without_a_branch_says_what_to_set() -> None:
    with pytest.raises(BuildEnvironmentError, match="SOURCE_BRANCH"):
        branch_from_environment({})
