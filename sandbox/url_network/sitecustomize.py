"""The world a process of the sandbox's MLflow tracking server sees: AWS's function URLs, and
the sandbox's clock.

MLflow delivers webhooks with a session of its own that ignores proxy variables and CA
bundles of the environment (``trust_env = False``, certifi's bundle), so the sandbox
cannot hand it a proxy. It plays, for this process only, the two things AWS's network
gives a real server:

- DNS: ``<id>.lambda-url.<region>.on.aws`` port 443 resolves to the function URLs' front
  door on 127.0.0.1 (``SANDBOX_FUNCTION_URL_FRONT``, ``127.0.0.1:<port>``, see
  :mod:`sandbox.function_urls`); every other name resolves as usual;
- public trust: the bundle requests verifies with (certifi's) is the run's CA
  (``SANDBOX_CA_BUNDLE``), which signs the function URLs' certificate as a public CA
  signs AWS's (the server calls nothing else over HTTPS, as everything here trusts
  the run's CA only);
- the time: ``time.time()`` is the machine's plus the offset the sandbox's clock moved on
  (seconds, in the file ``SANDBOX_CLOCK_FILE``), as the Lambda handlers see it, so that a
  delivery's signed timestamp is the time its receiver checks it against.

TLS still checks the function URL's name against its certificate.
"""

from __future__ import annotations

import os
import re
import socket
import time
from typing import Any

FUNCTION_URL_HOST = re.compile(r"^[a-z0-9]+\.lambda-url\.[a-z0-9-]+\.on\.aws\.?$")
HTTPS_PORTS = (443, "443", "https")
CLOCK_READ_SECONDS = 0.2  # how long a read offset is used before the file is read again


def _resolve_function_urls(front: str) -> None:
    front_host, _, front_port = front.rpartition(":")
    resolve = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and FUNCTION_URL_HOST.match(host.lower()) and port in HTTPS_PORTS:
            return resolve(front_host, int(front_port), *args, **kwargs)
        return resolve(host, port, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def _trust_bundle(bundle: str) -> None:
    try:
        import certifi
    except ImportError:
        return
    certifi.where = lambda: bundle  # read by requests when it is first imported


def _follow_clock(path: str) -> None:
    machine_time, monotonic = time.time, time.monotonic
    read: list[float] = [0.0, -CLOCK_READ_SECONDS]  # offset, when it was read

    def offset() -> float:
        if monotonic() - read[1] >= CLOCK_READ_SECONDS:
            try:
                with open(path) as handle:
                    read[0] = float(handle.read() or 0)
            except (OSError, ValueError):
                pass
            read[1] = monotonic()
        return read[0]

    time.time = lambda: machine_time() + offset()


if os.environ.get("SANDBOX_CLOCK_FILE"):
    _follow_clock(os.environ["SANDBOX_CLOCK_FILE"])
if os.environ.get("SANDBOX_FUNCTION_URL_FRONT"):
    _resolve_function_urls(os.environ["SANDBOX_FUNCTION_URL_FRONT"])
if os.environ.get("SANDBOX_CA_BUNDLE"):
    _trust_bundle(os.environ["SANDBOX_CA_BUNDLE"])
