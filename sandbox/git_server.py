"""A real git smart-HTTP server on 127.0.0.1: ``git http-backend`` behind basic auth (HTTP or
HTTPS).

Every request is authenticated by a pluggable check (a fixed user and password,
or the CodeCommit SigV4 password scheme, see :mod:`sandbox.sigv4_check`),
then handed to ``git http-backend`` as a CGI request, exactly as a web server in
front of git would. Repositories are bare directories; the URL path of each one
is chosen by the test (``/acme/churn.git``, ``/v1/repos/<name>``, ...) or
resolved on demand (see ``resolver``). With a TLS context (see :mod:`sandbox.tls`) it
serves HTTPS; ``on_push`` hears of every push with the references it changed.
"""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

GIT_SERVICES = ("/info/refs", "/git-upload-pack", "/git-receive-pack", "/HEAD")


@dataclass(frozen=True)
class GitRequest:
    method: str
    path: str  # URL path without the query
    query: str
    host: str  # the Host header, as the client sent it
    username: str
    password: str


@dataclass(frozen=True)
class RefUpdate:
    """One reference a push changed: ``old`` or ``new`` is "" when it was created or deleted."""

    ref: str
    old: str
    new: str


Authenticator = Callable[[GitRequest], bool]
Resolver = Callable[[str], Path | None]
PushListener = Callable[[GitRequest, Path, list[RefUpdate]], None]


