"""The repository settings of a project: which provider, and how to reach it.

They arrive as properties of the ``Custom::ProjectLifecycle`` resource, one per
product-template parameter of the same name. Every rule here fails with a
message that names the parameter, before anything is made.

| provider    | repository                         | credentials                        |
|-------------|------------------------------------|------------------------------------|
| codecommit  | created by the Lambda (default)    | the Lambda role (SigV4)            |
| github,     | created through the REST API       | token in ``RepositorySecretArn``   |
| gitlab,     | or an existing empty repository    | or ``ConnectionArn`` (the Lambda   |
| bitbucket   | reached through CodeConnections    | role signs the git-http requests)  |
| git         | existing empty repository at       | ``RepositorySecretArn``            |
|             | ``RepositoryUrl``                  | (username and password)            |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from lambda_project_lifecycle.errors import InvalidProjectError
from lambda_project_lifecycle.naming import NAME_PREFIX, NAME_RULES, ProjectNames
from lambda_project_lifecycle.resource_properties import (
    API_URL,
    CONNECTION,
    DEFAULT_PROVIDER,
    NAME,
    OWNER,
    PROVIDER,
    PROVIDERS,
    REPOSITORY_PROPERTIES,
    SECRET,
    URL,
)

HOSTED_PROVIDERS = ("github", "gitlab", "bitbucket")

# The naming rule each provider applies to repository names.
NAME_RULE_OF_PROVIDER = {
    "codecommit": "codecommit_repository",
    "github": "github_repository",
    "gitlab": "gitlab_project",
    "bitbucket": "bitbucket_repository",
}
DEFAULT_API_URLS = {
    "github": "https://api.github.com",
    "gitlab": "https://gitlab.com/api/v4",
    "bitbucket": "https://api.bitbucket.org/2.0",
}
PROVIDER_TITLES = {
    "codecommit": "CodeCommit",
    "github": "GitHub",
    "gitlab": "GitLab",
    "bitbucket": "Bitbucket",
    "git": "git",
}
# Owners: GitHub user or organization, GitLab group path (may be nested), Bitbucket workspace.
OWNER_PATTERNS = {
    "github": r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$",
    "gitlab": r"^[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)*$",
    "bitbucket": r"^[A-Za-z0-9_.-]{1,62}$",
}
CONNECTION_ARN_PATTERN = (
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>codestar-connections|codeconnections):"
    r"(?P<region>[a-z0-9-]+):(?P<account>\d{12}):connection/(?P<id>[A-Za-z0-9-]+)$"
)
SECRET_ARN_PATTERN = (
    r"^arn:(?P<partition>aws[a-z-]*):secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>\d{12})"
    r":secret:(?P<name>[A-Za-z0-9/_+=.@-]+)$"
)

# Project CodeCommit repositories: the only ones the platform may create and route pushes of.
CODECOMMIT_NAME_PREFIX = f"{NAME_PREFIX}-"


@dataclass(frozen=True)
class RepositorySettings:
    provider: str
    owner: str = ""
    name: str = ""  # the repository name; derived from the project when not given
    connection_arn: str = ""
    secret_arn: str = ""
    url: str = ""
    api_url: str = ""

    @classmethod
    def from_properties(
        cls, properties: Mapping[str, Any], *, names: ProjectNames, region: str
    ) -> RepositorySettings:
        """Parse and check the repository properties of a project in ``region``."""
        values = {key: _text(properties, key) for key in REPOSITORY_PROPERTIES}
        provider = values[PROVIDER] or DEFAULT_PROVIDER
        if provider not in PROVIDERS:
            raise InvalidProjectError(
                f"{PROVIDER} must be one of {', '.join(PROVIDERS)} (got {provider!r})"
            )
        allowed = {
            "codecommit": {NAME},
            "github": {OWNER, NAME, CONNECTION, SECRET, API_URL},
            "gitlab": {OWNER, NAME, CONNECTION, SECRET, API_URL},
            "bitbucket": {OWNER, NAME, CONNECTION, SECRET, API_URL},
            "git": {URL, SECRET},
        }[provider]
        for key in REPOSITORY_PROPERTIES[1:]:
            if values[key] and key not in allowed:
                raise InvalidProjectError(
                    f"{key} is not used with {PROVIDER} {provider}; leave it empty "
                    f"(used with: {', '.join(k for k in REPOSITORY_PROPERTIES if k in allowed)})"
                )
        settings = cls(
            provider=provider,
            owner=values[OWNER],
            name=values[NAME],
            connection_arn=values[CONNECTION],
            secret_arn=values[SECRET],
            url=values[URL].rstrip("/"),
            api_url=values[API_URL].rstrip("/"),
        )
        settings._check(region)
        if provider in NAME_RULE_OF_PROVIDER and not settings.name:
            settings = replace(settings, name=names.repository(NAME_RULE_OF_PROVIDER[provider]))
        return settings

    # --- what the settings mean ---------------------------------------------------------

    @property
    def title(self) -> str:
        return PROVIDER_TITLES[self.provider]

    @property
    def uses_connection(self) -> bool:
        return bool(self.connection_arn)

    @property
    def provider_api_url(self) -> str:
        return self.api_url or DEFAULT_API_URLS.get(self.provider, "")

    def connection_parts(self) -> dict[str, str]:
        match = re.fullmatch(CONNECTION_ARN_PATTERN, self.connection_arn)
        if match is None:  # checked at parse time
            raise InvalidProjectError(f"{CONNECTION} {self.connection_arn!r} is not a connection")
        return match.groupdict()

    def registry_key(self) -> str:
        """How the project registry names the repository: ``repository#<this>``.

        CodeCommit repositories by name (as CodeCommit events name them); hosted
        ones by provider, owner and name; plain git by URL.
        """
        if self.provider == "codecommit":
            return self.name
        if self.provider == "git":
            return self.url
        return f"{self.provider}/{self.owner}/{self.name}"

    # --- rules ------------------------------------------------------------------------------

    def _check(self, region: str) -> None:
        if self.provider in HOSTED_PROVIDERS:
            if not self.owner:
                raise InvalidProjectError(
                    f"{OWNER} is required with {PROVIDER} {self.provider} "
                    "(GitHub organization or user, GitLab group, Bitbucket workspace)"
                )
            if not re.fullmatch(OWNER_PATTERNS[self.provider], self.owner):
                raise InvalidProjectError(
                    f"{OWNER} {self.owner!r} is not a valid {self.title} owner "
                    f"(pattern {OWNER_PATTERNS[self.provider]})"
                )
            if bool(self.connection_arn) == bool(self.secret_arn):
                raise InvalidProjectError(
                    f"{PROVIDER} {self.provider} needs exactly one of {CONNECTION} (an existing "
                    f"empty repository reached through CodeConnections) or {SECRET} (a token "
                    "with which the repository is created)"
                )
            if self.connection_arn and self.api_url:
                raise InvalidProjectError(
                    f"{API_URL} is not used with {CONNECTION}: the connection decides the host"
                )
        if self.provider == "git":
            if not self.url:
                raise InvalidProjectError(f"{URL} is required with {PROVIDER} git")
            if not self.secret_arn:
                raise InvalidProjectError(
                    f"{SECRET} is required with {PROVIDER} git (a secret with Username and Token)"
                )
            check_https_url(URL, self.url)
        if self.name and self.provider in NAME_RULE_OF_PROVIDER:
            rule = NAME_RULES[NAME_RULE_OF_PROVIDER[self.provider]]
            if len(self.name) > rule.max_length:
                raise InvalidProjectError(
                    f"{NAME} {self.name!r} is {len(self.name)} characters, over the "
                    f"{rule.max_length}-character limit of a {rule.what}"
                )
            if not re.fullmatch(rule.pattern, self.name) or self.name.endswith(".git"):
                raise InvalidProjectError(
                    f"{NAME} {self.name!r} is not a valid {rule.what} name (pattern "
                    f"{rule.pattern}, not ending in .git)"
                )
        if (
            self.name
            and self.provider == "codecommit"
            and not self.name.startswith(CODECOMMIT_NAME_PREFIX)
        ):
            # The lifecycle may make, and the push rule routes, only sagemaker-* repositories.
            raise InvalidProjectError(
                f"{NAME} {self.name!r} must start with {CODECOMMIT_NAME_PREFIX!r} with "
                f"{PROVIDER} codecommit (the platform may create, and trains on pushes to, "
                "only such repositories); leave it empty for the default name"
            )
        if self.connection_arn:
            _check_arn(CONNECTION, self.connection_arn, CONNECTION_ARN_PATTERN, region)
        if self.secret_arn:
            _check_arn(SECRET, self.secret_arn, SECRET_ARN_PATTERN, region)
        if self.api_url:
            check_https_url(API_URL, self.api_url)


def check_https_url(parameter: str, url: str) -> None:
    """An ``https://`` URL with a host and without credentials."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise InvalidProjectError(
            f"{parameter} must not hold credentials; put them in the {SECRET} secret"
        )
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidProjectError(f"{parameter} must be an https:// URL (got {url!r})")


def _check_arn(parameter: str, arn: str, pattern: str, region: str) -> None:
    match = re.fullmatch(pattern, arn)
    if match is None:
        raise InvalidProjectError(f"{parameter} {arn!r} does not match {pattern}")
    if match["region"] != region:
        raise InvalidProjectError(
            f"{parameter} {arn} is in region {match['region']}; the project is in {region}, "
            f"so use one from {region}"
        )


def _text(properties: Mapping[str, Any], key: str) -> str:
    value = properties.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidProjectError(f"{key} must be a string (got {type(value).__name__})")
    return value.strip()
