"""A repository token goes only to the hosts its secret names (never where a project says).

Any Studio user may name any secret under the platform's prefix; what they may
not do is point another team's token at a host they control. Each test names a
secret with a ProviderApiUrl, RepositoryUrl or clone URL on another host, and
checks that the Create fails naming the secret's hosts, and that the other host
never received a request carrying the token.
"""

from __future__ import annotations

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
from tests.support.provider_apis import ProviderApiServer


def carried_the_token(api: ProviderApiServer) -> list[str]:
    return [
        request.path
        for request in api.requests
        if TOKEN in request.headers.get("Authorization", "")
        or request.headers.get("PRIVATE-TOKEN") == TOKEN
    ]


@pytest.mark.parametrize(
    ("provider", "secret", "allowed"),
    [
        # CodeBuild's own format binds a cloud service's token to that service.
        (
            "github",
            {"ServerType": "GITHUB", "AuthType": "PERSONAL_ACCESS_TOKEN", "Token": TOKEN},
            "github.com, api.github.com",
        ),
        ("gitlab", {"ServerType": "GITLAB", "Token": TOKEN}, "gitlab.com"),
        (
            "bitbucket",
            {"Token": TOKEN, "Hosts": ["bitbucket.org", "api.bitbucket.org"]},
            "bitbucket.org",
        ),
    ],
)
def test_a_token_is_not_sent_to_a_provider_api_url_on_another_host(
    aws: Emulated,
    lifecycle: Lifecycle,
    hosted: ProviderApiServer,
    provider: str,
    secret: dict[str, object],
    allowed: str,
) -> None:
    arn = put_secret(aws, f"{provider}-team-b", secret)

    answer = lifecycle.create(
        RepositoryProvider=provider,
        RepositoryOwner="acme",
        RepositorySecretArn=arn,
        ProviderApiUrl=hosted.api_url(provider),  # a host the project's author controls
    )

    assert answer["Status"] == "FAILED"
    assert f"RepositorySecretArn {arn} may be sent only to {allowed}" in answer["Reason"]
    assert "ProviderApiUrl https://127.0.0.1:" in answer["Reason"]
    assert hosted.requests == [], "the API host got no request at all"
    assert aws.registry_keys() == set() and aws.repository_names() == set()


def test_a_git_token_is_not_sent_to_a_repository_url_on_another_host(
    aws: Emulated, lifecycle: Lifecycle, git_home: GitHttpServer
) -> None:
    git_home.add_repository("/ml/churn.git")
    arn = put_secret(
        aws,
        "git-team-b",
        {"Username": GIT_USER, "Token": GIT_PASSWORD, "Hosts": ["git.team-b.example"]},
    )

    answer = lifecycle.create(
        RepositoryProvider="git",
        RepositoryUrl=git_home.url("/ml/churn.git"),
        RepositorySecretArn=arn,
    )

    assert answer["Status"] == "FAILED"
    assert (
        "may be sent only to git.team-b.example; RepositoryUrl https://127.0.0.1:"
        in (answer["Reason"])
    )
    assert [r for r in git_home.requests if r.username] == [], "no credentials reached the host"


def test_a_clone_url_on_a_host_the_secret_does_not_name_gets_no_token(
    aws: Emulated, lifecycle: Lifecycle, hosted: ProviderApiServer
) -> None:
    api_host = hosted.api_url("github").split("/")[2]  # 127.0.0.1:<API port> only
    arn = put_secret(aws, "gh-api-only", {"Token": TOKEN, "Hosts": [api_host]})

    answer = lifecycle.create(
        RepositoryProvider="github",
        RepositoryOwner="acme",
        RepositorySecretArn=arn,
        ProviderApiUrl=hosted.api_url("github"),
    )

    assert answer["Status"] == "FAILED"
    assert (
        f"may be sent only to {api_host}; the clone URL the GitHub API returned"
        in (answer["Reason"])
    )
    assert hosted.git.requests == [], "the clone URL's host got nothing"
    assert hosted.repos == {}, "the repository made for the push is taken back"
    assert ("DELETE", f"/repos/acme/{PREFIX}") in hosted.calls("github")


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ({"Token": TOKEN}, "names no host its token is for"),
        ({"ServerType": "GITHUB_ENTERPRISE", "Token": TOKEN}, "names no host its token is for"),
        ({"Token": TOKEN, "Hosts": ["https://127.0.0.1/api"]}, "list host names"),
        ({"Token": TOKEN, "Hosts": 7}, "must be a list of host names"),
    ],
)
def test_a_secret_that_binds_its_token_to_no_host_is_refused(
    aws: Emulated,
    lifecycle: Lifecycle,
    hosted: ProviderApiServer,
    secret: dict[str, object],
    reason: str,
) -> None:
    answer = lifecycle.create(
        RepositoryProvider="github",
        RepositoryOwner="acme",
        RepositorySecretArn=put_secret(aws, "gh-unbound", secret),
        ProviderApiUrl=hosted.api_url("github"),
    )

    assert answer["Status"] == "FAILED"
    assert reason in answer["Reason"]
    assert carried_the_token(hosted) == []


@pytest.mark.parametrize(
    "hosts", [["127.0.0.1"], "127.0.0.1", ["LocalHost", "127.0.0.1"], ["127.0.0.1 "]]
)
def test_a_secret_naming_the_hosts_works_as_before(
    aws: Emulated, lifecycle: Lifecycle, hosted: ProviderApiServer, hosts: object
) -> None:
    answer = lifecycle.create(
        RepositoryProvider="gitlab",
        RepositoryOwner="acme",
        RepositorySecretArn=put_secret(aws, "gl", {"Token": TOKEN, "Hosts": hosts}),
        ProviderApiUrl=hosted.api_url("gitlab"),
    )

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert ("gitlab", "acme", PREFIX) in hosted.repos
