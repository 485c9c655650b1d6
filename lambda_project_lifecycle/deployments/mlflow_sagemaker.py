"""SageMaker managed MLflow, named by its ARN: where its REST API is, and signed calls to it.

A tracking server (``mlflow-tracking-server/<name>``) says where it is:
``DescribeMlflowTrackingServer`` answers its ``TrackingServerUrl``. An MLflow App
(``mlflow-app/<id>``) does not (``DescribeMlflowApp`` has no URL); its API is the
region's MLflow App endpoint, ``https://mlflow.sagemaker.<region>.app.aws``, as the
``sagemaker-mlflow`` plugin of the SageMaker SDK calls it. Either is described first, so
that a server that is gone, stopped or still being made is reported as such rather than
as a refused call; the answer is kept for the invocation (one describe per server, however
many of its models the reconcile looks at).

Every call is signed with SigV4 for the service ``sagemaker-mlflow`` in the ARN's region,
with the function's own credentials, and names the server in the
``x-mlflow-sm-tracking-server-arn`` header (the one regional endpoint serves every server
and app of the region, and routes by it). IAM decides: a call the role may not make is
answered 403, which the sync reports as an unreachable server and changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotocoreCredentials

from lambda_project_lifecycle.aws_calls import MISSING, call_unless
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments.mlflow_rest import MlflowRegistry, MlflowUnreachableError
from lambda_project_lifecycle.errors import AwsCallError
from lambda_project_lifecycle.resource_properties import MLFLOW_SERVER_ARN_PATTERN

SIGNING_SERVICE = "sagemaker-mlflow"
SERVER_HEADER = "x-mlflow-sm-tracking-server-arn"
TRACKING_SERVER, APP = "mlflow-tracking-server", "mlflow-app"
# The top-level domain of the MLflow App endpoints, by partition (the plugin's; no other
# partition has one documented).
APP_DOMAINS = {"aws": "aws", "aws-us-gov": "aws"}
SERVER_ARN = re.compile(MLFLOW_SERVER_ARN_PATTERN)
# The MLflow App states in which it answers its API (a tracking server says IsActive).
APP_READY = frozenset({"Created", "Updating", "Updated", "UpdateFailed"})

# (access key, secret key, session token) of the function's role, when a call is signed.
Credentials = Callable[[], tuple[str, str, str | None]]


@dataclass(frozen=True)
class ManagedServer:
    arn: str
    region: str
    url: str


class SigV4Signer:
    """The headers that sign one request to ``server`` (botocore's SigV4, at call time)."""

    def __init__(self, server: ManagedServer, credentials: Credentials) -> None:
        self._server = server
        self._credentials = credentials

    def headers(self, method: str, url: str, body: bytes = b"") -> dict[str, str]:
        request = AWSRequest(
            method=method,
            url=url,
            data=body,
            headers={
                SERVER_HEADER: self._server.arn,
                "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest(),
            },
        )
        access_key, secret_key, token = self._credentials()
        SigV4Auth(
            BotocoreCredentials(access_key, secret_key, token), SIGNING_SERVICE, self._server.region
        ).add_auth(request)
        return dict(request.headers.items())


class ManagedServers:
    """SageMaker MLflow servers by ARN, resolved once each (make one per invocation), with
    ``clients``' SageMaker client, and their credentials signing the calls."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        self._resolved: dict[str, ManagedServer] = {}

    def registry(self, arn: str, http: Any) -> MlflowRegistry:
        server = self.resolve(arn)
        return MlflowRegistry(
            server.url, http, signer=SigV4Signer(server, self._clients.credentials)
        )

    def resolve(self, arn: str) -> ManagedServer:
        """Where ``arn``'s REST API is; raises :class:`MlflowUnreachableError` saying why
        it cannot be called."""
        if arn not in self._resolved:
            self._resolved[arn] = self._describe(arn)
        return self._resolved[arn]

    def _describe(self, arn: str) -> ManagedServer:
        parsed = SERVER_ARN.match(arn)
        if parsed is None:
            raise MlflowUnreachableError(
                f"the tracking server {arn!r} is not a SageMaker MLflow tracking server or "
                "app ARN (arn:<partition>:sagemaker:<region>:<account>:mlflow-tracking-server/"
                "<name> or ...:mlflow-app/<id>)"
            )
        kind, region = parsed["kind"], parsed["region"]
        here = self._clients.sagemaker.meta.region_name
        if region != here:  # described (and granted) in the functions' own region only
            raise MlflowUnreachableError(
                f"the SageMaker MLflow server {arn} is in {region}; the platform's functions "
                f"reach SageMaker MLflow in {here} only"
            )
        if kind == TRACKING_SERVER:
            url = self._tracking_server_url(arn, parsed["name"])
        elif kind == APP:
            url = self._app_url(arn, parsed["partition"], region)
        else:
            raise MlflowUnreachableError(
                f"the tracking server {arn}: SageMaker MLflow has no {kind} the sync can "
                f"call (only {TRACKING_SERVER} and {APP})"
            )
        return ManagedServer(arn, region, url.rstrip("/"))

    def _tracking_server_url(self, arn: str, name: str) -> str:
        found = self._described(
            arn, self._clients.sagemaker.describe_mlflow_tracking_server, TrackingServerName=name
        )
        if found.get("TrackingServerArn", arn) != arn:  # the name in another account
            raise MlflowUnreachableError(
                f"the MLflow tracking server {arn} is not this account's: its name here is "
                f"{found['TrackingServerArn']}"
            )
        if found.get("IsActive") == "Inactive":
            raise MlflowUnreachableError(
                f"the MLflow tracking server {arn} is stopped "
                f"({found.get('TrackingServerStatus', 'Inactive')}): start it"
            )
        url = str(found.get("TrackingServerUrl") or "")
        if not url.startswith(("https://", "http://")):
            raise MlflowUnreachableError(
                f"the MLflow tracking server {arn} has no URL yet "
                f"({found.get('TrackingServerStatus', 'no status')})"
            )
        return url

    def _app_url(self, arn: str, partition: str, region: str) -> str:
        domain = APP_DOMAINS.get(partition)
        if domain is None:
            raise MlflowUnreachableError(
                f"the MLflow App {arn}: no MLflow App endpoint is documented in partition "
                f"{partition}"
            )
        found = self._described(arn, self._clients.sagemaker.describe_mlflow_app, Arn=arn)
        status = str(found.get("Status", ""))
        if status not in APP_READY:
            raise MlflowUnreachableError(f"the MLflow App {arn} is {status or 'not ready'}")
        return f"https://mlflow.sagemaker.{region}.app.{domain}"

    @staticmethod
    def _described(arn: str, describe: Callable[..., Any], **request: str) -> Mapping[str, Any]:
        try:
            found = call_unless(MISSING, f"Describing the MLflow server {arn}", describe, **request)
        except AwsCallError as exc:  # denied, throttled: nothing to call it on this time
            raise MlflowUnreachableError(str(exc)) from exc
        if found is None:
            raise MlflowUnreachableError(f"the SageMaker MLflow server {arn} does not exist")
        return dict(found)
