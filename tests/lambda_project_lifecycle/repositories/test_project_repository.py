"""A Create event yields a seeded repository on every provider; Delete follows OnDelete.

Each test sends CloudFormation events through the real lifecycle handler. The
repository ends up on a real git server on 127.0.0.1 (``git http-backend``);
the test then clones it with the real ``git`` and checks it as a data
scientist would: ``git fsck --strict``, ``prod`` and ``dev`` at one commit,
the seed files with their modes, and ``project.json``.
"""

from __future__ import annotations

import dataclasses
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lambda_project_lifecycle.mlflow_build_access import PlatformMlflowServer
from lambda_project_lifecycle.naming import ProjectNames
from sandbox.git_server import GitHttpServer
from tests.lambda_project_lifecycle.conftest import (
    ARTIFACTS_BUCKET,
    CODECOMMIT_HOST,
    MLFLOW_TRACKING_URI,
    PROJECT_DATA_BUCKET,
    REGISTRY_TABLE,
    SEED_CODE_KEYS,
    Emulated,
)
from tests.lambda_project_lifecycle.repositories.conftest import (
    GIT_PASSWORD,
    GIT_USER,
    PREFIX,
    PROJECT_ID,
    PROJECT_NAME,
    TOKEN,
    Lifecycle,
    put_secret,
    use_seed_code,
)
from tests.support.git_checks import ClonedRepository, clone, git, push_foreign_commit
from tests.support.provider_apis import ProviderApiServer

PROJECT_SCHEMA = (
    Path(__file__).resolve().parents[3] / "seed_code" / "common" / "project.schema.json"
)
SEED = {
    "README.md": ("# Churn model\n", False),
    "pipelines/__init__.py": ("", False),
    "pipelines/definition.py": ("STEPS = ['preprocess', 'train']\n", False),
    "scripts/run_local.sh": ('#!/bin/sh\nexec python -m pipelines.local "$@"\n', True),
}


def expected_project_json(
    scenario: str = "baseline", registry: str = "sagemaker"
) -> dict[str, Any]:
    kinds = {
        "baseline": ["prod", "dev", "feature"],
        "advanced": ["champion", "challenger", "dev", "feature"],
    }
    names = ProjectNames(PROJECT_NAME, PROJECT_ID)
    return {
        "schema_version": 1,
        "project_name": PROJECT_NAME,
        "project_id": PROJECT_ID,
        "scenario": scenario,
        "registry": registry,
        "region": "us-east-1",
        "account_id": "123456789012",
        "bucket": PROJECT_DATA_BUCKET,
        "prefix": PREFIX,
        "model_groups": {kind: names.model_package_group(kind) for kind in kinds[scenario]},
    }


def assert_seeded(repo: ClonedRepository, answer: dict[str, Any]) -> None:
    """The Done-when checks on a fresh clone."""
    assert repo.fsck.returncode == 0, repo.fsck.stderr
    assert "error" not in repo.fsck.stderr.lower() and "warning" not in repo.fsck.stderr.lower()
    assert set(repo.branches) == {"prod", "dev"}
    assert repo.branches["prod"] == repo.branches["dev"] == answer["Data"]["SeedCommit"]
    assert repo.head == "prod", "the first branch pushed becomes the default branch"
    assert repo.commit_count == 1
    assert repo.author == "mlops-portfolio project lifecycle <mlops-portfolio@noreply.invalid>"
    assert repo.message.startswith(f"Seed SageMaker project {PROJECT_NAME} (baseline")
    assert f"SageMaker-Project-Id: {PROJECT_ID}" in repo.message
    assert json.loads(repo.read("project.json")) == expected_project_json()
    assert repo.read("pipelines/definition.py") == SEED["pipelines/definition.py"][0]
    assert repo.modes["scripts/run_local.sh"] == "100755"
    assert repo.modes["README.md"] == "100644"
    assert repo.modes["project.json"] == "100644"
    assert set(repo.modes) == {*SEED, "project.json"}


# --- CodeCommit (default) -------------------------------------------------------------


