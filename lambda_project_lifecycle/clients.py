"""AWS clients, created on first use; a caller may hand in ready ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3


class AwsClients:
    """Lazily created boto3 clients; pass ready clients as keyword arguments to inject them.

    >>> clients = AwsClients(sagemaker=my_sagemaker_client)
    >>> clients.sagemaker  # the injected client; others are created on first use
    """

    def __init__(self, session: boto3.session.Session | None = None, **clients: Any) -> None:
        self._session = session
        self._clients: dict[str, Any] = dict(clients)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            if self._session is None:
                import boto3

                self._session = boto3.session.Session()
            self._clients[service] = self._session.client(service)
        return self._clients[service]

    def configured_client(self, service: str, config: Any, *, key: str) -> Any:
        """A client of ``service`` made with its own botocore ``config`` (timeouts, retries).

        Kept under ``key`` (inject a client under that key to replace it), beside the
        plain client of the same service.
        """
        if key not in self._clients:
            if self._session is None:
                import boto3

                self._session = boto3.session.Session()
            self._clients[key] = self._session.client(service, config=config)
        return self._clients[key]

    @property
    def sagemaker(self) -> Any:
        return self.client("sagemaker")

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @property
    def http(self) -> Any:
        """The urllib3 pool manager for git pushes and provider REST calls (``http=`` injects)."""
        if "http" not in self._clients:
            from lambda_project_lifecycle.http_pool import new_pool_manager

            self._clients["http"] = new_pool_manager()
        return self._clients["http"]

    def credentials(self) -> tuple[str, str, str | None]:
        """(access key, secret key, session token) of the session, for SigV4-signed git pushes."""
        if self._session is None:
            import boto3

            self._session = boto3.session.Session()
        found = self._session.get_credentials()
        if found is None:
            from lambda_project_lifecycle.errors import LifecycleError

            raise LifecycleError("No AWS credentials: cannot sign git requests")
        frozen = found.get_frozen_credentials()
        return frozen.access_key, frozen.secret_key, frozen.token
