"""Repository settings: defaults, derived names, and the combinations that are refused."""

from __future__ import annotations

import pytest

from lambda_project_lifecycle.errors import InvalidProjectError
from lambda_project_lifecycle.naming import NAME_RULES, ProjectNames, check_name
from lambda_project_lifecycle.repositories.settings import RepositorySettings

NAMES = ProjectNames("Churn-Model", "p-7gxpyr2wsl2k")
LONGEST = ProjectNames("m" * 32, "p-" + "x" * 14)
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mlops-portfolio/gh-Ab12Cd"
OTHER_REGION_SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlops-portfolio/x"
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0f4e8c2a-6b1d"


def parse(names: ProjectNames = NAMES, **properties: str) -> RepositorySettings:
    return RepositorySettings.from_properties(properties, names=names, region="us-east-1")


def test_codecommit_is_the_default_and_named_after_the_project() -> None:
    settings = parse()
    assert settings.provider == "codecommit"
    assert settings.name == "sagemaker-Churn-Model-p-7gxpyr2wsl2k"
    assert settings.registry_key() == settings.name


@pytest.mark.parametrize(
    ("provider", "rule"),
    [
        ("codecommit", "codecommit_repository"),
        ("github", "github_repository"),
        ("gitlab", "gitlab_project"),
        ("bitbucket", "bitbucket_repository"),
    ],
)
def test_default_names_fit_each_provider_for_the_longest_project(provider: str, rule: str) -> None:
    extra = (
        {}
        if provider == "codecommit"
        else {"RepositoryOwner": "acme", "RepositorySecretArn": SECRET}
    )
    settings = parse(LONGEST, RepositoryProvider=provider, **extra)
    check_name(rule, settings.name)
    assert len(settings.name) <= NAME_RULES[rule].max_length


def test_bitbucket_slugs_are_lower_case() -> None:
    settings = parse(
        RepositoryProvider="bitbucket", RepositoryOwner="acme", RepositorySecretArn=SECRET
    )
    assert settings.name == "sagemaker-churn-model-p-7gxpyr2wsl2k"
    assert settings.registry_key() == "bitbucket/acme/sagemaker-churn-model-p-7gxpyr2wsl2k"


def test_a_given_name_is_kept() -> None:
    settings = parse(
        RepositoryProvider="gitlab",
        RepositoryOwner="acme/ml",
        RepositoryName="churn",
        ConnectionArn=CONNECTION,
    )
    assert settings.name == "churn"
    assert settings.connection_parts()["id"] == "0f4e8c2a-6b1d"


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"RepositoryProvider": "hg"}, "RepositoryProvider must be one of"),
        (
            {"RepositoryOwner": "acme"},
            "RepositoryOwner is not used with RepositoryProvider codecommit",
        ),
        (
            {"RepositoryUrl": "https://x/y.git"},
            "RepositoryUrl is not used with RepositoryProvider codecommit",
        ),
        (
            {"ProviderApiUrl": "https://x"},
            "ProviderApiUrl is not used with RepositoryProvider codecommit",
        ),
        (
            {"RepositoryProvider": "github", "RepositorySecretArn": SECRET},
            "RepositoryOwner is required with RepositoryProvider github",
        ),
        (
            {
                "RepositoryProvider": "github",
                "RepositoryOwner": "-acme",
                "RepositorySecretArn": SECRET,
            },
            "RepositoryOwner '-acme' is not a valid GitHub owner",
        ),
        (
            {
                "RepositoryProvider": "github",
                "RepositoryOwner": "a/b",
                "RepositorySecretArn": SECRET,
            },
            "RepositoryOwner 'a/b' is not a valid GitHub owner",
        ),
        (
            {
                "RepositoryProvider": "gitlab",
                "RepositoryOwner": "acme",
                "ConnectionArn": CONNECTION,
                "ProviderApiUrl": "https://gitlab.example.com/api/v4",
            },
            "ProviderApiUrl is not used with ConnectionArn",
        ),
        (
            {
                "RepositoryProvider": "git",
                "RepositoryUrl": "https://x/y.git",
                "RepositoryOwner": "a",
            },
            "RepositoryOwner is not used with RepositoryProvider git",
        ),
        (
            {"RepositoryProvider": "git", "RepositoryUrl": "https://x/y.git"},
            "RepositorySecretArn is required with RepositoryProvider git",
        ),
        (
            {
                "RepositoryProvider": "git",
                "RepositoryUrl": "ftp://x/y.git",
                "RepositorySecretArn": SECRET,
            },
            "RepositoryUrl must be an https:// URL",
        ),
        (
            {
                "RepositoryProvider": "github",
                "RepositoryOwner": "acme",
                "RepositorySecretArn": OTHER_REGION_SECRET,
            },
            f"RepositorySecretArn {OTHER_REGION_SECRET} is in region eu-west-1; the project is in "
            "us-east-1",
        ),
        (
            {
                "RepositoryProvider": "github",
                "RepositoryOwner": "acme",
                "ConnectionArn": "arn:aws:s3:::x",
            },
            "ConnectionArn 'arn:aws:s3:::x' does not match",
        ),
        (
            {
                "RepositoryProvider": "github",
                "RepositoryOwner": "acme",
                "RepositorySecretArn": SECRET,
                "RepositoryName": "churn.git",
            },
            "RepositoryName 'churn.git' is not a valid GitHub repository name",
        ),
        (
            # the platform may make, and trains on pushes to, sagemaker-* repositories only
            {"RepositoryName": "churn-models"},
            "RepositoryName 'churn-models' must start with 'sagemaker-' with "
            "RepositoryProvider codecommit",
        ),
        (
            {"RepositoryName": "with space"},
            "RepositoryName 'with space' is not a valid CodeCommit repository name",
        ),
        (
            {
                "RepositoryProvider": "bitbucket",
                "RepositoryOwner": "acme",
                "RepositorySecretArn": SECRET,
                "RepositoryName": "Churn",
            },
            "RepositoryName 'Churn' is not a valid Bitbucket repository slug name",
        ),
    ],
)
def test_invalid_settings_name_the_parameter(properties: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidProjectError) as raised:
        parse(**properties)
    assert message in str(raised.value)


def test_plain_http_is_refused_even_to_this_machine() -> None:
    local = parse(
        RepositoryProvider="git",
        RepositoryUrl="https://127.0.0.1:8443/ml/x.git",
        RepositorySecretArn=SECRET,
    )
    assert local.url == "https://127.0.0.1:8443/ml/x.git"
    for url in ("http://127.0.0.1:8080/ml/x.git", "http://10.0.0.5/ml/x.git"):
        with pytest.raises(InvalidProjectError, match="RepositoryUrl must be an https:// URL"):
            parse(RepositoryProvider="git", RepositoryUrl=url, RepositorySecretArn=SECRET)
