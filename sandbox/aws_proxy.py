"""An HTTPS proxy on 127.0.0.1 that is the whole network of a tool run against the emulator.

taskcat builds its own boto3 clients: they honour ``AWS_ENDPOINT_URL``, except where taskcat
names an AWS endpoint itself (``https://sts.<region>.amazonaws.com``, an S3 object URL it
probes with ``requests``), and it fetches things off AWS (its report's stylesheet from
GitHub, its latest version from PyPI). With ``HTTPS_PROXY``/``HTTP_PROXY`` pointing here
(:meth:`AwsProxy.environment`), every such request reaches this proxy, which:

- for a host under ``amazonaws.com``: accepts the tunnel, presents a certificate of the
  run's CA for that host, and passes each request on to the emulator unchanged (SigV4
  headers included: the emulator reads service and region from them);
- for any other host: answers ``404`` with an empty body, as if the file were not there
  (the network is off here; the report is written without its stylesheet).
"""

from __future__ import annotations

import http.client
import logging
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from sandbox.emulator import Emulator
from sandbox.tls import CertificateAuthority

logger = logging.getLogger(__name__)

AWS_DOMAINS = ("amazonaws.com", "amazonaws.com.cn")
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}
)


def is_aws_host(host: str) -> bool:
    return any(host == domain or host.endswith(f".{domain}") for domain in AWS_DOMAINS)


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: AwsProxy


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    tunnel_host = ""

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.tunnel_host, format % args)

    def do_CONNECT(self) -> None:
        host = self.path.rsplit(":", 1)[0]
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        context = self.server.proxy.context_for(host)
        self.connection = context.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb")
        self.tunnel_host = host
        self.close_connection = False

    def _answer(self) -> None:
        url = urlsplit(self.path)
        host = self.tunnel_host or url.hostname or ""
        path = (
            self.path
            if self.tunnel_host
            else (url.path or "/") + (f"?{url.query}" * bool(url.query))
        )
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if not is_aws_host(host):
            self._reply(404, [("Content-Type", "text/plain")], b"")
            return
        status, headers, payload = self.server.proxy.forward(self.command, path, self.headers, body)
        self._reply(status, headers, payload)

    def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer


class AwsProxy:
    """The proxy, started; :meth:`stop` (or the emulator's stop) ends it."""

    def __init__(self, emulator: Emulator, authority: CertificateAuthority) -> None:
        self._emulator = emulator
        self._authority = authority
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        emulator.on_stop(self.stop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environment(self) -> dict[str, str]:
        """Every request of a process goes here, but those to 127.0.0.1 (the emulator)."""
        return {
            "HTTPS_PROXY": self.url,
            "HTTP_PROXY": self.url,
            "https_proxy": self.url,
            "http_proxy": self.url,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            **self._authority.environment(),
            "AWS_CA_BUNDLE": str(self._authority.certificate_path),
        }

    def context_for(self, host: str) -> ssl.SSLContext:
        with self._lock:
            if host not in self._contexts:
                self._contexts[host] = self._authority.server_context((host,))
            return self._contexts[host]

    def forward(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self._emulator.port, timeout=600)
        try:
            connection.request(
                method,
                path,
                body=body,
                headers={k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP},
            )
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
