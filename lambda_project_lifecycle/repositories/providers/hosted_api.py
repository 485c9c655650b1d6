"""GitHub, GitLab and Bitbucket with a token: the repository is made through the REST API.

Each API class speaks its provider's documented shapes:

* GitHub: ``GET /repos/{owner}/{repo}``; ``POST /orgs/{org}/repos`` (or ``/user/repos``
  after ``GET /users/{owner}`` and ``GET /user``); ``DELETE /repos/{owner}/{repo}``;
  topics (``PUT /repos/{owner}/{repo}/topics``) as tags.
* GitLab: ``GET /projects/{url-encoded path}``; ``GET /namespaces/{path}`` then
  ``POST /projects``; ``DELETE /projects/{id}``; topics (``PUT /projects/{id}``).
* Bitbucket Cloud: ``GET``, ``POST`` and ``DELETE /repositories/{workspace}/{slug}``;
  no tags.

The git push then goes to the clone URL the API returned, with the token as
the password (user ``x-access-token``, ``oauth2`` or ``x-token-auth``), once
that URL is checked. A repository this request made whose reply fails a check
(no clone URL, not HTTPS, ...) is deleted again at once. Delete identifies the
repository through the API (GitLab: by its id) and never needs its clone URL.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.repositories.errors import (
    RepositoryAccessError,
    RepositoryError,
    left_behind,
)
from lambda_project_lifecycle.repositories.git_transport import GitEndpoint
from lambda_project_lifecycle.repositories.providers.base import (
    DELETED_TOPIC,
    Repository,
    RepositoryContext,
    description,
    is_marked_for,
)
from lambda_project_lifecycle.repositories.rest import RestApi
from lambda_project_lifecycle.repositories.secrets import SecretCredentials, read_credentials
from lambda_project_lifecycle.repositories.settings import DEFAULT_API_URLS, check_https_url
from lambda_project_lifecycle.resource_properties import API_URL, OWNER

logger = logging.getLogger(__name__)


@dataclass
class HostedRepository:
    clone_url: str
    web_url: str
    description: str
    topics: list[str] = field(default_factory=list)
    id: str = ""


class HostedApi(Protocol):
    git_username: str
    source_type: str

    def get(self, owner: str, name: str) -> HostedRepository | None: ...

    def create(self, owner: str, name: str, description: str) -> Any:
        """Make the repository; returns the API's reply as it came (see ``parse``)."""

    @staticmethod
    def parse(body: Any) -> HostedRepository:
        """What the platform needs from a repository reply; the clone URL is checked later."""

    def delete(self, owner: str, name: str, repository: HostedRepository) -> None: ...

    def mark_deleted(self, owner: str, name: str, repository: HostedRepository) -> bool: ...


