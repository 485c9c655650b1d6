"""GitHub, GitLab and Bitbucket REST APIs on 127.0.0.1: record requests, answer in each shape.

One HTTP server plays the three APIs under ``/github``, ``/gitlab/api/v4`` and
``/bitbucket/2.0``, for the repository calls the lifecycle makes (find, create,
delete, topics). Bodies follow the providers' documented shapes, errors
included (GitHub ``{"message", "documentation_url"}``, GitLab ``{"message"}``,
Bitbucket ``{"type": "error", "error": {"message"}}``). A repository made
through the API is a real empty bare repository on the local git server, and
the clone URL in the answer points there, so the push that follows is real.
"""

from __future__ import annotations

import json
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from sandbox.git_server import GitHttpServer, GitRequest

GIT_USERS = {"github": "x-access-token", "gitlab": "oauth2", "bitbucket": "x-token-auth"}
API_ROOTS = {"github": "/github", "gitlab": "/gitlab/api/v4", "bitbucket": "/bitbucket/2.0"}


@dataclass(frozen=True)
class RecordedRequest:
    provider: str
    method: str
    path: str  # below the API root, URL-decoded
    headers: dict[str, str]
    body: Any


@dataclass
class HostedRepo:
    provider: str
    owner: str
    name: str
    git_path: str
    description: str = ""
    topics: list[str] = field(default_factory=list)
    id: int = 0


