"""No test reaches the network: only 127.0.0.1 (and Unix sockets) may be connected to."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ALLOWED_HOSTS = ("127.0.0.1", "::1", "localhost")


class NetworkBlocked(OSError):
    pass


@contextmanager
def loopback_only() -> Iterator[None]:
    original_connect = socket.socket.connect
    original_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ALLOWED_HOSTS:
            raise NetworkBlocked(f"tests may not connect to {address[0]}")
        return original_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ALLOWED_HOSTS and host is not None:
            raise NetworkBlocked(f"tests may not resolve {host}")
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.socket.connect = original_connect  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo
