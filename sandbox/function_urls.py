"""Lambda function URLs served over HTTPS on 127.0.0.1 (moto stores them and serves none).

moto's ``CreateFunctionUrlConfig`` answers ``https://<id>.lambda-url.<region>.on.aws/``
and nothing answers that address. :class:`FunctionUrls` is its front door: one HTTPS
listener on 127.0.0.1 with a certificate of the run's CA for
``*.lambda-url.<region>.on.aws``; each request is looked up by its ``Host`` among the
function URLs moto holds and invoked through the sandbox's Lambda runtime
(``RequestResponse``) with the event AWS documents for function URLs (payload format
2.0), and the function's answer is turned into the HTTP response as AWS does:

- a result with ``statusCode``: that status, ``headers``, ``cookies`` and ``body``
  (base64-decoded when ``isBase64Encoded``);
- any other JSON result: ``200`` with ``application/json`` and the result as the body;
- a function error (or throttling): ``502`` ``Internal Server Error``;
- no function URL for the host: ``403`` ``Forbidden``; ``AuthType AWS_IAM`` without a
  signature: ``403`` (nothing in the sandbox signs its calls to a URL).

A client reaches the listener through :mod:`sandbox.url_network` (the host's name
resolved to it), as it would reach AWS's front door after DNS. :attr:`requests`
records what each request was answered, so a caller can wait for a delivery.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import ssl
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sandbox.emulator import AwsError, Emulator
from sandbox.lambda_runtime import LambdaRuntime
from sandbox.tls import CertificateAuthority

logger = logging.getLogger(__name__)

URL_HOST = re.compile(r"^(?P<url_id>[a-z0-9]+)\.lambda-url\.(?P<region>[a-z0-9-]+)\.on\.aws$")
MAX_BODY_BYTES = 6 * 1024 * 1024  # a function URL's request payload quota


def url_host_pattern(region: str) -> str:
    """The certificate name that covers every function URL of ``region``."""
    return f"*.lambda-url.{region}.on.aws"


@dataclass(frozen=True)
class UrlRequest:
    """One request the front door answered."""

    host: str
    function: str
    status: int
    at: float
    body: bytes = b""

    def about(self, text: str) -> bool:
        """Whether the request's body holds ``text`` (a project's id, say)."""
        return text.encode() in self.body


INTERNAL_ERROR = b'{"Message":"Internal Server Error"}'  # what the front door answers a failure


def request_event(
    method: str, target: str, headers: Mapping[str, str], body: bytes, url_id: str
) -> dict[str, Any]:
    """The event a function URL hands its function (payload format 2.0)."""
    parts = urlsplit(target)
    lowered = {k.lower(): v for k, v in headers.items()}
    text, encoded = _body_text(body, lowered.get("content-type", ""))
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path or "/",
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "anonymous",  # AuthType NONE: an unsigned caller, as on AWS
            "apiId": url_id,
            "domainName": lowered.get("host", ""),
            "domainPrefix": url_id,
            "http": {
                "method": method,
                "path": parts.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if "cookie" in lowered:
        event["cookies"] = [c.strip() for c in lowered["cookie"].split(";") if c.strip()]
    if parts.query:
        pairs = [p.partition("=") for p in parts.query.split("&") if p]
        event["queryStringParameters"] = {k: v for k, _, v in pairs}
    if body:
        event["body"] = text
    return event


def _body_text(body: bytes, content_type: str) -> tuple[str, bool]:
    """AWS passes text bodies as they are and base64-encodes the others."""
    textual = content_type.startswith("text/") or any(
        kind in content_type for kind in ("json", "xml", "javascript", "x-www-form-urlencoded")
    )
    if textual:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode(), True


def http_response(result: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """The HTTP response of a function's result, as a function URL forms it."""
    try:
        document = json.loads(result) if result else None
    except ValueError:
        return 200, [("Content-Type", "application/json")], result
    if not isinstance(document, dict) or "statusCode" not in document:
        return 200, [("Content-Type", "application/json")], result
    headers = [(str(k), str(v)) for k, v in (document.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(c)) for c in document.get("cookies") or []]
    body = document.get("body")
    if body is None:
        payload = b""
    elif document.get("isBase64Encoded"):
        payload = base64.b64decode(str(body))
    else:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode()
    return int(document["statusCode"]), headers, payload


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    front: FunctionUrls


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("function URL %s", format % args)

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._reply(413, [("Content-Type", "application/json")], b'{"Message":null}')
            return
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.server.front.answer(
            self.command, self.path, dict(self.headers.items()), body
        )
        self._reply(status, headers, payload)

    def _reply(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer


class FunctionUrls:
    """The front door of the emulator's function URLs, started; stops with the emulator."""

    def __init__(
        self, emulator: Emulator, runtime: LambdaRuntime, authority: CertificateAuthority
    ) -> None:
        self._emulator = emulator
        self._runtime = runtime
        self.requests: list[UrlRequest] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.front = self
        context = authority.server_context((url_host_pattern(emulator.region),))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        emulator.on_stop(self.stop)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def answer(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        host = next((v for k, v in headers.items() if k.lower() == "host"), "")
        host = host.split(":", 1)[0].lower()
        found = self._function_of(host)
        if found is None:
            return self._answered(host, "", 403, b'{"Message":"Forbidden"}', body)
        function, auth_type = found
        signed = any(k.lower() == "authorization" for k in headers)
        if auth_type == "AWS_IAM" and not signed:
            return self._answered(host, function, 403, b'{"Message":"Forbidden"}', body)
        match = URL_HOST.match(host)
        assert match is not None  # _function_of found a URL of this form
        event = request_event(method, target, headers, body, match["url_id"])
        try:
            result = self._runtime.invoke(
                function, json.dumps(event).encode(), region=match["region"]
            )
        except AwsError as exc:
            logger.warning("function URL %s: %s", host, exc)
            return self._answered(host, function, 502, INTERNAL_ERROR, body)
        if result.get("FunctionError"):
            return self._answered(host, function, 502, INTERNAL_ERROR, body)
        status, response_headers, payload = http_response(result["Payload"])
        self._record(host, function, status, body)
        return status, response_headers, payload

    def _answered(
        self, host: str, function: str, status: int, payload: bytes, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        self._record(host, function, status, body)
        return status, [("Content-Type", "application/json")], payload

    def _record(self, host: str, function: str, status: int, body: bytes) -> None:
        with self._lock:
            self.requests.append(UrlRequest(host, function, status, time.monotonic(), body))

    def answered(self, host: str, about: str = "") -> int:
        """How many requests to ``host`` were answered so far (whose body holds ``about``)."""
        return len(self.answers(host, about))

    def answers(self, host: str, about: str = "") -> list[UrlRequest]:
        """The requests to ``host`` answered so far (whose body holds ``about``), in order."""
        with self._lock:
            return [r for r in self.requests if r.host == host and r.about(about)]

    def _function_of(self, host: str) -> tuple[str, str] | None:
        """(function name, AuthType) of the function URL at ``host``."""
        match = URL_HOST.match(host)
        if match is None:
            return None
        backend = self._emulator.backend("lambda", match["region"])
        for function in backend.list_functions():
            config = getattr(function, "url_config", None)
            if config is not None and urlsplit(config.url).hostname == host:
                return function.function_name, str(config.config.get("AuthType") or "NONE")
        return None

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