class GitHubApi:
    def __init__(self, api: RestApi, credentials: SecretCredentials, enterprise: bool) -> None:
        self._api = api
        self.git_username = credentials.username or "x-access-token"
        self.source_type = "GITHUB_ENTERPRISE" if enterprise else "GITHUB"

    @staticmethod
    def headers(credentials: SecretCredentials) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {credentials.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def get(self, owner: str, name: str) -> HostedRepository | None:
        reply = self._api.call("GET", f"/repos/{quote(owner)}/{quote(name)}", missing_ok=True)
        return None if reply.body is None else self.parse(reply.body)

    def create(self, owner: str, name: str, description: str) -> Any:
        account = self._api.call("GET", f"/users/{quote(owner)}", missing_ok=True).body
        if account is None:
            raise RepositoryError(f"{OWNER} {owner}: no such GitHub user or organization")
        if account.get("type") == "Organization":
            path = f"/orgs/{quote(owner)}/repos"
        else:
            login = (self._api.call("GET", "/user").body or {}).get("login", "")
            if str(login).lower() != owner.lower():
                raise RepositoryAccessError(
                    f"{OWNER} {owner} is a GitHub user, but the token belongs to {login!r}; "
                    "use an organization or a token of that user"
                )
            path = "/user/repos"
        body = {
            "name": name,
            "description": description,
            "private": True,
            "auto_init": False,
            "has_wiki": False,
        }
        return self._api.call("POST", path, body, ok=(201,)).body

    def delete(self, owner: str, name: str, repository: HostedRepository) -> None:
        self._api.call("DELETE", f"/repos/{quote(owner)}/{quote(name)}", ok=(204,), missing_ok=True)

    def mark_deleted(self, owner: str, name: str, repository: HostedRepository) -> bool:
        topics = sorted({*repository.topics, DELETED_TOPIC})
        self._api.call(
            "PUT", f"/repos/{quote(owner)}/{quote(name)}/topics", {"names": topics}, ok=(200,)
        )
        return True

    @staticmethod
    def parse(body: Any) -> HostedRepository:
        return HostedRepository(
            clone_url=str(body.get("clone_url") or ""),
            web_url=str(body.get("html_url", "")),
            description=str(body.get("description") or ""),
            topics=[str(t) for t in body.get("topics") or []],
            id=str(body.get("id", "")),
        )


class GitLabApi:
    def __init__(self, api: RestApi, credentials: SecretCredentials, self_managed: bool) -> None:
        self._api = api
        self.git_username = credentials.username or "oauth2"
        self.source_type = "GITLAB_SELF_MANAGED" if self_managed else "GITLAB"

    @staticmethod
    def headers(credentials: SecretCredentials) -> dict[str, str]:
        return {"PRIVATE-TOKEN": credentials.token}

    def get(self, owner: str, name: str) -> HostedRepository | None:
        path = quote(f"{owner}/{name}", safe="")
        reply = self._api.call("GET", f"/projects/{path}", missing_ok=True)
        return None if reply.body is None else self.parse(reply.body)

    def create(self, owner: str, name: str, description: str) -> Any:
        namespace = self._api.call(
            "GET", f"/namespaces/{quote(owner, safe='')}", missing_ok=True
        ).body
        if namespace is None:
            raise RepositoryError(f"{OWNER} {owner}: no such GitLab group or user namespace")
        body = {
            "name": name,
            "path": name,
            "namespace_id": namespace["id"],
            "description": description,
            "visibility": "private",
            "initialize_with_readme": False,
            "default_branch": "prod",
        }
        return self._api.call("POST", "/projects", body, ok=(201,)).body

    def delete(self, owner: str, name: str, repository: HostedRepository) -> None:
        # By id: the project found (and checked for our marker), even if renamed since.
        key = repository.id or quote(f"{owner}/{name}", safe="")
        self._api.call("DELETE", f"/projects/{key}", ok=(202, 204), missing_ok=True)

    def mark_deleted(self, owner: str, name: str, repository: HostedRepository) -> bool:
        topics = sorted({*repository.topics, DELETED_TOPIC})
        self._api.call("PUT", f"/projects/{repository.id}", {"topics": topics}, ok=(200,))
        return True

    @staticmethod
    def parse(body: Any) -> HostedRepository:
        return HostedRepository(
            clone_url=str(body.get("http_url_to_repo") or ""),
            web_url=str(body.get("web_url", "")),
            description=str(body.get("description") or ""),
            topics=[str(t) for t in body.get("topics") or []],
            id=str(body.get("id") or ""),
        )


class BitbucketApi:
    def __init__(self, api: RestApi, credentials: SecretCredentials, server: bool) -> None:
        self._api = api
        self.git_username = credentials.username or "x-token-auth"
        self.source_type = "BITBUCKET"

    @staticmethod
    def headers(credentials: SecretCredentials) -> dict[str, str]:
        if credentials.username:  # an app password or API token of that user
            pair = f"{credentials.username}:{credentials.token}".encode()
            return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}
        return {"Authorization": f"Bearer {credentials.token}"}  # a repository/workspace token

    def get(self, owner: str, name: str) -> HostedRepository | None:
        reply = self._api.call("GET", self._path(owner, name), missing_ok=True)
        return None if reply.body is None else self.parse(reply.body)

    def create(self, owner: str, name: str, description: str) -> Any:
        body = {
            "scm": "git",
            "is_private": True,
            "description": description,
            "fork_policy": "no_public_forks",
        }
        return self._api.call("POST", self._path(owner, name), body, ok=(200, 201)).body

    def delete(self, owner: str, name: str, repository: HostedRepository) -> None:
        self._api.call("DELETE", self._path(owner, name), ok=(204,), missing_ok=True)

    def mark_deleted(self, owner: str, name: str, repository: HostedRepository) -> bool:
        return False  # Bitbucket repositories have no tags or topics

    @staticmethod
    def _path(owner: str, name: str) -> str:
        return f"/repositories/{quote(owner)}/{quote(name)}"

    @staticmethod
    def parse(body: Any) -> HostedRepository:
        links = body.get("links", {})
        clone = next(
            (link["href"] for link in links.get("clone", []) if link.get("name") == "https"), ""
        )
        return HostedRepository(
            clone_url=_without_userinfo(clone) if clone else "",
            web_url=str(links.get("html", {}).get("href", "")),
            description=str(body.get("description") or ""),
            id=str(body.get("uuid", "")),
        )


