"""AWS clients, created on first use and injectable for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3


class AwsClients:
    """Lazily created boto3 clients; pass ready clients as keyword arguments to inject them.

    >>> clients = AwsClients(sagemaker=my_stubbed_client)
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

    @property
    def sagemaker(self) -> Any:
        return self.client("sagemaker")

    @property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")
