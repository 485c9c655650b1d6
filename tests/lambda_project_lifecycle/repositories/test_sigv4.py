"""Git credentials from AWS credentials, as git-remote-codecommit derives them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambda_project_lifecycle.repositories.git_transport import GitEndpoint
from lambda_project_lifecycle.repositories.sigv4 import AwsCredentials, git_password, git_username
from sandbox.sigv4_check import expected_password

# The published vector of git-remote-codecommit's own tests (region us-west-2,
# credentials access/secret, 2017-12-24 11:53:20 UTC, repository test_repo).
VECTOR_WHEN = datetime(2017, 12, 24, 11, 53, 20, tzinfo=UTC)
VECTOR_PASSWORD = "20171224T115320Zb6df2d758a8023b2f000a546417007b65494f3ce8ad0300fd45fcfa173f1959a"


def test_password_matches_the_fixed_vector() -> None:
    password = git_password(
        AwsCredentials("access", "secret"),
        host="git-codecommit.us-west-2.amazonaws.com",
        path="/v1/repos/test_repo",
        region="us-west-2",
        when=VECTOR_WHEN,
    )
    assert password == VECTOR_PASSWORD


def test_a_session_token_goes_into_the_username_not_the_signature() -> None:
    with_token = AwsCredentials("access", "secret", "token")
    assert git_username(with_token) == "access%token"
    assert git_username(AwsCredentials("access", "secret")) == "access"
    assert (
        git_password(
            with_token,
            host="git-codecommit.us-west-2.amazonaws.com",
            path="/v1/repos/test_repo",
            region="us-west-2",
            when=VECTOR_WHEN,
        )
        == VECTOR_PASSWORD
    )


@pytest.mark.parametrize(
    ("host", "path", "region"),
    [
        ("git-codecommit.eu-west-1.amazonaws.com", "/v1/repos/sagemaker-churn-p-1", "eu-west-1"),
        (
            "codestar-connections.us-east-1.amazonaws.com",
            "/git-http/123456789012/us-east-1/0f4e8c2a/acme/churn.git",
            "us-east-1",
        ),
        (
            "codeconnections.ap-southeast-1.amazonaws.com",
            "/git-http/123456789012/ap-southeast-1/0f4e8c2a/acme/churn.git",
            "ap-southeast-1",
        ),
    ],
)
def test_password_agrees_with_botocores_signer(host: str, path: str, region: str) -> None:
    when = datetime(2026, 11, 22, 10, 15, 0, tzinfo=UTC)
    ours = git_password(
        AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        host=host,
        path=path,
        region=region,
        when=when,
    )
    assert ours == expected_password(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "AKIDEXAMPLE",
        host,
        path,
        region,
        "20261122T101500",
    )


def test_the_password_changes_with_the_path_region_and_time() -> None:
    credentials = AwsCredentials("access", "secret")
    base = {"host": "h", "path": "/v1/repos/a", "region": "us-east-1", "when": VECTOR_WHEN}
    passwords = {
        git_password(credentials, **base),  # type: ignore[arg-type]
        git_password(credentials, **{**base, "path": "/v1/repos/b"}),  # type: ignore[arg-type]
        git_password(credentials, **{**base, "region": "eu-west-1"}),  # type: ignore[arg-type]
        git_password(credentials, **{**base, "when": datetime(2018, 1, 1, tzinfo=UTC)}),  # type: ignore[arg-type]
    }
    assert len(passwords) == 4


def test_a_printed_git_endpoint_shows_neither_the_session_token_nor_the_password() -> None:
    credentials = AwsCredentials("AKIAEXAMPLE", "secret", "IQoJb3JpZ2luX2VjSESSIONTOKEN")
    endpoint = GitEndpoint(
        url="https://git-codecommit.us-west-2.amazonaws.com/v1/repos/test_repo",
        username=git_username(credentials),
        password=VECTOR_PASSWORD,
        http=None,
        credentials_from="the Lambda role (SigV4)",
    )
    printed = repr(endpoint)  # what a log line or a traceback shows
    assert "IQoJb3JpZ2luX2VjSESSIONTOKEN" not in printed
    assert VECTOR_PASSWORD not in printed
    assert "test_repo" in printed
