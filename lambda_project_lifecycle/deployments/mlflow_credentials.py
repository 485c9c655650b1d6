"""The platform's user on the MLflow server the platform runs itself (``self-hosted``).

That server has MLflow's own authentication on; the platform stack generates its user's
credentials in Secrets Manager (JSON ``username`` and ``password``) and names the secret in
``MLFLOW_CREDENTIALS_SECRET_ARN``, beside the server's URL in ``MLFLOW_TRACKING_URI``. The
MLflow sync sends them (HTTP Basic, as MLflow's ``basic-auth`` app reads them) to that server
only: a project's own tracking server never sees the platform's password.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from lambda_project_lifecycle.aws_calls import call
from lambda_project_lifecycle.deployments.mlflow_rest import MlflowUnreachableError
from lambda_project_lifecycle.environment import (
    MLFLOW_CREDENTIALS_SECRET_ENV,
    MLFLOW_TRACKING_URI_ENV,
)
from lambda_project_lifecycle.errors import AwsCallError


class ServerCredentials:
    """Authorization headers for calls to ``tracking_uri`` (none when there is no secret)."""

    def __init__(
        self,
        tracking_uri: str,
        secret_arn: str,
        read_secret: Callable[..., Mapping[str, Any]] | None = None,
    ) -> None:
        self._server = tracking_uri.rstrip("/")
        self._secret_arn = secret_arn
        self._read_secret = read_secret
        self._headers: dict[str, str] | None = None

    @classmethod
    def from_environment(
        cls,
        read_secret: Callable[..., Mapping[str, Any]] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ServerCredentials:
        environ = os.environ if environ is None else environ
        return cls(
            environ.get(MLFLOW_TRACKING_URI_ENV, ""),
            environ.get(MLFLOW_CREDENTIALS_SECRET_ENV, ""),
            read_secret,
        )

    def headers_for(self, tracking_uri: str) -> dict[str, str]:
        if not self._secret_arn or tracking_uri.rstrip("/") != self._server:
            return {}
        if self._headers is None:  # read once per container
            self._headers = self._basic_auth()
        return dict(self._headers)

    def _basic_auth(self) -> dict[str, str]:
        """Without them the server refuses every call: like an unreachable server, reported
        and nothing changed (the webhook answers 503, MLflow retries)."""
        if self._read_secret is None:
            raise MlflowUnreachableError(
                f"no Secrets Manager client to read {self._secret_arn} "
                f"({MLFLOW_CREDENTIALS_SECRET_ENV})"
            )
        try:
            reply = call(
                f"Reading the MLflow server's credentials {self._secret_arn}",
                self._read_secret,
                SecretId=self._secret_arn,
            )
        except AwsCallError as exc:
            raise MlflowUnreachableError(str(exc)) from exc
        try:
            secret = json.loads(str(reply.get("SecretString", "")))
            user, password = str(secret["username"]), str(secret["password"])
        except (ValueError, KeyError, TypeError) as exc:
            raise MlflowUnreachableError(
                f"secret {self._secret_arn} ({MLFLOW_CREDENTIALS_SECRET_ENV}) is not JSON with "
                "username and password"
            ) from exc
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}
