"""MLflow's model registry over its REST API (``/api/2.0/mlflow``), through urllib3.

The MLflow client is far over the Lambda zip's 2 MB; the few calls the MLflow sync
makes are plain JSON over HTTP. A server that cannot be reached, answers 5xx or
denies the caller (403) raises :class:`MlflowUnreachableError`; a model, version or
alias that does not exist reads as None. Each request carries the server's fixed
headers (HTTP Basic for the platform's own server) and, when it has one, what its
signer computes for that very request (SigV4 for SageMaker managed MLflow).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from lambda_project_lifecycle.deployments.errors import DeploymentError

API = "/api/2.0/mlflow"
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
TIMEOUT_SECONDS = 10.0


class MlflowUnreachableError(DeploymentError):
    """The tracking server did not answer, or answered with a server error."""


class MlflowRequestError(DeploymentError):
    """The tracking server refused a request (authentication, a bad parameter)."""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: str
    run_id: str
    source: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        return reference(self.name, self.version)


def reference(name: str, version: str) -> str:
    """How the deployment engine names an MLflow model version."""
    return f"mlflow:{name}/{version}"


def parse_reference(ref: str) -> tuple[str, str] | None:
    """(name, version) of an ``mlflow:`` reference; None for a model package ARN."""
    if not ref.startswith("mlflow:"):
        return None
    name, _, version = ref[len("mlflow:") :].rpartition("/")
    return name, version


class RequestSigner(Protocol):
    def headers(self, method: str, url: str, body: bytes = b"") -> Mapping[str, str]:
        """The headers that authenticate this request (computed when it is sent)."""
        ...


class MlflowRegistry:
    """One tracking server: ``base_url`` is ``http(s)://host[:port][/path]``."""

    def __init__(
        self,
        base_url: str,
        http: Any,
        headers: Mapping[str, str] | None = None,
        signer: RequestSigner | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._headers = dict(headers or {})
        self._signer = signer

    def aliases(self, name: str) -> dict[str, str] | None:
        """Alias -> version of a registered model; None when the model does not exist."""
        found = self._get("registered-models/get", name=name)
        if found is None:
            return None
        model = found.get("registered_model", {})
        return {str(a["alias"]): str(a["version"]) for a in model.get("aliases", [])}

    def version(self, name: str, version: str) -> ModelVersion | None:
        found = self._get("model-versions/get", name=name, version=version)
        if found is None:
            return None
        data = found.get("model_version", {})
        return ModelVersion(
            name=str(data.get("name", name)),
            version=str(data.get("version", version)),
            run_id=str(data.get("run_id", "")),
            source=str(data.get("source", "")),
            tags={str(t["key"]): str(t.get("value", "")) for t in data.get("tags", [])},
        )

    def _get(self, path: str, **query: str) -> dict[str, Any] | None:
        # %20, not +, for a space: the query as SigV4 signs it is the one sent.
        url = f"{self._base}{API}/{path}?{urlencode(query, quote_via=quote)}"
        headers = dict(self._headers)
        if self._signer is not None:
            headers.update(self._signer.headers("GET", url))
        try:
            answer = self._http.request(
                "GET", url, headers=headers, timeout=TIMEOUT_SECONDS, retries=False
            )
        except Exception as exc:  # urllib3 raises its own tree (HTTPError); any of it is "down"
            raise MlflowUnreachableError(
                f"the MLflow tracking server {self._base} cannot be reached ({exc})"
            ) from exc
        body = _json(answer.data)
        if answer.status == 200:
            return body
        if body.get("error_code") == NOT_FOUND or answer.status == 404:
            return None
        if answer.status >= 500:
            raise MlflowUnreachableError(
                f"the MLflow tracking server {self._base} answered {answer.status} to {path}"
            )
        if answer.status == 403:  # the caller may not: nothing can be asked until it may
            raise MlflowUnreachableError(
                f"the MLflow tracking server {self._base} denied {path} (403 "
                f"{_denial(body)}): the platform's functions need permission to read its "
                "registered models"
            )
        raise MlflowRequestError(
            f"the MLflow tracking server {self._base} refused {path} with {answer.status} "
            f"{body.get('error_code', '')}".rstrip()
        )


def _denial(body: Mapping[str, Any]) -> str:
    """What a 403 says: MLflow's error code, or AWS's exception type and message."""
    kind = body.get("error_code") or body.get("__type") or ""
    message = body.get("message") or body.get("Message") or ""
    return ": ".join(str(part) for part in (kind, message) if part) or "no reason given"


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
