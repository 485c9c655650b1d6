"""make plan checks everything a build needs before the build publishes or starts anything."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from pipelines.ci import build
from pipelines.errors import SeedError
from pipelines.project import REPO_ROOT

COMMIT = "0123456789abcdef0123456789abcdef01234567"
PLAN = {"SOURCE_BRANCH": "feature-x", "CODEBUILD_RESOLVED_SOURCE_VERSION": COMMIT}


@pytest.fixture
def checkout(tmp_path):
    """What the build reads from a checkout: project.json, deploy/, integration_tests/."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(REPO_ROOT / "project.json", repo)
    shutil.copytree(REPO_ROOT / "deploy", repo / "deploy")
    shutil.copytree(REPO_ROOT / "integration_tests", repo / "integration_tests")
    return repo


def test_the_plan_of_a_sound_checkout_says_what_the_build_does(checkout, capsys) -> None:
    assert build(PLAN, plan_only=True, repo_dir=checkout) == 0
    assert "train commit 0123456789ab" in capsys.readouterr().out


def test_the_plan_refuses_a_payload_whose_status_is_text(checkout) -> None:
    path = checkout / "integration_tests" / "payloads" / "single_csv_record.json"
    document = json.loads(path.read_text())
    document["expect"]["status"] = "200"
    path.write_text(json.dumps(document))
    with pytest.raises(SeedError, match=re.escape("single_csv_record.json: key 'expect.status'")):
        build(PLAN, plan_only=True, repo_dir=checkout)


def test_the_plan_refuses_a_payload_that_is_not_json(checkout) -> None:
    (checkout / "integration_tests" / "payloads" / "draft.json").write_text("{'body': 1}")
    with pytest.raises(SeedError, match=re.escape("draft.json: not readable JSON")):
        build(PLAN, plan_only=True, repo_dir=checkout)


def test_the_plan_refuses_a_mistyped_model_group(checkout) -> None:
    path = checkout / "project.json"
    document = json.loads(path.read_text())
    document["model_groups"]["feature"] += "s"
    path.write_text(json.dumps(document))
    with pytest.raises(SeedError, match=re.escape("key 'model_groups.feature'")):
        build(PLAN, plan_only=True, repo_dir=checkout)