API_CLASSES: dict[str, Any] = {"github": GitHubApi, "gitlab": GitLabApi, "bitbucket": BitbucketApi}


class HostedTokenRepositories:
    """A hosted provider reached with a token from Secrets Manager."""

    manages_repositories = True

    def __init__(self, context: RepositoryContext) -> None:
        self._context = context
        self._settings = context.settings
        self._api: Any = None
        self._credentials: SecretCredentials | None = None

    def prepare(self) -> None:
        settings = self._settings
        self._credentials = read_credentials(
            self._context.clients.client("secretsmanager"),
            settings.secret_arn,
            need_username=False,
        )
        what = f"{API_URL} {settings.provider_api_url}"
        self._credentials.check_host(what, settings.provider_api_url)
        api_class = API_CLASSES[settings.provider]
        rest = RestApi(
            title=settings.title,
            base_url=settings.provider_api_url,
            headers=api_class.headers(self._credentials),
            http=self._context.clients.http,
            credentials_from=self._credentials.source,
        )
        custom = bool(settings.api_url) and settings.api_url != DEFAULT_API_URLS[settings.provider]
        self._api = api_class(rest, self._credentials, custom)

    def ensure(self) -> Repository:
        """The repository to push to; its clone URL checked before the token goes there."""
        owner, name = self._settings.owner, self._settings.name
        found = self._api.get(owner, name)
        if found is not None:
            return self._for_push(self._repository(found, created_now=False))
        reply = self._api.create(owner, name, description(self._context.spec))
        logger.info("Created %s repository %s/%s", self._settings.title, owner, name)
        try:
            return self._for_push(self._repository(self._api.parse(reply), created_now=True))
        except Exception as exc:
            # The repository exists now: whatever is wrong with the reply, take it back.
            left = self._take_back(reply)
            if left and isinstance(exc, LifecycleError):
                raise RepositoryError(f"{exc}; {left}") from exc
            raise

    def find(self) -> Repository | None:
        """The repository as the API knows it, for Delete: identified by the API (and its id),
        its clone URL not checked, since nothing is pushed to it."""
        found = self._api.get(self._settings.owner, self._settings.name)
        return None if found is None else self._repository(found, created_now=False)

    def delete(self, repository: Repository) -> bool:
        self._api.delete(self._settings.owner, self._settings.name, repository.handle["hosted"])
        logger.info("Deleted %s repository %s", self._settings.title, repository.name)
        return True

    def mark_deleted(self, repository: Repository) -> bool:
        return bool(
            self._api.mark_deleted(
                self._settings.owner, self._settings.name, repository.handle["hosted"]
            )
        )

    def _for_push(self, repository: Repository) -> Repository:
        what = f"the clone URL the {self._settings.title} API returned"
        if not repository.clone_url:
            raise RepositoryError(f"{what} for {repository.name} is missing")
        check_https_url(what, repository.clone_url)
        assert self._credentials is not None, "prepare() first"
        self._credentials.check_host(f"{what} ({repository.clone_url})", repository.clone_url)
        return repository

    def _take_back(self, reply: Any) -> str:
        """Delete a repository made by this request; what was left behind, or ""."""
        owner, name = self._settings.owner, self._settings.name
        try:
            hosted = self._api.parse(reply)
        except Exception:  # an odd reply: the owner and name still identify it
            hosted = HostedRepository(clone_url="", web_url="", description="")
        try:
            self._api.delete(owner, name, hosted)
        except Exception as exc:
            logger.exception("Could not delete repository %s/%s made by this request", owner, name)
            return left_behind(f"{owner}/{name}", exc)
        logger.info(
            "Deleted %s repository %s/%s made by this request", self._settings.title, owner, name
        )
        return ""

    def _repository(self, hosted: HostedRepository, *, created_now: bool) -> Repository:
        assert self._credentials is not None, "prepare() first"
        return Repository(
            provider=self._settings.provider,
            name=f"{self._settings.owner}/{self._settings.name}",
            clone_url=hosted.clone_url,
            endpoint=GitEndpoint(
                url=hosted.clone_url,
                username=self._api.git_username,
                password=self._credentials.token,
                http=self._context.clients.http,
                credentials_from=self._credentials.source,
            ),
            ours=created_now or is_marked_for(hosted.description, self._context.spec.project_id),
            created_now=created_now,
            web_url=hosted.web_url,
            source_type=self._api.source_type,
            handle={"hosted": hosted},
        )


def _without_userinfo(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
