"""Run by the python of ``.venv-checkov/`` (never imported by the build): checkov, offline.

    .venv-checkov/bin/python checkov_runner.py TEMPLATE...

Prints checkov's JSON report of the CloudFormation checks over the templates. The network is
off inside this process: checkov is told not to download anything (``--skip-download``,
``BC_SKIP_MAPPING``), and a connection it tries all the same fails at once instead of
waiting for a timeout, so the build never depends on a network.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any, NoReturn


def _no_network(*args: Any, **kwargs: Any) -> NoReturn:
    raise OSError("the network is off while checkov checks the build's templates")


_connect = socket.socket.connect


def _local_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _no_network()
    _connect(self, address)  # a Unix socket of multiprocessing, say


def main(templates: list[str]) -> int:
    os.environ["BC_SKIP_MAPPING"] = "TRUE"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    socket.getaddrinfo = _no_network
    socket.socket.connect = _local_connect  # type: ignore[method-assign]

    from checkov.main import Checkov

    argv = ["--framework", "cloudformation", "--output", "json", "--compact", "--skip-download"]
    for template in templates:
        argv += ["--file", template]
    return int(Checkov(argv).run() or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
