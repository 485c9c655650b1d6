"""Every bad input is a FAILED answer that names the cause, with nothing half-made.

Each case sets up one mistake a platform engineer or data scientist could make,
sends Create through the real handler, and checks the answer's reason, that no
repository, model group or registry record was made, that no git server got a
push and no provider API a create call, and that CloudFormation's rollback
(Delete of the failed resource) succeeds.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.git_server import GitHttpServer
from tests.lambda_project_lifecycle.conftest import Emulated
from tests.lambda_project_lifecycle.repositories.conftest import (
    GIT_PASSWORD,
    GIT_USER,
    PREFIX,
    TOKEN,
    Lifecycle,
    put_secret,
)
from tests.support.git_checks import git, push_foreign_commit
from tests.support.provider_apis import ProviderApiServer


@dataclass
class World:
    aws: Emulated
    hosted: ProviderApiServer
    git_home: GitHttpServer
    tmp_path: Path


Setup = Callable[[World], dict[str, str]]
CONNECTION_ID = "5b1f0c9e-2d7a-4e68-b3f1-9a0c4d8e7f21"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


LOCAL = {"Hosts": ["127.0.0.1"]}  # the servers of these tests, which the secrets are for


def token_secret(world: World, value: object = None) -> str:
    if isinstance(value, dict) and "token" in {key.lower() for key in value}:
        value = {**value, **LOCAL}
    return put_secret(
        world.aws, "gh-token", value if value is not None else {"Token": TOKEN, **LOCAL}
    )


def github(world: World, **overrides: str) -> dict[str, str]:
    props = {
        "RepositoryProvider": "github",
        "RepositoryOwner": "acme",
        "RepositorySecretArn": overrides.pop("RepositorySecretArn", None) or token_secret(world),
        "ProviderApiUrl": world.hosted.api_url("github"),
    }
    props.update(overrides)
    return props


def plain_git(world: World, secret: dict[str, str] | None = None, url: str = "") -> dict[str, str]:
    world.git_home.add_repository("/ml/churn.git")
    value = {**(secret or {"Username": GIT_USER, "Token": GIT_PASSWORD}), **LOCAL}
    return {
        "RepositoryProvider": "git",
        "RepositoryUrl": url or world.git_home.url("/ml/churn.git"),
        "RepositorySecretArn": put_secret(world.aws, "git-home", value),
    }


def foreign_github_repository(world: World) -> dict[str, str]:
    repo = world.hosted.add_existing("github", "acme", PREFIX, "the data team's old repo")
    push_foreign_commit(
        world.hosted.git.url(repo.git_path, "x-access-token", TOKEN), world.tmp_path
    )
    return github(world)


def foreign_git_repository(world: World) -> dict[str, str]:
    props = plain_git(world)
    push_foreign_commit(world.git_home.url("/ml/churn.git", GIT_USER, GIT_PASSWORD), world.tmp_path)
    return props


def connection(
    world: World,
    *,
    region: str = "us-east-1",
    status: str = "AVAILABLE",
    provider_type: str = "GitHub",
    declare: bool = True,
) -> dict[str, str]:
    arn = f"arn:aws:codeconnections:{region}:123456789012:connection/{CONNECTION_ID}"
    if declare:
        world.aws.connections.add(arn, provider_type, status)
    return {
        "RepositoryProvider": "github",
        "RepositoryOwner": "acme",
        "RepositoryName": "churn",
        "ConnectionArn": arn,
    }


SECRET_ARN_NOT_THERE = (
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:mlops-portfolio/gone-a1B2c3"
)

CASES: list[tuple[str, Setup, str]] = [
    # --- the token secret: missing, unreadable -------------------------------------------
    (
        "missing token secret",
        lambda w: github(w, RepositorySecretArn=SECRET_ARN_NOT_THERE),
        f"RepositorySecretArn {SECRET_ARN_NOT_THERE}: no such secret",
    ),
    (
        "secret is not JSON",
        lambda w: github(w, RepositorySecretArn=token_secret(w, "ghp_plain_text")),
        "must hold a JSON object with Token",
    ),
    (
        "secret without a token",
        lambda w: github(w, RepositorySecretArn=token_secret(w, {"token_value": "x"})),
        "has no Token",
    ),
    (
        "git secret without a username",
        lambda w: plain_git(w, secret={"Token": GIT_PASSWORD}),
        "has no Username (required for a git URL)",
    ),
    # --- wrong credentials ----------------------------------------------------------------
    (
        "wrong GitHub token",
        lambda w: github(w, RepositorySecretArn=token_secret(w, {"Token": "ghp_revoked"})),
        "GitHub refused the token from RepositorySecretArn",
    ),
    (
        "wrong GitLab token",
        lambda w: {
            **github(w, RepositorySecretArn=token_secret(w, {"Token": "glpat-revoked"})),
            "RepositoryProvider": "gitlab",
            "ProviderApiUrl": w.hosted.api_url("gitlab"),
        },
        "GitLab refused the token from RepositorySecretArn",
    ),
    (
        "wrong Bitbucket token",
        lambda w: {
            **github(w, RepositorySecretArn=token_secret(w, {"Token": "ATCTT-revoked"})),
            "RepositoryProvider": "bitbucket",
            "ProviderApiUrl": w.hosted.api_url("bitbucket"),
        },
        "Bitbucket refused the token from RepositorySecretArn",
    ),
    (
        "wrong git password",
        lambda w: plain_git(w, secret={"Username": GIT_USER, "Token": "wrong"}),
        "refused the credentials from RepositorySecretArn",
    ),
    # --- unreachable URLs -----------------------------------------------------------------
    (
        "unreachable git URL",
        lambda w: plain_git(w, url=f"https://127.0.0.1:{closed_port()}/ml/churn.git"),
        "Could not reach https://127.0.0.1:",
    ),
    (
        "unreachable provider API",
        lambda w: github(w, ProviderApiUrl=f"https://127.0.0.1:{closed_port()}/api/v3"),
        "Could not reach the GitHub API at https://127.0.0.1:",
    ),
    (
        "git URL without a repository",
        lambda w: plain_git(w, url=w.git_home.url("/ml/nothing-here.git")),
        "No git repository at",
    ),
    (
        "plain-HTTP git URL on the internet",
        lambda w: plain_git(w, url="http://git.example.com/ml/churn.git"),
        "RepositoryUrl must be an https:// URL",
    ),
    # --- repositories that exist and are not empty -----------------------------------------
    (
        "GitHub repository with someone's commits",
        foreign_github_repository,
        "exists and is not empty (branches: main), and its prod branch is not this project's",
    ),
    (
        "git repository with someone's commits",
        foreign_git_repository,
        "exists and is not empty (branches: main)",
    ),
    # --- names over the provider's limit -----------------------------------------------------
    (
        "CodeCommit name outside the platform's sagemaker- prefix",
        lambda w: {"RepositoryName": "churn-models"},
        "RepositoryName 'churn-models' must start with 'sagemaker-'",
    ),
    (
        "CodeCommit name over 100",
        lambda w: {"RepositoryName": "r" * 101},
        "RepositoryName 'rrrr",
    ),
    (
        "GitHub name over 100",
        lambda w: github(w, RepositoryName="g" * 101),
        "is 101 characters, over the 100-character limit of a GitHub repository",
    ),
    (
        "Bitbucket slug over 62",
        lambda w: {
            **github(w, RepositoryName="b" * 63),
            "RepositoryProvider": "bitbucket",
            "ProviderApiUrl": w.hosted.api_url("bitbucket"),
        },
        "is 63 characters, over the 62-character limit of a Bitbucket repository slug",
    ),
    # --- connections --------------------------------------------------------------------------
    (
        "connection of another region",
        lambda w: connection(w, region="eu-west-1"),
        "ConnectionArn arn:aws:codeconnections:eu-west-1:123456789012:connection/5b1f0c9e-2d7a-"
        "4e68-b3f1-9a0c4d8e7f21 is in region eu-west-1; the project is in us-east-1",
    ),
    (
        "connection still pending",
        lambda w: connection(w, status="PENDING"),
        "is PENDING, not AVAILABLE: finish the handshake",
    ),
    (
        "connection to another provider",
        lambda w: connection(w, provider_type="GitLab"),
        "is a GitLab connection, but RepositoryProvider is github",
    ),
    (
        "connection that does not exist",
        lambda w: connection(w, declare=False),
        "no such connection",
    ),
    (
        "connection without its empty repository",
        lambda w: connection(w),
        "No git repository at https://codeconnections.us-east-1.amazonaws.com/git-http/",
    ),
    # --- combinations that make no sense ---------------------------------------------------
    (
        "unknown provider",
        lambda w: {"RepositoryProvider": "svn"},
        "RepositoryProvider must be one of codecommit, github, gitlab, bitbucket, git",
    ),
    (
        "CodeCommit with a connection",
        lambda w: {"ConnectionArn": connection(w)["ConnectionArn"]},
        "ConnectionArn is not used with RepositoryProvider codecommit",
    ),
    (
        "GitHub without an owner",
        lambda w: {**github(w), "RepositoryOwner": ""},
        "RepositoryOwner is required with RepositoryProvider github",
    ),
    (
        "GitHub with a token and a connection",
        lambda w: {**github(w), "ConnectionArn": connection(w)["ConnectionArn"]},
        "needs exactly one of ConnectionArn",
    ),
    (
        "GitHub with neither",
        lambda w: {"RepositoryProvider": "github", "RepositoryOwner": "acme"},
        "needs exactly one of ConnectionArn",
    ),
    (
        "git provider without a URL",
        lambda w: {"RepositoryProvider": "git", "RepositorySecretArn": token_secret(w)},
        "RepositoryUrl is required with RepositoryProvider git",
    ),
    (
        "credentials in the URL",
        lambda w: plain_git(w, url="https://user:pw@git.example.com/ml/churn.git"),
        "RepositoryUrl must not hold credentials",
    ),
]


@pytest.mark.parametrize(("case", "setup", "reason"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_naming_the_cause_and_makes_nothing(
    aws: Emulated,
    lifecycle: Lifecycle,
    hosted: ProviderApiServer,
    git_home: GitHttpServer,
    tmp_path: Path,
    case: str,
    setup: Setup,
    reason: str,
) -> None:
    world = World(aws, hosted, git_home, tmp_path)
    props = setup(world)
    repos_before = {key: repo.git_path for key, repo in hosted.repos.items()}
    refs_before = {
        path: git("for-each-ref", cwd=directory).stdout
        for path, directory in {**git_home.repositories}.items()
    }

    requests_before = len(git_home.requests)

    answer = lifecycle.create(**props)

    assert answer["Status"] == "FAILED", case
    assert reason in answer["Reason"]
    assert "testing" not in answer["Reason"] and TOKEN not in answer["Reason"], "no secrets"
    assert aws.repository_names() == set()
    assert {key: repo.git_path for key, repo in hosted.repos.items()} == repos_before
    assert [r for r in hosted.requests if r.method in ("POST", "PUT", "DELETE")] == []
    for path, directory in git_home.repositories.items():
        assert git("for-each-ref", cwd=directory).stdout == refs_before.get(path, "")
    assert not [
        r for r in git_home.requests[requests_before:] if r.path.endswith("git-receive-pack")
    ]
    assert aws.group_names() == set()
    assert aws.registry_keys() == set()

    delete = lifecycle.delete(answer, **props)
    assert delete["Status"] == "SUCCESS", delete["Reason"]
