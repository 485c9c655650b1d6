"""A small JSON-over-HTTPS client for the providers' REST APIs (through the shared pool manager)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambda_project_lifecycle.repositories.errors import RepositoryAccessError, RepositoryError
from lambda_project_lifecycle.resource_properties import API_URL


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


@dataclass
class RestApi:
    """One provider API: base URL, auth headers, what to call it in messages."""

    title: str  # "GitHub"
    base_url: str
    headers: Mapping[str, str] = field(repr=False)
    http: Any = field(repr=False)
    credentials_from: str = ""

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        missing_ok: bool = False,
    ) -> Reply:
        """One request; 404 gives ``Reply(404, None)`` when ``missing_ok``, other failures raise."""
        import urllib3.exceptions

        url = f"{self.base_url}{path}"
        headers = {"Accept": "application/json", **self.headers}
        payload = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(body).encode()
        try:
            # Never follow a redirect: urllib3 drops only Authorization (and cookies) on a
            # cross-host redirect, so GitLab's PRIVATE-TOKEN would travel to the new host.
            response = self.http.request(method, url, body=payload, headers=headers, redirect=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise RepositoryError(
                f"Could not reach the {self.title} API at {url}: {reason}"
            ) from exc
        status = int(response.status)
        data = _json(response.data)
        if status in ok:
            return Reply(status, data)
        if status == 404 and missing_ok:
            return Reply(404, None)
        where = f"{method} {url}"
        if 300 <= status < 400:
            location = response.headers.get("Location", "")
            raise RepositoryError(
                f"{self.title} answered HTTP {status} on {where} (to {location or 'nowhere'}); "
                "redirects are not followed, so that the token stays with this host: set "
                f"{API_URL} to the API's final URL"
            )
        message = _message(data) or response.data[:200].decode(errors="replace")
        source = f" from {self.credentials_from}" if self.credentials_from else ""
        if status in (401, 403):
            raise RepositoryAccessError(
                f"{self.title} refused the token{source} (HTTP {status} on {where}: {message})"
            )
        raise RepositoryError(f"{self.title} answered HTTP {status} on {where}: {message}")


def _json(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _message(data: Any) -> str:
    """The error text of a GitHub, GitLab or Bitbucket error body."""
    if not isinstance(data, dict):
        return ""
    error = data.get("error")
    if isinstance(error, dict):  # Bitbucket: {"type": "error", "error": {"message": ...}}
        return str(error.get("message", ""))
    message = data.get("message", error or "")
    if isinstance(message, dict):  # GitLab: {"message": {"name": ["has already been taken"]}}
        return "; ".join(f"{key} {', '.join(map(str, value))}" for key, value in message.items())
    return str(message)