class ProviderApiServer:
    def __init__(
        self,
        git: GitHttpServer,
        token: str,
        *,
        token_user: str = "data-scientist",
        tls: ssl.SSLContext | None = None,
    ):
        self.git = git
        self.token = token
        self.token_user = token_user  # the GitHub user the token belongs to
        self.github_organizations = {"acme"}
        self.gitlab_namespaces = {"acme": 7, "acme/ml": 8}
        self.repos: dict[tuple[str, str, str], HostedRepo] = {}
        # provider -> fields replaced in every repository reply (None removes the field): a
        # host that answers with an odd clone URL, or leaves a field out
        self.reply_fields: dict[str, dict[str, Any]] = {}
        # provider -> methods answered 403, as for a token that may not do them
        self.forbidden: dict[str, set[str]] = {}
        self.requests: list[RecordedRequest] = []
        self._ids = iter(range(1001, 10**6))
        self._lock = threading.Lock()
        git.authenticate = self.git_auth
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api._handle(self)

            def do_POST(self) -> None:
                api._handle(self)

            def do_PUT(self) -> None:
                api._handle(self)

            def do_DELETE(self) -> None:
                api._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def start(self) -> ProviderApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def api_url(self, provider: str) -> str:
        port = self._server.server_address[1]
        return f"{self.scheme}://127.0.0.1:{port}{API_ROOTS[provider]}"

    def git_auth(self, request: GitRequest) -> bool:
        provider = request.path.split("/")[1]
        return GIT_USERS.get(provider) == request.username and request.password == self.token

    def add_existing(
        self, provider: str, owner: str, name: str, description: str = ""
    ) -> HostedRepo:
        """A repository someone made before (empty, on the git server)."""
        return self._make(provider, owner, name, description)

    def calls(self, provider: str) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests if r.provider == provider]

    # --- dispatch -------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw_path = handler.path.split("?", 1)[0]
        provider = next((p for p, root in API_ROOTS.items() if raw_path.startswith(root)), "")
        length = int(handler.headers.get("Content-Length", "0") or 0)
        text = handler.rfile.read(length) if length else b""
        body = json.loads(text) if text else None
        path = raw_path[len(API_ROOTS.get(provider, "")) :]
        with self._lock:
            self.requests.append(
                RecordedRequest(
                    provider, handler.command, unquote(path), dict(handler.headers), body
                )
            )
        if not provider:
            return _reply(handler, 404, {"message": "Not Found"})
        if not self._authorized(provider, handler.headers):
            return _reply(handler, 401, _error(provider, 401, "Bad credentials"))
        if handler.command in self.forbidden.get(provider, set()):
            return _reply(handler, 403, _error(provider, 403, "Forbidden"))
        route = getattr(self, f"_{provider}")
        with self._lock:
            status, payload = route(handler.command, path, body)
        _reply(handler, status, self._with_reply_fields(provider, payload))

    def _authorized(self, provider: str, headers: Any) -> bool:
        if provider == "gitlab":
            return bool(headers.get("PRIVATE-TOKEN") == self.token)
        return bool(headers.get("Authorization") == f"Bearer {self.token}")

    def _with_reply_fields(self, provider: str, payload: Any) -> Any:
        fields = self.reply_fields.get(provider)
        if not fields or not isinstance(payload, dict):
            return payload
        if "full_name" not in payload and "path_with_namespace" not in payload:
            return payload  # not a repository
        changed = {**payload, **fields}
        return {key: value for key, value in changed.items() if value is not None}

    # --- GitHub ---------------------------------------------------------------------

    def _github(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "GET" and parts[0] == "user" and len(parts) == 1:
            return 200, {"login": self.token_user, "id": 1, "type": "User"}
        if method == "GET" and parts[0] == "users" and len(parts) == 2:
            login = parts[1]
            if login in self.github_organizations:
                return 200, {"login": login, "id": 2, "type": "Organization"}
            if login == self.token_user:
                return 200, {"login": login, "id": 1, "type": "User"}
            return 404, _error("github", 404, "Not Found")
        if method == "POST" and parts[0] == "orgs" and parts[2:] == ["repos"]:
            return self._github_create(parts[1], body)
        if method == "POST" and parts == ["user", "repos"]:
            return self._github_create(self.token_user, body)
        if parts[0] == "repos" and len(parts) >= 3:
            repo = self.repos.get(("github", parts[1], parts[2]))
            if repo is None:
                return 404, _error("github", 404, "Not Found")
            if method == "GET" and len(parts) == 3:
                return 200, self._github_repo(repo)
            if method == "DELETE" and len(parts) == 3:
                self._drop(repo)
                return 204, None
            if method == "PUT" and parts[3:] == ["topics"]:
                repo.topics = list(body["names"])
                return 200, {"names": repo.topics}
        return 404, _error("github", 404, "Not Found")

    def _github_create(self, owner: str, body: Any) -> tuple[int, Any]:
        if ("github", owner, body["name"]) in self.repos:
            return 422, {
                "message": "Repository creation failed.",
                "errors": [
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name already exists on this account",
                    }
                ],
                "documentation_url": "https://docs.github.com/rest/repos/repos#create-an-organization-repository",
                "status": "422",
            }
        repo = self._make("github", owner, body["name"], body.get("description", ""))
        return 201, self._github_repo(repo)

    def _github_repo(self, repo: HostedRepo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": f"{repo.owner}/{repo.name}",
            "private": True,
            "owner": {"login": repo.owner, "type": "Organization"},
            "html_url": f"https://github.com/{repo.owner}/{repo.name}",
            "description": repo.description,
            "clone_url": self.git.url(repo.git_path),
            "ssh_url": f"git@github.com:{repo.owner}/{repo.name}.git",
            "default_branch": "main",
            "topics": repo.topics,
            "visibility": "private",
        }

    # --- GitLab ---------------------------------------------------------------------

    def _gitlab(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if method == "GET" and parts[0] == "namespaces" and len(parts) == 2:
            full_path = unquote(parts[1])
            if full_path not in self.gitlab_namespaces:
                return 404, {"message": "404 Namespace Not Found"}
            return 200, {
                "id": self.gitlab_namespaces[full_path],
                "name": full_path.rsplit("/", 1)[-1],
                "path": full_path.rsplit("/", 1)[-1],
                "kind": "group",
                "full_path": full_path,
            }
        if method == "POST" and parts == ["projects"]:
            owner = next(p for p, i in self.gitlab_namespaces.items() if i == body["namespace_id"])
            if ("gitlab", owner, body["path"]) in self.repos:
                return 400, {
                    "message": {
                        "name": ["has already been taken"],
                        "path": ["has already been taken"],
                    }
                }
            repo = self._make("gitlab", owner, body["path"], body.get("description", ""))
            return 201, self._gitlab_project(repo)
        if parts[0] == "projects" and len(parts) == 2:
            key = unquote(parts[1])
            repo = next(
                (
                    r
                    for r in self.repos.values()
                    if r.provider == "gitlab" and (key == str(r.id) or key == f"{r.owner}/{r.name}")
                ),
                None,
            )
            if repo is None:
                return 404, {"message": "404 Project Not Found"}
            if method == "GET":
                return 200, self._gitlab_project(repo)
            if method == "DELETE":
                self._drop(repo)
                return 202, {"message": "202 Accepted"}
            if method == "PUT":
                repo.topics = list(body.get("topics", repo.topics))
                return 200, self._gitlab_project(repo)
        return 404, {"message": "404 Not Found"}

    def _gitlab_project(self, repo: HostedRepo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "name": repo.name,
            "path": repo.name,
            "path_with_namespace": f"{repo.owner}/{repo.name}",
            "description": repo.description,
            "visibility": "private",
            "default_branch": "prod",
            "http_url_to_repo": self.git.url(repo.git_path),
            "ssh_url_to_repo": f"git@gitlab.com:{repo.owner}/{repo.name}.git",
            "web_url": f"https://gitlab.com/{repo.owner}/{repo.name}",
            "topics": repo.topics,
            "namespace": {"id": self.gitlab_namespaces.get(repo.owner), "full_path": repo.owner},
        }

    # --- Bitbucket ------------------------------------------------------------------

    def _bitbucket(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[0] != "repositories" or len(parts) != 3:
            return 404, _error("bitbucket", 404, "Resource not found")
        workspace, slug = parts[1], parts[2]
        repo = self.repos.get(("bitbucket", workspace, slug))
        if method == "POST":
            if repo is not None:
                return 400, _error(
                    "bitbucket", 400, "Repository with this Slug and Owner already exists."
                )
            repo = self._make("bitbucket", workspace, slug, body.get("description", ""))
            return 200, self._bitbucket_repo(repo)
        if repo is None:
            return 404, _error("bitbucket", 404, f"Repository {workspace}/{slug} not found")
        if method == "GET":
            return 200, self._bitbucket_repo(repo)
        if method == "DELETE":
            self._drop(repo)
            return 204, None
        return 405, _error("bitbucket", 405, "Method not allowed")

    def _bitbucket_repo(self, repo: HostedRepo) -> dict[str, Any]:
        scheme = f"{self.git.scheme}://"
        clone = self.git.url(repo.git_path).replace(scheme, f"{scheme}x-token-auth@", 1)
        return {
            "type": "repository",
            "uuid": f"{{{uuid.UUID(int=repo.id)}}}",
            "full_name": f"{repo.owner}/{repo.name}",
            "name": repo.name,
            "slug": repo.name,
            "is_private": True,
            "scm": "git",
            "description": repo.description,
            "mainbranch": None,
            "links": {
                "html": {"href": f"https://bitbucket.org/{repo.owner}/{repo.name}"},
                "clone": [
                    {"name": "https", "href": clone},
                    {"name": "ssh", "href": f"git@bitbucket.org:{repo.owner}/{repo.name}.git"},
                ],
            },
        }

    # --- repositories -----------------------------------------------------------------

    def _make(self, provider: str, owner: str, name: str, description: str) -> HostedRepo:
        git_path = f"/{provider}/{owner}/{name}.git"
        self.git.add_repository(git_path)
        repo = HostedRepo(provider, owner, name, git_path, description, [], next(self._ids))
        self.repos[(provider, owner, name)] = repo
        return repo

    def _drop(self, repo: HostedRepo) -> None:
        del self.repos[(repo.provider, repo.owner, repo.name)]
        self.git.remove_repository(repo.git_path)


def _error(provider: str, status: int, message: str) -> dict[str, Any]:
    if provider == "github":
        return {
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": str(status),
        }
    if provider == "gitlab":
        return {"message": f"{status} {message}"}
    return {"type": "error", "error": {"message": message}}


def _reply(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    data = b"" if payload is None else json.dumps(payload).encode()
    handler.send_response(status)
    if data:
        handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
