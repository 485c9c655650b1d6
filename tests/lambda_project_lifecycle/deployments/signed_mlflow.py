"""A stand-in for SageMaker managed MLflow's front door: SigV4 checked, then real MLflow.

:func:`signed_proxy` is a real HTTP server on 127.0.0.1 that does what SageMaker does before
a request reaches the MLflow server behind an ARN: it refuses (403, AWS's JSON error) any
request whose SigV4 signature for ``sagemaker-mlflow`` is not one the expected credentials
make for exactly that request (recomputed with botocore's own signer, not the product's
code path), that is older than 15 minutes, signed for another region or service, or that
names another server in ``x-mlflow-sm-tracking-server-arn``; the rest it passes to a real
MLflow server and answers what MLflow answers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.lambda_project_lifecycle.deployments.mlflow_world import QuietHandler, serving

SERVICE = "sagemaker-mlflow"
SERVER_HEADER = "x-mlflow-sm-tracking-server-arn"
MAX_SKEW = timedelta(minutes=15)
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass
class SignedProxy:
    url: str
    arn: str
    region: str
    credentials: Credentials
    # (method, path, None when accepted or why it was refused), in arrival order
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refusal(self, method: str, path: str, headers: dict[str, str], body: bytes) -> str | None:
        """Why SageMaker would refuse this request; None when the signature is right."""
        found = AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if found is None:
            return "no SigV4 Authorization header"
        if found["key"] != self.credentials.access_key:
            return f"access key {found['key']} is not the expected one"
        if (found["region"], found["service"]) != (self.region, SERVICE):
            return f"signed for {found['service']} in {found['region']}"
        if headers.get(SERVER_HEADER) != self.arn:
            return f"{SERVER_HEADER} names {headers.get(SERVER_HEADER)!r}"
        stamp = headers.get("x-amz-date", "")
        try:
            signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return f"x-amz-date {stamp!r} is not a SigV4 timestamp"
        if abs(datetime.now(UTC) - signed_at) > MAX_SKEW:
            return f"signed at {stamp}, over {MAX_SKEW} ago"
        if headers.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
            return "x-amz-content-sha256 is not the body's hash"
        names = found["signed"].split(";")
        if not {"host", SERVER_HEADER} <= set(names) or any(n not in headers for n in names):
            return f"signed headers {found['signed']} leave out the host or the server"
        request = AWSRequest(
            method=method,
            url=f"http://{headers['host']}{path}",
            data=body,
            headers={name: headers[name] for name in names},
        )
        request.context["timestamp"] = stamp
        signer = SigV4Auth(self.credentials, SERVICE, self.region)
        canonical = signer.canonical_request(request)
        wanted = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(wanted, found["signature"]):
            return "the signature does not match the request"
        return None


@contextmanager
def signed_proxy(
    mlflow_url: str, *, arn: str, region: str, credentials: Credentials
) -> Iterator[SignedProxy]:
    """``mlflow_url`` behind a SigV4 check for ``arn`` with ``credentials``."""
    state = SignedProxy("", arn, region, credentials)

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {key.lower(): value for key, value in self.headers.items()}
            refused = state.refusal("GET", self.path, headers, body)
            with state.lock:
                state.requests.append(("GET", self.path, refused))
            if refused is not None:
                self._answer(403, {"__type": "AccessDeniedException", "Message": refused})
                return
            try:
                with urllib.request.urlopen(f"{mlflow_url}{self.path}", timeout=10) as answer:
                    self._answer(answer.status, answer.read())
            except urllib.error.HTTPError as exc:
                self._answer(exc.code, exc.read())

        def _answer(self, status: int, body: bytes | dict[str, Any]) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.reply(status, data, "application/json")

    with serving(Handler) as url:
        state.url = url
        yield state
