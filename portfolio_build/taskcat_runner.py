"""Run by the python of ``.venv-taskcat/`` (never imported by the build): taskcat's own CLI.

    .venv-taskcat/bin/python taskcat_runner.py [--loopback-only] TASKCAT-ARGUMENTS...

``--loopback-only``: this process reaches nothing but 127.0.0.1 (``taskcat lint`` offline,
and ``taskcat test run`` against the emulator): a connection to any other address fails at
once instead of waiting for a timeout, so taskcat's look-up of its latest version on PyPI
costs nothing and nothing leaves the machine. Otherwise (real accounts) the network is as
the machine has it.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import Any

_connect = socket.socket.connect
_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: Any) -> bool:
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return str(host) == "localhost"


def _loopback_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise OSError(f"the network is off for taskcat here: no connection to {address[0]}")
    _connect(self, address)


def _loopback_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_loopback(host):
        raise socket.gaierror(f"the network is off for taskcat here: {host} is not looked up")
    return _getaddrinfo(host, *args, **kwargs)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--loopback-only"]:
        argv = argv[1:]
        socket.socket.connect = _loopback_connect  # type: ignore[method-assign]
        socket.getaddrinfo = _loopback_getaddrinfo
    from taskcat._cli import main as taskcat_main

    sys.argv = ["taskcat", *argv]
    taskcat_main()  # exits with taskcat's code when it fails
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
