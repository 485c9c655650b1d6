"""MLflow's model registry over its REST API (``/api/2.0/mlflow``), through urllib3.

The MLflow client is far over the Lambda zip's 2 MB; the few calls the MLflow sync
makes are plain JSON over HTTP. A server that cannot be reached, or answers 5xx,
raises :class:`MlflowUnreachableError`; a model, version or alias that does not
exist reads as None.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

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


class MlflowRegistry:
    """One tracking server: ``base_url`` is ``http(s)://host[:port][/path]``."""

    def __init__(self, base_url: str, http: Any, headers: Mapping[str, str] | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._http = http
        self._headers = dict(headers or {})

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
        url = f"{self._base}{API}/{path}?{urlencode(query)}"
        try:
            answer = self._http.request(
                "GET", url, headers=self._headers, timeout=TIMEOUT_SECONDS, retries=False
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
        raise MlflowRequestError(
            f"the MLflow tracking server {self._base} refused {path} with {answer.status} "
            f"{body.get('error_code', '')}".rstrip()
        )


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
