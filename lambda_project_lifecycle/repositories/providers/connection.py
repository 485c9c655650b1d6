"""GitHub, GitLab or Bitbucket through an AWS CodeConnections connection.

The repository must exist and be empty (a connection cannot make one). The
Lambda pushes through the connection's git-http endpoint,
``https://<service>.<region>.amazonaws.com/git-http/<account>/<region>/<connection id>/``
``<owner>/<repo>.git``, signing with its own role (the CodeCommit SigV4 scheme) and allowed by
``UseConnection`` on the connection: no token anywhere.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from lambda_project_lifecycle.errors import error_code
from lambda_project_lifecycle.repositories.errors import RepositoryAccessError, RepositoryError
from lambda_project_lifecycle.repositories.providers.base import Repository, RepositoryContext
from lambda_project_lifecycle.resource_properties import CONNECTION, PROVIDER

# Connection provider type -> (our provider, public host, CodeBuild source type)
CONNECTION_PROVIDERS = {
    "GitHub": ("github", "github.com", "GITHUB"),
    "GitLab": ("gitlab", "gitlab.com", "GITLAB"),
    "Bitbucket": ("bitbucket", "bitbucket.org", "BITBUCKET"),
}


class ConnectionRepositories:
    manages_repositories = False

    def __init__(self, context: RepositoryContext) -> None:
        self._context = context
        self._settings = context.settings
        self._arn = self._settings.connection_parts()
        self._host = ""
        self._source_type = ""

    def prepare(self) -> None:
        service = self._arn["service"]
        client = self._context.clients.client(service)
        arn = self._settings.connection_arn
        try:
            connection = client.get_connection(ConnectionArn=arn)["Connection"]
        except ClientError as exc:
            code = error_code(exc)
            if code == "ResourceNotFoundException":
                raise RepositoryAccessError(f"{CONNECTION} {arn}: no such connection") from exc
            raise RepositoryAccessError(f"{CONNECTION} {arn} could not be read: {code}") from exc
        status = connection.get("ConnectionStatus")
        if status != "AVAILABLE":
            raise RepositoryAccessError(
                f"{CONNECTION} {arn} is {status}, not AVAILABLE: finish the handshake with the "
                "provider in the console (Developer Tools > Settings > Connections)"
            )
        provider_type = str(connection.get("ProviderType"))
        known = CONNECTION_PROVIDERS.get(provider_type)
        if known is None:
            raise RepositoryError(
                f"{CONNECTION} {arn} is a {provider_type} connection; connections to "
                "GitHub, GitLab and Bitbucket are supported (use a token for other hosts)"
            )
        provider, self._host, self._source_type = known
        if provider != self._settings.provider:
            raise RepositoryError(
                f"{CONNECTION} {arn} is a {provider_type} connection, but {PROVIDER} is "
                f"{self._settings.provider}"
            )

    def ensure(self) -> Repository:
        return self._repository()

    def find(self) -> Repository | None:
        return self._repository()

    def delete(self, repository: Repository) -> bool:
        return False  # a connection can push, not delete repositories

    def mark_deleted(self, repository: Repository) -> bool:
        return False

    def git_http_url(self) -> str:
        arn = self._arn
        suffix = "amazonaws.com.cn" if arn["partition"] == "aws-cn" else "amazonaws.com"
        return (
            f"https://{arn['service']}.{arn['region']}.{suffix}/git-http/{arn['account']}/"
            f"{arn['region']}/{arn['id']}/{self._settings.owner}/{self._settings.name}.git"
        )

    def _repository(self) -> Repository:
        endpoint = self._context.signed_endpoint(
            self.git_http_url(),
            region=self._arn["region"],
            credentials_from=f"the Lambda role through {CONNECTION}",
        )
        clone_url = f"https://{self._host}/{self._settings.owner}/{self._settings.name}.git"
        return Repository(
            provider=self._settings.provider,
            name=f"{self._settings.owner}/{self._settings.name}",
            clone_url=clone_url,
            endpoint=endpoint,
            ours=False,
            web_url=clone_url.removesuffix(".git"),
            source_type=self._source_type,
            handle={"connection": self._settings.connection_arn},
        )