class _TlsServer(ThreadingHTTPServer):
    """Wraps each connection in TLS in its own thread, so a slow handshake blocks no other."""

    def __init__(self, address: tuple[str, int], handler: Any, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            wrapped = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(wrapped, client_address)


def basic_auth(username: str, password: str) -> Authenticator:
    def check(request: GitRequest) -> bool:
        return request.username == username and request.password == password

    return check


class GitHttpServer:
    """Serves bare repositories over smart HTTP with basic auth; records every request."""

    def __init__(
        self, root: Path, authenticate: Authenticator, tls: ssl.SSLContext | None = None
    ) -> None:
        self.root = root
        self.authenticate = authenticate
        self.repositories: dict[str, Path] = {}  # URL path of a repository -> bare directory
        self.resolver: Resolver | None = None
        self.on_push: PushListener | None = None
        self.scheme = "https" if tls is not None else "http"
        self.requests: list[GitRequest] = []
        self.refused: list[GitRequest] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._handle(self)

            def do_POST(self) -> None:
                server._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server: ThreadingHTTPServer = (
            _TlsServer(("127.0.0.1", 0), Handler, tls)
            if tls is not None
            else ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> GitHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    # --- repositories -----------------------------------------------------------------

    def add_repository(self, url_path: str) -> Path:
        """Create an empty bare repository served at ``url_path`` (e.g. ``/acme/churn.git``)."""
        with self.lock:
            directory = self.root / f"repo-{len(self.repositories)}.git"
            init_bare(directory)
            self.repositories[url_path.rstrip("/")] = directory
            return directory

    def remove_repository(self, url_path: str) -> None:
        with self.lock:
            directory = self.repositories.pop(url_path.rstrip("/"))
        shutil.rmtree(directory)

    def url(self, url_path: str, username: str = "", password: str = "") -> str:
        credentials = f"{quote(username, safe='')}:{quote(password, safe='')}@" if username else ""
        return f"{self.scheme}://{credentials}127.0.0.1:{self.port}{url_path}"

    def _locate(self, path: str) -> tuple[Path, str] | None:
        """(bare directory, service part of the path) for a request path."""
        split = split_service(path)
        if split is None:
            return None
        repo_path, rest = split
        directory = self.repositories.get(repo_path)
        if directory is None and self.resolver is not None:
            directory = self.resolver(repo_path)
        return (directory, rest) if directory is not None else None

    # --- one request --------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path, _, query = handler.path.partition("?")
        path = unquote(path)
        username, password = _credentials(handler.headers.get("Authorization", ""))
        request = GitRequest(
            handler.command, path, query, handler.headers.get("Host", ""), username, password
        )
        body = _read_body(handler)
        with self.lock:
            self.requests.append(request)
        if not username or not self.authenticate(request):
            with self.lock:
                self.refused.append(request)
            handler.send_response(401)
            handler.send_header("WWW-Authenticate", 'Basic realm="git"')
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        located = self._locate(path)
        if located is None:
            _send(handler, 404, {"Content-Type": "text/plain"}, b"Repository not found\n")
            return
        directory, rest = located
        pushing = rest == "/git-receive-pack" and self.on_push is not None
        before = references(directory) if pushing else {}
        status, headers, payload = run_http_backend(
            directory, rest, handler.command, query, handler.headers, body, username
        )
        if pushing and status == 200 and self.on_push is not None:
            updates = changed_references(before, references(directory))
            if updates:  # heard of before the pusher's answer: the push returns after it
                self.on_push(request, directory, updates)
        _send(handler, status, headers, payload)


# Like git hosts: the first branch pushed to an empty repository becomes its default (HEAD).
DEFAULT_BRANCH_HOOK = """#!/bin/sh
git rev-parse --verify --quiet HEAD >/dev/null && exit 0
while read old new ref; do
    case "$ref" in refs/heads/*) git symbolic-ref HEAD "$ref"; exit 0;; esac
done
"""


def init_bare(directory: Path) -> None:
    subprocess.run(
        ["git", "init", "--quiet", "--bare", "--initial-branch=main", str(directory)],
        check=True,
        capture_output=True,
    )
    hook = directory / "hooks" / "post-receive"
    hook.write_text(DEFAULT_BRANCH_HOOK)
    hook.chmod(0o755)


def references(directory: Path) -> dict[str, str]:
    """Every reference of a bare repository and the object it points at."""
    listed = subprocess.run(
        ["git", "for-each-ref", "--format=%(objectname) %(refname)"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {ref: sha for sha, _, ref in (line.partition(" ") for line in listed.splitlines())}


def changed_references(before: dict[str, str], after: dict[str, str]) -> list[RefUpdate]:
    return [
        RefUpdate(ref, before.get(ref, ""), after.get(ref, ""))
        for ref in sorted(set(before) | set(after))
        if before.get(ref) != after.get(ref)
    ]


def split_service(path: str) -> tuple[str, str] | None:
    """(repository path, service path) of a smart-HTTP request path."""
    for service in GIT_SERVICES:
        index = path.find(service)
        if index > 0:
            return path[:index], path[index:]
    return None


def run_http_backend(
    directory: Path,
    service_path: str,
    method: str,
    query: str,
    headers: Any,
    body: bytes,
    remote_user: str,
) -> tuple[int, dict[str, str], bytes]:
    """One CGI request to ``git http-backend`` for the bare repository ``directory``."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(directory),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_PROJECT_ROOT": str(directory.parent),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{directory.name}{service_path}",
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "REMOTE_USER": remote_user,
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
    }
    if headers.get("Content-Encoding"):
        environment["HTTP_CONTENT_ENCODING"] = headers["Content-Encoding"]
    if headers.get("Git-Protocol"):
        environment["GIT_PROTOCOL"] = headers["Git-Protocol"]
    result = subprocess.run(
        ["git", "http-backend"], input=body, env=environment, capture_output=True, check=False
    )
    head, _, payload = result.stdout.partition(b"\r\n\r\n")
    if not _:
        head, _, payload = result.stdout.partition(b"\n\n")
    status = 200
    response_headers: dict[str, str] = {}
    for line in head.decode("latin-1").splitlines():
        if not line.strip():
            continue
        key, _, value = line.partition(":")
        if key.lower() == "status":
            status = int(value.strip().split()[0])
        else:
            response_headers[key.strip()] = value.strip()
    if result.returncode != 0 and not result.stdout:
        return 500, {"Content-Type": "text/plain"}, result.stderr
    return status, response_headers, payload


def _credentials(authorization: str) -> tuple[str, str]:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(value).decode()
    except ValueError:
        return "", ""
    username, _, password = decoded.partition(":")
    return unquote(username), password


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length", "0") or 0)
    return handler.rfile.read(length) if length else b""


def _send(
    handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes
) -> None:
    handler.send_response(status)
    for key, value in headers.items():
        if key.lower() not in ("content-length", "transfer-encoding"):
            handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)
