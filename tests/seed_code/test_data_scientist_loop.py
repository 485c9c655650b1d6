"""The seed repository tried as a data scientist would: make test, make local, make plan.

Each command runs through the Makefile as written in the README, with this
virtualenv's python3 first on PATH (what an activated virtualenv does).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.seed_code.conftest import SEED_COMMON
from tests.seed_code.mlflow_server import mlflow_server
from tests.support.git_repository import GitRepository

README = SEED_COMMON / "README.md"
HEADER_WARNING = "Encountered unexpected error during resolving request headers"


def make(repo: Path, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MLFLOW_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
        HOME=str(repo.parent),  # nothing from this machine's ~/.aws or ~/.config
        **environment,
    )
    return subprocess.run(
        ["make", "--no-print-directory", *arguments],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def raise_threshold(repo: Path, threshold: float) -> None:
    settings = repo / "pipelines" / "training_settings.py"
    text, count = re.subn(
        r"(?m)^MIN_ACCURACY = .*$", f"MIN_ACCURACY = {threshold}", settings.read_text()
    )
    assert count == 1
    settings.write_text(text)


def test_the_readme_starts_with_a_virtualenv_and_the_make_targets_it_names_exist() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    commands = [c for c in commands if c]
    assert commands[0].startswith("python3 -m venv .venv")
    targets = set(re.findall(r"(?m)^([a-z-]+):", (SEED_COMMON / "Makefile").read_text()))
    named = {c.split()[1] for c in commands if c.startswith("make ")}
    assert named and named <= targets
    assert "\tpython " not in (SEED_COMMON / "Makefile").read_text()  # python3, via $(PYTHON)


def test_a_threshold_raised_to_099_fails_make_local_but_not_the_tests(seed_repository) -> None:
    repo = seed_repository("baseline")
    raise_threshold(repo, 0.99)

    local = make(repo, "local")
    assert "[Makefile" in local.stderr and "local] Error 1" in local.stderr  # exit status 1
    assert re.search(r"accuracy 0\.\d+ vs MinAccuracy 0\.99: would NOT register", local.stdout)

    tests = make(repo, "test")
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout


def test_make_plan_names_a_payload_whose_status_is_text(seed_repository) -> None:
    repo = seed_repository("advanced")
    GitRepository(repo).commit("seed code")
    payload = repo / "integration_tests" / "payloads" / "json_batch.json"
    document = json.loads(payload.read_text())
    document["expect"]["status"] = "200"
    payload.write_text(json.dumps(document))

    plan = make(repo, "plan")

    assert plan.returncode != 0
    assert "json_batch.json: key 'expect.status': '200' is not of type 'integer'" in plan.stderr


@pytest.mark.parametrize("scenario", ["baseline", "advanced"])
def test_make_endpoints_prints_the_names_the_platform_gives(seed_repository, scenario) -> None:
    from lambda_project_lifecycle.naming import ProjectNames

    repo = seed_repository(scenario)
    document = json.loads((repo / "project.json").read_text())
    names = ProjectNames(document["project_name"], document["project_id"])

    shown = make(repo, "endpoints")

    assert shown.returncode == 0, shown.stderr
    for stage in ("development", "production"):
        assert names.endpoint(stage) in shown.stdout
    assert f"--endpoint-name {names.endpoint('development')}" in shown.stdout
    assert names.training_project() in shown.stdout
    assert names.training_log_group() in shown.stdout


def test_an_mlflow_projects_local_run_appears_in_a_local_mlflow_server(
    seed_repository, tmp_path
) -> None:
    from mlflow import MlflowClient

    repo = seed_repository("baseline", "mlflow")
    git = GitRepository(repo)
    git.commit("seed code")
    git.checkout("feature-wider-trees", create=True)
    document = json.loads((repo / "project.json").read_text())
    model = document["model_groups"]["feature"]
    server_dir = tmp_path / "server"
    server_dir.mkdir()

    with mlflow_server(server_dir) as url:
        local = make(repo, "local", "REGISTER=1", MLFLOW_TRACKING_URI=url)
        assert local.returncode == 0, local.stdout[-3000:] + local.stderr[-3000:]
        client = MlflowClient(tracking_uri=url)
        version = client.get_model_version(model, "1")
        run = client.get_run(version.run_id)
        logged_models = client.search_logged_models(experiment_ids=[run.info.experiment_id])

    assert f"mlflow: registered {model} version 1" in local.stdout
    assert HEADER_WARNING not in local.stdout + local.stderr  # the SageMaker plugin stays quiet
    assert run.data.params["max_depth"] == "3"
    assert 0 < run.data.metrics["accuracy"] <= 1
    assert run.data.tags["branch"] == "feature-wider-trees"
    assert run.data.tags["commit_id"] == git.head()
    assert version.tags["source"] == "local"
    # The model itself, logged by the run, is what the version was registered from.
    assert [m.source_run_id for m in logged_models] == [run.info.run_id]
    assert version.source == f"models:/{logged_models[0].model_id}"