def test_codecommit_create_seeds_prod_and_dev_pushed_with_sigv4(
    aws: Emulated, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    use_seed_code(aws, SEED)
    answer = lifecycle.create()

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["RepositoryProvider"] == "codecommit"
    assert answer["Data"]["RepositoryName"] == PREFIX
    assert answer["Data"]["RepositoryCloneUrl"] == f"https://{CODECOMMIT_HOST}/v1/repos/{PREFIX}"
    assert answer["Data"]["TrainingSourceType"] == "CODECOMMIT"
    tags = aws.codecommit_gaps.tags[f"arn:aws:codecommit:us-east-1:123456789012:{PREFIX}"]
    assert tags == {"sagemaker:project-name": PROJECT_NAME, "sagemaker:project-id": PROJECT_ID}
    # Every git request reached the server as CodeCommit's host and passed the SigV4 check.
    assert {request.host for request in aws.aws_git.requests} == {CODECOMMIT_HOST}
    assert aws.aws_git.refused == []
    assert {r.path for r in aws.aws_git.requests} >= {
        f"/v1/repos/{PREFIX}/info/refs",
        f"/v1/repos/{PREFIX}/git-receive-pack",
    }
    assert_seeded(clone(str(aws.codecommit_git.bare_directory(PREFIX)), tmp_path), answer)


def test_codecommit_refuses_a_wrong_signature_and_nothing_is_left(
    aws: Emulated, lifecycle: Lifecycle
) -> None:
    lifecycle.clients = aws.clients_with()
    lifecycle.clients.credentials = lambda: ("testing", "not-the-secret", None)

    answer = lifecycle.create()

    assert answer["Status"] == "FAILED"
    assert "refused the credentials from the Lambda role (SigV4) (HTTP 401)" in answer["Reason"]
    assert aws.aws_git.refused, "the server checked and refused the derived password"
    assert aws.repository_names() == set(), "the repository made by this Create is gone again"
    assert aws.group_names() == set()
    assert aws.registry_keys() == set()
    lifecycle.clients = None
    assert lifecycle.delete(answer)["Status"] == "SUCCESS"


def test_codecommit_duplicate_create_finds_its_own_seed(
    aws: Emulated, lifecycle: Lifecycle
) -> None:
    first = lifecycle.create()
    pushes = [r for r in aws.aws_git.requests if r.path.endswith("git-receive-pack")]
    second = lifecycle.create()

    assert first["Status"] == second["Status"] == "SUCCESS", second["Reason"]
    assert first["Data"] == second["Data"]
    assert [r for r in aws.aws_git.requests if r.path.endswith("git-receive-pack")] == pushes


def test_codecommit_retry_after_a_half_push_completes_dev(
    aws: Emulated, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    first = lifecycle.create()
    bare = aws.codecommit_git.bare_directory(PREFIX)
    git("update-ref", "-d", "refs/heads/dev", cwd=bare)  # as if the Lambda died mid-way

    again = lifecycle.create()

    assert again["Status"] == "SUCCESS", again["Reason"]
    assert again["Data"]["SeedCommit"] == first["Data"]["SeedCommit"]
    repo = clone(str(bare), tmp_path)
    assert repo.branches == {
        "prod": first["Data"]["SeedCommit"],
        "dev": first["Data"]["SeedCommit"],
    }


def test_codecommit_repository_with_someone_elses_commits_is_left_untouched(
    aws: Emulated, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    aws.codecommit.create_repository(repositoryName=PREFIX, repositoryDescription="hand made")
    bare = aws.codecommit_git.bare_directory(PREFIX)
    theirs = push_foreign_commit(str(bare), tmp_path)

    answer = lifecycle.create()

    assert answer["Status"] == "FAILED"
    assert (
        f"Repository https://{CODECOMMIT_HOST}/v1/repos/{PREFIX} exists and is not empty"
        in (answer["Reason"])
    )
    assert "left untouched" in answer["Reason"]
    assert git("for-each-ref", "--format=%(refname) %(objectname)", cwd=bare).stdout.split() == [
        "refs/heads/main",
        theirs,
    ]
    assert aws.group_names() == set() and aws.registry_keys() == set()
    delete = lifecycle.delete(answer, OnDelete="delete-all")
    assert delete["Status"] == "SUCCESS", delete["Reason"]
    assert aws.repository_names() == {PREFIX}, "a repository we did not make survives delete-all"


@pytest.mark.parametrize("on_delete", ["retain-data", "delete-all"])
def test_codecommit_delete_follows_on_delete(
    aws: Emulated, lifecycle: Lifecycle, on_delete: str
) -> None:
    assert lifecycle.create(OnDelete=on_delete)["Status"] == "SUCCESS"

    answer = lifecycle.delete(OnDelete=on_delete)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert aws.registry_keys() == set()
    arn = f"arn:aws:codecommit:us-east-1:123456789012:{PREFIX}"
    if on_delete == "delete-all":
        assert aws.repository_names() == set()
    else:
        assert aws.repository_names() == {PREFIX}
        assert "sagemaker:project-deleted" in aws.codecommit_gaps.tags[arn]
        assert aws.codecommit_gaps.tags[arn]["sagemaker:project-id"] == PROJECT_ID


def test_update_recreates_and_seeds_a_missing_repository_but_leaves_a_used_one(
    aws: Emulated, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    props = lifecycle.properties()
    lifecycle.create()
    aws.codecommit.delete_repository(repositoryName=PREFIX)

    update = lifecycle.send("Update", props, old=props, physical_id=PREFIX)

    assert update["Status"] == "SUCCESS", update["Reason"]
    bare = aws.codecommit_git.bare_directory(PREFIX)
    assert bare is not None
    work = tmp_path / "work"
    git("clone", "--quiet", str(bare), str(work))
    (work / "train.py").write_text("print('tuned')\n")
    git("add", "train.py", cwd=work)
    git("commit", "--quiet", "-m", "Tune", cwd=work)
    git("push", "--quiet", "origin", "prod", cwd=work)
    tip = git("rev-parse", "HEAD", cwd=work).stdout.strip()

    again = lifecycle.send("Update", props, old=props, physical_id=PREFIX)

    assert again["Status"] == "SUCCESS", again["Reason"]
    assert git("rev-parse", "refs/heads/prod", cwd=bare).stdout.strip() == tip


def test_update_cannot_change_the_repository_settings(lifecycle: Lifecycle) -> None:
    old = lifecycle.properties()
    lifecycle.create()
    new = lifecycle.properties(
        RepositoryProvider="git", RepositoryUrl="https://git.example.com/x.git"
    )

    answer = lifecycle.send("Update", new, old=old, physical_id=PREFIX)

    assert answer["Status"] == "FAILED"
    assert (
        "RepositoryProvider, RepositoryUrl cannot change after the project is created"
        in (answer["Reason"])
    )


# --- any git URL ----------------------------------------------------------------------


def git_url_props(
    aws: Emulated, server: GitHttpServer, path: str = "/ml/churn.git"
) -> dict[str, str]:
    secret = put_secret(
        aws, "git-home", {"Username": GIT_USER, "Token": GIT_PASSWORD, "Hosts": ["127.0.0.1"]}
    )
    return {
        "RepositoryProvider": "git",
        "RepositoryUrl": server.url(path),
        "RepositorySecretArn": secret,
    }


def test_git_url_create_seeds_an_existing_empty_repository(
    aws: Emulated, lifecycle: Lifecycle, git_home: GitHttpServer, tmp_path: Path
) -> None:
    use_seed_code(aws, SEED)
    git_home.add_repository("/ml/churn.git")

    answer = lifecycle.create(**git_url_props(aws, git_home))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["Data"]["RepositoryCloneUrl"] == git_home.url("/ml/churn.git")
    assert answer["Data"]["TrainingSourceType"] == ""
    assert {r.username for r in git_home.requests if r.username} == {GIT_USER}
    assert git_home.refused == [] or all(not r.username for r in git_home.refused)
    repo = clone(git_home.url("/ml/churn.git", GIT_USER, GIT_PASSWORD), tmp_path)
    assert_seeded(repo, answer)


def test_git_url_duplicate_create_and_delete_keep_the_repository(
    aws: Emulated, lifecycle: Lifecycle, git_home: GitHttpServer, tmp_path: Path
) -> None:
    git_home.add_repository("/ml/churn.git")
    props = git_url_props(aws, git_home)
    first = lifecycle.create(**props)
    second = lifecycle.create(**props)
    assert first["Status"] == second["Status"] == "SUCCESS", second["Reason"]
    assert first["Data"]["SeedCommit"] == second["Data"]["SeedCommit"]

    delete = lifecycle.delete(OnDelete="delete-all", **props)

    assert delete["Status"] == "SUCCESS", delete["Reason"]
    repo = clone(git_home.url("/ml/churn.git", GIT_USER, GIT_PASSWORD), tmp_path)
    assert repo.branches["prod"] == first["Data"]["SeedCommit"], "no API deletes a plain git repo"


def test_git_url_failed_create_then_delete_succeeds_and_a_retry_continues(
    aws: Emulated, lifecycle: Lifecycle, git_home: GitHttpServer
) -> None:
    git_home.add_repository("/ml/churn.git")
    props = git_url_props(aws, git_home)
    # A model group of the same name belongs to someone else: the Create fails after seeding.
    foreign = ProjectNames(PROJECT_NAME, PROJECT_ID).model_package_group("dev")
    aws.sagemaker.create_model_package_group(
        ModelPackageGroupName=foreign, Tags=[{"Key": "owner", "Value": "someone-else"}]
    )

    answer = lifecycle.create(**props)

    assert answer["Status"] == "FAILED"
    assert "already exists" in answer["Reason"]
    delete = lifecycle.delete(answer, **props)
    assert delete["Status"] == "SUCCESS", delete["Reason"]
    assert aws.registry_keys() == set()
    # The repository was not made by the project, so it keeps the seed; a retry carries on.
    bare = git_home.repositories["/ml/churn.git"]
    seed = git("rev-parse", "refs/heads/prod", cwd=bare).stdout.strip()
    aws.sagemaker.delete_model_package_group(ModelPackageGroupName=foreign)
    retry = lifecycle.create(**props)
    assert retry["Status"] == "SUCCESS", retry["Reason"]
    assert retry["Data"]["SeedCommit"] == seed


# --- GitHub, GitLab, Bitbucket with a token --------------------------------------------

HOSTED = [
    ("github", "acme", PREFIX),
    ("gitlab", "acme/ml", PREFIX),
    ("bitbucket", "acme", PREFIX.lower()),
]


def hosted_props(
    aws: Emulated, api: ProviderApiServer, provider: str, owner: str
) -> dict[str, str]:
    secret = put_secret(
        aws,
        f"{provider}-token",
        {
            "ServerType": provider.upper(),
            "AuthType": "PERSONAL_ACCESS_TOKEN",
            "Token": TOKEN,
            "Hosts": ["127.0.0.1"],  # the local API and git servers stand in for the service
        },
    )
    return {
        "RepositoryProvider": provider,
        "RepositoryOwner": owner,
        "RepositorySecretArn": secret,
        "ProviderApiUrl": api.api_url(provider),
    }


EXPECTED_CREATE_CALLS = {
    "github": [
        ("GET", f"/repos/acme/{PREFIX}"),
        ("GET", "/users/acme"),
        ("POST", "/orgs/acme/repos"),
    ],
    "gitlab": [
        ("GET", f"/projects/acme/ml/{PREFIX}"),
        ("GET", "/namespaces/acme/ml"),
        ("POST", "/projects"),
    ],
    "bitbucket": [
        ("GET", f"/repositories/acme/{PREFIX.lower()}"),
        ("POST", f"/repositories/acme/{PREFIX.lower()}"),
    ],
}


@pytest.mark.parametrize(("provider", "owner", "name"), HOSTED)
def test_hosted_create_makes_the_repository_through_the_api_and_seeds_it(
    aws: Emulated,
    lifecycle: Lifecycle,
    hosted: ProviderApiServer,
    tmp_path: Path,
    provider: str,
    owner: str,
    name: str,
) -> None:
    use_seed_code(aws, SEED)
    answer = lifecycle.create(**hosted_props(aws, hosted, provider, owner))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert hosted.calls(provider) == EXPECTED_CREATE_CALLS[provider]
    create = next(r for r in hosted.requests if r.method == "POST")
    description = create.body["description"]
    assert f"sagemaker:project-id={PROJECT_ID}" in description
    if provider == "github":
        assert create.body == {
            "name": name,
            "description": description,
            "private": True,
            "auto_init": False,
            "has_wiki": False,
        }
        assert create.headers["Authorization"] == f"Bearer {TOKEN}"
        assert create.headers["X-GitHub-Api-Version"] == "2022-11-28"
    if provider == "gitlab":
        assert create.body["namespace_id"] == 8 and create.body["path"] == name
        assert create.body["visibility"] == "private"
        assert create.headers["PRIVATE-TOKEN"] == TOKEN
    if provider == "bitbucket":
        assert create.body["scm"] == "git" and create.body["is_private"] is True
    repo = hosted.repos[(provider, owner, name)]
    assert answer["Data"]["RepositoryCloneUrl"] == hosted.git.url(repo.git_path)
    assert answer["Data"]["RepositoryName"] == f"{owner}/{name}"
    assert (
        answer["Data"]["TrainingSourceType"]
        == {
            "github": "GITHUB_ENTERPRISE",  # a custom ProviderApiUrl: GitHub Enterprise Server
            "gitlab": "GITLAB_SELF_MANAGED",
            "bitbucket": "BITBUCKET",
        }[provider]
    )
    user = {"github": "x-access-token", "gitlab": "oauth2", "bitbucket": "x-token-auth"}[provider]
    assert_seeded(clone(hosted.git.url(repo.git_path, user, TOKEN), tmp_path), answer)


@pytest.mark.parametrize(("provider", "owner", "name"), HOSTED)
@pytest.mark.parametrize("on_delete", ["retain-data", "delete-all"])
def test_hosted_duplicate_create_then_delete_follows_on_delete(
    aws: Emulated,
    lifecycle: Lifecycle,
    hosted: ProviderApiServer,
    provider: str,
    owner: str,
    name: str,
    on_delete: str,
) -> None:
    props = {**hosted_props(aws, hosted, provider, owner), "OnDelete": on_delete}
    first = lifecycle.create(**props)
    second = lifecycle.create(**props)
    assert first["Status"] == second["Status"] == "SUCCESS", second["Reason"]
    assert first["Data"] == second["Data"]
    assert [m for m, _ in hosted.calls(provider)].count("POST") == 1

    answer = lifecycle.delete(**props)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert aws.registry_keys() == set()
    if on_delete == "delete-all":
        assert (provider, owner, name) not in hosted.repos
        assert hosted.calls(provider)[-1][0] == "DELETE"
    else:
        repo = hosted.repos[(provider, owner, name)]
        expected_topics = [] if provider == "bitbucket" else ["sagemaker-project-deleted"]
        assert repo.topics == expected_topics
        assert "DELETE" not in [m for m, _ in hosted.calls(provider)]


def test_github_user_owner_must_be_the_tokens_user(
    aws: Emulated, lifecycle: Lifecycle, hosted: ProviderApiServer
) -> None:
    ok = lifecycle.create(**hosted_props(aws, hosted, "github", "data-scientist"))
    assert ok["Status"] == "SUCCESS", ok["Reason"]
    assert ("POST", "/user/repos") in hosted.calls("github")


def test_hosted_failed_create_deletes_the_repository_it_made(
    aws: Emulated, lifecycle: Lifecycle, hosted: ProviderApiServer
) -> None:
    props = hosted_props(aws, hosted, "github", "acme")
    aws.sagemaker.create_model_package_group(
        ModelPackageGroupName=ProjectNames(PROJECT_NAME, PROJECT_ID).model_package_group("prod"),
        Tags=[{"Key": "owner", "Value": "someone-else"}],
    )

    answer = lifecycle.create(**props)

    assert answer["Status"] == "FAILED"
    assert hosted.repos == {}, "the repository this Create made was deleted again"
    assert hosted.calls("github")[-1] == ("DELETE", f"/repos/acme/{PREFIX}")
    assert lifecycle.delete(answer, **props)["Status"] == "SUCCESS"


# --- GitHub, GitLab, Bitbucket through CodeConnections ----------------------------------

CONNECTIONS = [
    ("github", "GitHub", "codestar-connections", "acme", "churn"),
    ("gitlab", "GitLab", "codeconnections", "acme", "churn"),
    ("bitbucket", "Bitbucket", "codeconnections", "acme", "churn"),
]
CONNECTION_ID = "0f4e8c2a-6b1d-4e3f-9a7c-5d2b8e1f0a93"


def connection_arn(service: str, region: str = "us-east-1") -> str:
    return f"arn:aws:{service}:{region}:123456789012:connection/{CONNECTION_ID}"


@pytest.mark.parametrize(("provider", "provider_type", "service", "owner", "name"), CONNECTIONS)
def test_connection_create_pushes_through_the_git_http_endpoint(
    aws: Emulated,
    lifecycle: Lifecycle,
    tmp_path: Path,
    provider: str,
    provider_type: str,
    service: str,
    owner: str,
    name: str,
) -> None:
    use_seed_code(aws, SEED)
    arn = connection_arn(service)
    gaps = aws.connections if service == "codeconnections" else aws.legacy_connections
    gaps.add(arn, provider_type)
    path = f"/git-http/123456789012/us-east-1/{CONNECTION_ID}/{owner}/{name}.git"
    bare = aws.aws_git.add_repository(path)
    props = {
        "RepositoryProvider": provider,
        "RepositoryOwner": owner,
        "RepositoryName": name,
        "ConnectionArn": arn,
    }

    answer = lifecycle.create(**props)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    host = f"{service}.us-east-1.amazonaws.com"
    assert {r.host for r in aws.aws_git.requests} == {host}
    assert aws.aws_git.refused == []
    public = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}
    assert answer["Data"]["RepositoryCloneUrl"] == f"https://{public[provider]}/{owner}/{name}.git"
    assert answer["Data"]["TrainingSourceType"] == provider.upper()
    assert_seeded(clone(str(bare), tmp_path), answer)

    again = lifecycle.create(**props)
    assert again["Status"] == "SUCCESS" and again["Data"] == answer["Data"]
    delete = lifecycle.delete(OnDelete="delete-all", **props)
    assert delete["Status"] == "SUCCESS", delete["Reason"]
    assert (
        git("rev-parse", "refs/heads/prod", cwd=bare).stdout.strip()
        == (answer["Data"]["SeedCommit"])
    ), "a connection cannot delete repositories; the repository stays"


def test_a_push_refused_after_the_repository_was_made_takes_the_repository_back(
    aws: Emulated, lifecycle: Lifecycle
) -> None:
    checks = aws.aws_git.authenticate

    def refuse_pushes(request: Any) -> bool:
        return checks(request) and not request.path.endswith("git-receive-pack")

    aws.aws_git.authenticate = refuse_pushes

    answer = lifecycle.create()

    assert answer["Status"] == "FAILED"
    assert "(HTTP 401) while pushing to it" in answer["Reason"]
    assert aws.repository_names() == set(), "the repository made by this Create was deleted"
    assert aws.group_names() == set() and aws.registry_keys() == set()
    aws.aws_git.authenticate = checks
    retry = lifecycle.create()
    assert retry["Status"] == "SUCCESS", retry["Reason"]


def test_update_of_a_project_made_before_repository_settings_existed(
    aws: Emulated, lifecycle: Lifecycle
) -> None:
    old = lifecycle.properties()  # the stored event has no repository properties
    new = lifecycle.properties(RepositoryProvider="codecommit", RepositoryName="", ConnectionArn="")

    answer = lifecycle.send("Update", new, old=old, physical_id=PREFIX)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert aws.repository_names() == {PREFIX}, "the project gets its repository on Update"


@pytest.mark.parametrize(
    ("on_delete", "status"), [("retain-data", "SUCCESS"), ("delete-all", "FAILED")]
)
def test_delete_when_the_token_secret_is_gone(
    aws: Emulated,
    lifecycle: Lifecycle,
    hosted: ProviderApiServer,
    on_delete: str,
    status: str,
) -> None:
    props = {**hosted_props(aws, hosted, "github", "acme"), "OnDelete": on_delete}
    assert lifecycle.create(**props)["Status"] == "SUCCESS"
    aws.secretsmanager.delete_secret(
        SecretId=props["RepositorySecretArn"], ForceDeleteWithoutRecovery=True
    )

    answer = lifecycle.delete(**props)

    assert answer["Status"] == status
    if status == "FAILED":  # delete-all cannot keep its promise: say why, keep the records
        assert f"RepositorySecretArn {props['RepositorySecretArn']}" in answer["Reason"]
        assert ("github", "acme", PREFIX) in hosted.repos
    else:
        assert aws.registry_keys() == set()


# --- The MLflow flavour's tracking server ------------------------------------------------

MANAGED_MLFLOW = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/team-a"


@pytest.mark.parametrize(
    ("property_value", "expected"),
    [
        ("", MLFLOW_TRACKING_URI),  # the platform's server
        (MANAGED_MLFLOW, MANAGED_MLFLOW),  # the project's own choice wins
    ],
)
def test_an_mlflow_project_json_names_its_tracking_server(
    aws: Emulated, lifecycle: Lifecycle, tmp_path: Path, property_value: str, expected: str
) -> None:
    use_seed_code(aws, SEED)
    answer = lifecycle.create(Registry="mlflow", MlflowTrackingUri=property_value)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    repo = clone(str(aws.codecommit_git.bare_directory(PREFIX)), tmp_path)
    document = json.loads(repo.read("project.json"))
    assert document == {
        **expected_project_json(registry="mlflow"),
        "mlflow_tracking_uri": expected,
    }
    jsonschema.Draft202012Validator(json.loads(PROJECT_SCHEMA.read_text())).validate(document)


@pytest.mark.parametrize(
    ("platform_uri", "property_value", "reason"),
    [
        ("", "", "The MLflow flavour needs a tracking server: set the project's MlflowTrackingUri"),
        (MLFLOW_TRACKING_URI, "mlflow.internal:5000", "the MlflowTrackingUri parameter must be"),
        ("ftp://mlflow", "", "the platform's MlflowTrackingUri (MLFLOW_TRACKING_URI) must be"),
        ("", "http://mlflow.internal:5000", "the MlflowTrackingUri parameter must be an https://"),
    ],
)
def test_an_mlflow_project_without_a_usable_tracking_server_fails_and_makes_nothing(
    aws: Emulated, lifecycle: Lifecycle, platform_uri: str, property_value: str, reason: str
) -> None:
    aws.settings = dataclasses.replace(aws.settings, mlflow_tracking_uri=platform_uri)
    answer = lifecycle.create(Registry="mlflow", MlflowTrackingUri=property_value)

    assert answer["Status"] == "FAILED"
    assert reason in answer["Reason"]
    assert aws.repository_names() == set()
    assert aws.registry_keys() == set()


def test_delete_all_leaves_a_repository_marked_for_a_project_whose_id_only_starts_alike(
    aws: Emulated, lifecycle: Lifecycle, hosted: ProviderApiServer
) -> None:
    # Another project's id extends ours: its marker contains ours as a substring.
    other = f"Model code of SageMaker project x (sagemaker:project-id={PROJECT_ID}x), made by ..."
    hosted.add_existing("github", "acme", PREFIX, other)
    props = {**hosted_props(aws, hosted, "github", "acme"), "OnDelete": "delete-all"}

    create = lifecycle.create(**props)  # an empty repository is seeded, never taken as ours
    delete = lifecycle.delete(create, **props)

    assert create["Status"] == "SUCCESS", create["Reason"]
    assert delete["Status"] == "SUCCESS", delete["Reason"]
    assert ("github", "acme", PREFIX) in hosted.repos, "the other project's repository survives"
    assert "DELETE" not in [method for method, _ in hosted.calls("github")]


@pytest.mark.parametrize(
    ("platform_uri", "property_value", "origin"),
    [
        (
            MLFLOW_TRACKING_URI,
            "https://robot:s3cret@mlflow.example.com",
            "MlflowTrackingUri parameter",
        ),
        ("https://robot:s3cret@mlflow.example.com", "", "platform's MlflowTrackingUri"),
    ],
)
def test_an_mlflow_tracking_uri_with_credentials_is_refused_before_anything_is_made(
    aws: Emulated, lifecycle: Lifecycle, platform_uri: str, property_value: str, origin: str
) -> None:
    aws.settings = dataclasses.replace(aws.settings, mlflow_tracking_uri=platform_uri)
    answer = lifecycle.create(Registry="mlflow", MlflowTrackingUri=property_value)

    assert answer["Status"] == "FAILED"
    assert origin in answer["Reason"] and "must not hold credentials" in answer["Reason"]
    assert "s3cret" not in answer["Reason"]
    assert aws.repository_names() == set(), "nothing was pushed into a project.json"
    assert aws.registry_keys() == set()


class RedirectingApi:
    """An API host (HTTPS) that redirects every request to another host, which records what
    arrives."""

    def __init__(self, tls: ssl.SSLContext) -> None:
        self.arrived: list[dict[str, str]] = []
        arrived = self.arrived

        class Elsewhere(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                arrived.append(dict(self.headers))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
        target = f"http://localhost:{self.elsewhere.server_address[1]}"

        class Redirect(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(301)
                self.send_header("Location", target + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.api = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        self.api.socket = tls.wrap_socket(self.api.socket, server_side=True)
        for server in (self.elsewhere, self.api):
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()

    def url(self) -> str:
        return f"https://127.0.0.1:{self.api.server_address[1]}/api/v4"

    def stop(self) -> None:
        for server in (self.elsewhere, self.api):
            server.shutdown()
            server.server_close()


@pytest.fixture
def redirecting_api(aws: Emulated) -> Iterator[RedirectingApi]:
    api = RedirectingApi(aws.authority.server_context())
    yield api
    api.stop()


def test_a_provider_api_redirect_is_not_followed_with_the_token(
    aws: Emulated, lifecycle: Lifecycle, redirecting_api: RedirectingApi
) -> None:
    secret = put_secret(aws, "gitlab-token", {"Token": TOKEN, "Hosts": ["127.0.0.1"]})

    answer = lifecycle.create(
        RepositoryProvider="gitlab",
        RepositoryOwner="acme",
        RepositorySecretArn=secret,
        ProviderApiUrl=redirecting_api.url(),
    )

    assert answer["Status"] == "FAILED"
    assert "GitLab answered HTTP 301" in answer["Reason"]
    assert "redirects are not followed" in answer["Reason"]
    assert redirecting_api.arrived == [], "the PRIVATE-TOKEN header never reached another host"
    assert aws.registry_keys() == set()


def connection_props(aws: Emulated, status: str = "AVAILABLE") -> dict[str, str]:
    arn = connection_arn("codeconnections")
    aws.connections.add(arn, "GitHub", status)
    path = f"/git-http/123456789012/us-east-1/{CONNECTION_ID}/acme/churn.git"
    aws.aws_git.add_repository(path)
    return {
        "RepositoryProvider": "github",
        "RepositoryOwner": "acme",
        "RepositoryName": "churn",
        "ConnectionArn": arn,
    }


@pytest.mark.parametrize("on_delete", ["retain-data", "delete-all"])
@pytest.mark.parametrize(
    "what_broke", ["secret deleted", "connection deleted", "connection pending"]
)
def test_delete_of_a_repository_the_platform_never_deletes_needs_no_credentials(
    aws: Emulated, lifecycle: Lifecycle, git_home: GitHttpServer, on_delete: str, what_broke: str
) -> None:
    if what_broke == "secret deleted":
        git_home.add_repository("/ml/churn.git")
        props = git_url_props(aws, git_home)
    else:
        props = connection_props(aws)
    props["OnDelete"] = on_delete
    create = lifecycle.create(**props)
    assert create["Status"] == "SUCCESS", create["Reason"]
    if what_broke == "secret deleted":
        aws.secretsmanager.delete_secret(
            SecretId=props["RepositorySecretArn"], ForceDeleteWithoutRecovery=True
        )
    elif what_broke == "connection deleted":
        aws.connections.connections.clear()
    else:
        aws.connections.add(props["ConnectionArn"], "GitHub", "PENDING")
    git_requests = len(git_home.requests) + len(aws.aws_git.requests)

    answer = lifecycle.delete(create, **props)

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert aws.registry_keys() == set(), "no record is left behind"
    assert aws.group_names() == set()
    assert len(git_home.requests) + len(aws.aws_git.requests) == git_requests, "no git call"
    if what_broke == "secret deleted":
        bare = git_home.repositories["/ml/churn.git"]
        assert (
            git("rev-parse", "refs/heads/prod", cwd=bare).stdout.strip()
            == (create["Data"]["SeedCommit"])
        ), "the repository is kept, untouched"


# --- a hosted repository made, then something goes wrong -----------------------------------

ODD_REPLIES = [
    ("gitlab", "acme/ml", {"http_url_to_repo": "http://gitlab.internal.example/acme/ml/x.git"}),
    ("github", "acme", {"clone_url": "http://github.internal.example/acme/x.git"}),
    ("github", "acme", {"clone_url": None}),  # a reply without a clone URL
    ("bitbucket", "acme", {"links": {"clone": []}}),
]


@pytest.mark.parametrize(("provider", "owner", "reply"), ODD_REPLIES)
def test_a_create_reply_that_fails_validation_takes_the_new_repository_back(
    aws: Emulated,
    lifecycle: Lifecycle,
    hosted: ProviderApiServer,
    provider: str,
    owner: str,
    reply: dict[str, Any],
) -> None:
    hosted.reply_fields[provider] = reply
    props = {**hosted_props(aws, hosted, provider, owner), "OnDelete": "delete-all"}

    answer = lifecycle.create(**props)

    assert answer["Status"] == "FAILED"
    assert hosted.repos == {}, "the repository this Create made was deleted again"
    assert [m for m, _ in hosted.calls(provider)].count("DELETE") == 1
    assert aws.registry_keys() == set()
    assert lifecycle.delete(answer, **props)["Status"] == "SUCCESS"


def test_delete_all_removes_a_repository_whose_clone_url_the_api_now_reports_oddly(
    aws: Emulated, lifecycle: Lifecycle, hosted: ProviderApiServer
) -> None:
    props = {**hosted_props(aws, hosted, "gitlab", "acme/ml"), "OnDelete": "delete-all"}
    create = lifecycle.create(**props)
    assert create["Status"] == "SUCCESS", create["Reason"]
    project_id = hosted.repos[("gitlab", "acme/ml", PREFIX)].id
    hosted.reply_fields["gitlab"] = {"http_url_to_repo": "http://gitlab.internal.example/x.git"}

    delete = lifecycle.delete(create, **props)

    assert delete["Status"] == "SUCCESS", delete["Reason"]
    assert hosted.repos == {}
    assert hosted.calls("gitlab")[-1] == ("DELETE", f"/projects/{project_id}"), "by its API id"
    assert aws.registry_keys() == set()


def test_a_token_that_may_create_but_not_push_or_delete_says_what_it_left_behind(
    aws: Emulated, lifecycle: Lifecycle, hosted: ProviderApiServer
) -> None:
    checks = hosted.git.authenticate
    hosted.git.authenticate = lambda request: (
        checks(request) and not request.path.endswith("git-receive-pack")
    )
    hosted.forbidden["github"] = {"DELETE"}
    props = hosted_props(aws, hosted, "github", "acme")

    answer = lifecycle.create(**props)

    assert answer["Status"] == "FAILED"
    assert "while pushing to it" in answer["Reason"]
    assert f"acme/{PREFIX}" in answer["Reason"] and "delete it by hand" in answer["Reason"]
    assert ("github", "acme", PREFIX) in hosted.repos


# --- Update of a project whose repository exists ------------------------------------------


def gone(aws: Emulated, secret_arn: str = "") -> None:
    """What an Update must not need once the repository exists: the secret, the seed code."""
    if secret_arn:
        aws.secretsmanager.delete_secret(SecretId=secret_arn, ForceDeleteWithoutRecovery=True)
    for key in SEED_CODE_KEYS.values():
        aws.s3.delete_object(Bucket=ARTIFACTS_BUCKET, Key=key)


@pytest.mark.parametrize("provider", ["codecommit", "github", "git", "connection"])
def test_update_of_an_existing_repository_needs_neither_the_secret_nor_the_seed_code(
    aws: Emulated,
    lifecycle: Lifecycle,
    hosted: ProviderApiServer,
    git_home: GitHttpServer,
    provider: str,
) -> None:
    props: dict[str, str] = {}
    if provider == "github":
        props = hosted_props(aws, hosted, "github", "acme")
    elif provider == "git":
        git_home.add_repository("/ml/churn.git")
        props = git_url_props(aws, git_home)
    elif provider == "connection":
        props = connection_props(aws)
    old = lifecycle.properties(**props)
    created = lifecycle.send("Create", old)
    assert created["Status"] == "SUCCESS", created["Reason"]
    gone(aws, props.get("RepositorySecretArn", ""))
    if provider == "connection":
        aws.connections.add(props["ConnectionArn"], "GitHub", "PENDING")
    new = lifecycle.properties(**props, OnDelete="delete-all", PortfolioVersion="0.1.1")

    update = lifecycle.send("Update", new, old=old, physical_id=PREFIX)
    rollback = lifecycle.send("Update", old, old=new, physical_id=PREFIX)

    assert update["Status"] == "SUCCESS", update["Reason"]
    assert update["Data"] == created["Data"], "the training project keeps its source"
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert [m for m, _ in hosted.calls("github")].count("POST") == (provider == "github")


def test_update_keeps_the_seed_commit_when_prod_has_moved_on(
    aws: Emulated, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    props = lifecycle.properties()
    created = lifecycle.send("Create", props)
    bare = aws.codecommit_git.bare_directory(PREFIX)
    work = tmp_path / "work"
    git("clone", "--quiet", str(bare), str(work))
    (work / "train.py").write_text("print('tuned')\n")
    git("add", "train.py", cwd=work)
    git("commit", "--quiet", "-m", "Tune", cwd=work)
    git("push", "--quiet", "origin", "prod", cwd=work)

    update = lifecycle.send("Update", props, old=props, physical_id=PREFIX)

    assert update["Status"] == "SUCCESS", update["Reason"]
    assert update["Data"]["SeedCommit"] == created["Data"]["SeedCommit"]
    record = aws.dynamodb.get_item(
        TableName=REGISTRY_TABLE, Key={"pk": {"S": f"repository#{PREFIX}"}}
    )["Item"]
    assert record["SeedCommit"]["S"] == created["Data"]["SeedCommit"], "pushes of prod still train"


def test_a_refused_repository_change_rolls_back_after_the_secret_was_deleted(
    aws: Emulated, lifecycle: Lifecycle, hosted: ProviderApiServer
) -> None:
    props = hosted_props(aws, hosted, "gitlab", "acme/ml")
    original = lifecycle.properties(**props)
    created = lifecycle.send("Create", original)
    gone(aws, props["RepositorySecretArn"])
    changed = lifecycle.properties(**{**props, "RepositoryOwner": "acme"})

    forward = lifecycle.send("Update", changed, old=original, physical_id=PREFIX)
    rollback = lifecycle.send("Update", original, old=changed, physical_id=PREFIX)

    assert forward["Status"] == "FAILED"
    assert "RepositoryOwner cannot change" in forward["Reason"]
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert rollback["Data"] == created["Data"]
    assert ("gitlab", "acme/ml", PREFIX) in hosted.repos


# --- The MLflow flavour: which tracking server the training role may use ------------------


@pytest.mark.parametrize(
    ("property_value", "server_arn"),
    [
        (MANAGED_MLFLOW, MANAGED_MLFLOW),
        # self-hosted (no IAM): only a managed server named after the project would match
        ("", f"arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/{PREFIX}"),
    ],
)
def test_the_training_role_may_use_only_the_projects_tracking_server(
    aws: Emulated, lifecycle: Lifecycle, property_value: str, server_arn: str
) -> None:
    props = lifecycle.properties(Registry="mlflow", MlflowTrackingUri=property_value)
    created = lifecycle.send("Create", props)
    assert created["Status"] == "SUCCESS", created["Reason"]
    assert created["Data"]["MlflowTrackingServerArn"] == server_arn

    # The platform's server changes later; project.json still names the old one, and so
    # does the role's permission after an Update.
    aws.settings = dataclasses.replace(aws.settings, mlflow_tracking_uri="https://new.example")
    update = lifecycle.send("Update", props, old=props, physical_id=PREFIX)

    assert update["Status"] == "SUCCESS", update["Reason"]
    assert update["Data"]["MlflowTrackingServerArn"] == server_arn


# The platform's self-hosted server: its builds run in its VPC and log in as its user.
SELF_HOSTED = PlatformMlflowServer(
    tracking_uri=MLFLOW_TRACKING_URI,
    credentials_secret_arn=(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:platform-mlflow-platform-user-Ab12Cd"
    ),
    vpc_id="vpc-0a1b2c3d",
    subnet_ids="subnet-0a1b2c3d,subnet-4e5f6a7b",
    security_group_id="sg-0a1b2c3d",
)


@pytest.mark.parametrize(
    ("property_value", "on_the_platforms_server"),
    [
        ("", True),
        (MLFLOW_TRACKING_URI + "/", True),  # the same server, named by the project
        ("https://mlflow.team-a.example", False),
        (MANAGED_MLFLOW, False),
    ],
)
def test_builds_get_the_self_hosted_servers_network_and_user_only_when_on_it(
    aws: Emulated, lifecycle: Lifecycle, property_value: str, on_the_platforms_server: bool
) -> None:
    """The product template reads these attributes for its build's VPC and credentials; a
    project on a server of its own gets none: the platform's password goes to no other server."""
    aws.settings = dataclasses.replace(aws.settings, platform_mlflow=SELF_HOSTED)
    props = lifecycle.properties(Registry="mlflow", MlflowTrackingUri=property_value)

    created = lifecycle.send("Create", props)

    assert created["Status"] == "SUCCESS", created["Reason"]
    data = created["Data"]
    assert data["MlflowTrackingUri"] == (property_value or MLFLOW_TRACKING_URI)
    build = {
        key: data[key]
        for key in (
            "MlflowBuildCredentialsArn",
            "MlflowBuildVpcId",
            "MlflowBuildSubnetIds",
            "MlflowBuildSecurityGroupId",
        )
    }
    if on_the_platforms_server:
        assert build == {
            "MlflowBuildCredentialsArn": SELF_HOSTED.credentials_secret_arn,
            "MlflowBuildVpcId": "vpc-0a1b2c3d",
            "MlflowBuildSubnetIds": "subnet-0a1b2c3d,subnet-4e5f6a7b",
            "MlflowBuildSecurityGroupId": "sg-0a1b2c3d",
        }
    else:
        assert set(build.values()) == {""}


@pytest.mark.parametrize(
    ("before", "after", "named"),
    [
        # Onto the platform's self-hosted server: the template would put the builds in its
        # network, whose attributes the lifecycle leaves empty for a project recorded on
        # another server (CodeBuild then failed the update on an empty VpcId).
        (
            "https://mlflow.team-a.example",
            "",
            f"to empty, the platform's server '{MLFLOW_TRACKING_URI}'",
        ),
        ("", "https://mlflow.team-a.example", "from empty, the platform's server"),
        ("https://mlflow.team-a.example", "https://mlflow.team-b.example", "team-b"),
        (MANAGED_MLFLOW, "https://mlflow.team-a.example", "mlflow-tracking-server/team-a"),
    ],
)
def test_update_refuses_to_move_a_project_to_another_tracking_server(
    aws: Emulated, lifecycle: Lifecycle, before: str, after: str, named: str
) -> None:
    aws.settings = dataclasses.replace(aws.settings, platform_mlflow=SELF_HOSTED)
    original = lifecycle.properties(Registry="mlflow", MlflowTrackingUri=before)
    moved = lifecycle.properties(Registry="mlflow", MlflowTrackingUri=after, OnDelete="delete-all")
    created = lifecycle.send("Create", original)
    assert created["Status"] == "SUCCESS", created["Reason"]

    forward = lifecycle.send("Update", moved, old=original, physical_id=PREFIX)
    # CloudFormation rolls back with the properties swapped.
    rollback = lifecycle.send("Update", original, old=moved, physical_id=PREFIX)

    assert forward["Status"] == "FAILED"
    assert "MlflowTrackingUri cannot change after the project is created" in forward["Reason"]
    assert named in forward["Reason"]
    assert "create a new project for the other server" in forward["Reason"]
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]  # not UPDATE_ROLLBACK_FAILED
    assert rollback["Data"] == created["Data"]
    record = aws.dynamodb.get_item(
        TableName=REGISTRY_TABLE, Key={"pk": {"S": f"project#{PROJECT_ID}"}}
    )["Item"]
    assert record["OnDelete"]["S"] == "retain-data"  # the refused update changed nothing


def test_update_takes_the_same_tracking_server_with_or_without_a_trailing_slash(
    lifecycle: Lifecycle,
) -> None:
    original = lifecycle.properties(Registry="mlflow", MlflowTrackingUri="https://mlflow.a.example")
    created = lifecycle.send("Create", original)
    same = {**original, "MlflowTrackingUri": "https://mlflow.a.example/ "}

    update = lifecycle.send("Update", same, old=original, physical_id=PREFIX)

    assert update["Status"] == "SUCCESS", update["Reason"]
    assert update["Data"]["MlflowTrackingUri"] == created["Data"]["MlflowTrackingUri"]


def test_after_the_platform_moved_a_project_may_name_its_own_server_and_go_back(
    aws: Emulated, lifecycle: Lifecycle
) -> None:
    """A project made on the platform's server (empty value) stays there when the platform
    moves: it may then name that server itself (so the template no longer gives its builds
    the new server's network), and every rollback of such an update succeeds."""
    on_platform = lifecycle.properties(Registry="mlflow", MlflowTrackingUri="")
    created = lifecycle.send("Create", on_platform)
    assert created["Status"] == "SUCCESS", created["Reason"]
    # The platform now runs a self-hosted server of its own, at another address.
    new_server = "https://mlflow.new.example"
    aws.settings = dataclasses.replace(
        aws.settings,
        mlflow_tracking_uri=new_server,
        platform_mlflow=dataclasses.replace(SELF_HOSTED, tracking_uri=new_server),
    )
    named = lifecycle.properties(Registry="mlflow", MlflowTrackingUri=MLFLOW_TRACKING_URI)
    elsewhere = lifecycle.properties(Registry="mlflow", MlflowTrackingUri="https://other.example")

    spelled_out = lifecycle.send("Update", named, old=on_platform, physical_id=PREFIX)
    rollback = lifecycle.send("Update", on_platform, old=named, physical_id=PREFIX)
    again = lifecycle.send("Update", named, old=on_platform, physical_id=PREFIX)
    moved = lifecycle.send("Update", elsewhere, old=named, physical_id=PREFIX)

    assert spelled_out["Status"] == "SUCCESS", spelled_out["Reason"]
    assert spelled_out["Data"]["MlflowTrackingUri"] == MLFLOW_TRACKING_URI
    assert spelled_out["Data"]["MlflowBuildVpcId"] == ""  # not the new server's network
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]
    assert rollback["Data"]["MlflowTrackingUri"] == MLFLOW_TRACKING_URI
    assert again["Status"] == "SUCCESS", again["Reason"]
    assert moved["Status"] == "FAILED"
    assert f"the project's tracking server is '{MLFLOW_TRACKING_URI}'" in moved["Reason"]


def test_without_a_self_hosted_server_builds_get_no_credentials(lifecycle: Lifecycle) -> None:
    created = lifecycle.send("Create", lifecycle.properties(Registry="mlflow"))

    assert created["Status"] == "SUCCESS", created["Reason"]
    assert created["Data"]["MlflowTrackingUri"] == MLFLOW_TRACKING_URI
    assert created["Data"]["MlflowBuildCredentialsArn"] == ""
    assert created["Data"]["MlflowBuildVpcId"] == ""


@pytest.mark.parametrize(
    "uri",
    [
        "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/*",
        "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/team-?",
        "arn:aws:s3:::some-bucket",
    ],
)
def test_an_mlflow_arn_that_is_not_one_tracking_server_is_refused(
    aws: Emulated, lifecycle: Lifecycle, uri: str
) -> None:
    answer = lifecycle.create(Registry="mlflow", MlflowTrackingUri=uri)

    assert answer["Status"] == "FAILED"
    assert "is not the ARN of a SageMaker MLflow tracking server" in answer["Reason"]
    assert aws.repository_names() == set() and aws.registry_keys() == set()
