"""Any git repository over HTTPS, with a username and token (or password) from Secrets Manager.

The repository must exist and be empty; there is no API to make, tag or
delete it, and no training trigger (no CodeBuild source type fits every host).
"""

from __future__ import annotations

from lambda_project_lifecycle.repositories.git_transport import GitEndpoint
from lambda_project_lifecycle.repositories.providers.base import Repository, RepositoryContext
from lambda_project_lifecycle.repositories.secrets import SecretCredentials, read_credentials
from lambda_project_lifecycle.resource_properties import URL


class PlainGitRepositories:
    manages_repositories = False

    def __init__(self, context: RepositoryContext) -> None:
        self._context = context
        self._credentials: SecretCredentials | None = None

    def prepare(self) -> None:
        self._credentials = read_credentials(
            self._context.clients.client("secretsmanager"),
            self._context.settings.secret_arn,
            need_username=True,
        )
        url = self._context.settings.url
        self._credentials.check_host(f"{URL} {url}", url)

    def ensure(self) -> Repository:
        return self._repository()

    def find(self) -> Repository | None:
        return self._repository()

    def delete(self, repository: Repository) -> bool:
        return False

    def mark_deleted(self, repository: Repository) -> bool:
        return False

    def _repository(self) -> Repository:
        assert self._credentials is not None, "prepare() first"
        url = self._context.settings.url
        return Repository(
            provider="git",
            name=url.rsplit("/", 1)[-1].removesuffix(".git"),
            clone_url=url,
            endpoint=GitEndpoint(
                url=url,
                username=self._credentials.username,
                password=self._credentials.token,
                http=self._context.clients.http,
                credentials_from=self._credentials.source,
            ),
            ours=False,
            web_url=url,
        )
