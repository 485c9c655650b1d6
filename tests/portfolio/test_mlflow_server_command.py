"""The self-hosted tracking server's own command, run on 127.0.0.1 with its authentication on.

The same argv the Fargate task runs (``server_command()``), with a sqlite backend and a local
artifact directory in place of the Aurora database and the S3 prefix, and a receiver on
127.0.0.1 in place of the MLflow sync's function URL. One server for the module: it takes
15-40 s to be ready on 2 busy CPUs (two schema migrations, two uvicorn workers importing
MLflow's auth app, the platform user's password hashed, its webhook registered), the reason
this test is over 10 s; the checks then take a few seconds (the restart runs the start
steps again, ~5 s).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import urllib3
from moto import mock_aws

from lambda_project_lifecycle.deployments.mlflow_credentials import ServerCredentials
from lambda_project_lifecycle.deployments.mlflow_rest import MlflowRegistry, MlflowRequestError
from lambda_project_lifecycle.deployments.webhook_signature import (
    UnauthenticatedDeliveryError,
    verify,
)
from portfolio import mlflow_server_command as command
from tests.lambda_project_lifecycle.deployments.mlflow_world import (
    SERVER_ENVIRONMENT,
    Receiver,
    receiver,
)
from tests.seed_code.mlflow_server import free_port

ADMIN = ("admin", "Admin-generated-0001")
WEBHOOK_SECRET = "Webhook-generated-0004"
WEBHOOK_CACHE_SECONDS = 1
PLATFORM = ("mlops-platform", "Platform-generated-0002")
START_TIMEOUT_SECONDS = 90


def _request(url: str, credentials: tuple[str, str] | None = None, body: dict | None = None) -> int:
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if credentials is not None:
        token = base64.b64encode(":".join(credentials).encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@dataclass
class Started:
    """The server as started, with the receiver its webhook delivers to."""

    url: str
    deliveries: Receiver
    environment: dict[str, str]
    pid: int


@pytest.fixture(scope="module")
def deliveries() -> Iterator[Receiver]:
    """The MLflow sync's function URL, played by a receiver that answers 200 to each."""
    with receiver() as target:
        target.target = lambda event: {"statusCode": 200, "body": "{}"}
        yield target


@pytest.fixture(scope="module")
def server(started: Started) -> str:
    return started.url


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory, deliveries: Receiver) -> Iterator[Started]:
    work = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        command.BACKEND_STORE_URI_ENV: f"sqlite:///{work / 'mlflow.db'}",
        command.ARTIFACTS_DESTINATION_ENV: str(work / "artifacts"),
        command.ADMIN_USERNAME_ENV: ADMIN[0],
        command.ADMIN_PASSWORD_ENV: ADMIN[1],
        command.PLATFORM_USERNAME_ENV: PLATFORM[0],
        command.PLATFORM_PASSWORD_ENV: PLATFORM[1],
        command.PORT_ENV: str(port),
        command.SERVER_SECRET_KEY_ENV: "Csrf-generated-0003",
        "MLFLOW_SERVER_ALLOWED_HOSTS": f"127.0.0.1:{port}",
        command.WEBHOOK_URL_ENV: deliveries.url,
        command.WEBHOOK_SECRET_ENV: WEBHOOK_SECRET,
        # The receiver is on 127.0.0.1 over http; the function URL is public and https.
        **SERVER_ENVIRONMENT,
        # Each worker keeps the webhooks it read for this long (default 60 s): a new task
        # starts with none, a restart in place here waits out 1 s.
        "MLFLOW_WEBHOOK_CACHE_TTL": str(WEBHOOK_CACHE_SECONDS),
    }
    log = (work / "server.log").open("w")
    process = subprocess.Popen(
        command.server_command(),
        env=environment,
        cwd=work,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while "platform webhook" not in (work / "server.log").read_text():
            assert process.poll() is None, (work / "server.log").read_text()[-4000:]
            assert time.monotonic() < deadline, "the server did not get ready"
            time.sleep(0.2)
        assert "platform webhook ready" in (work / "server.log").read_text()
        yield Started(f"http://127.0.0.1:{port}", deliveries, environment, process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


SEARCH = "/api/2.0/mlflow/experiments/search?max_results=10"


def test_a_request_without_credentials_is_refused(server: str) -> None:
    assert _request(server + SEARCH) == 401


def test_wrong_credentials_are_refused(server: str) -> None:
    assert _request(server + SEARCH, (PLATFORM[0], "not-the-password")) == 401


def test_the_platform_user_reads_and_writes(server: str) -> None:
    assert _request(server + SEARCH, PLATFORM) == 200
    created = _request(
        server + "/api/2.0/mlflow/registered-models/create", PLATFORM, {"name": "sagemaker-p-1-dev"}
    )
    assert created == 200


def test_the_load_balancer_health_check_needs_no_credentials(server: str) -> None:
    assert _request(server + command.HEALTH_PATH) == 200


def test_the_mlflow_sync_calls_it_as_the_platform_user_from_its_secret(server: str) -> None:
    """The platform's functions read the generated secret (``MLFLOW_CREDENTIALS_SECRET_ARN``)
    and call the server they run beside with it; any other server gets no credentials."""

    model = "sagemaker-churn-p-credentials1-dev"
    assert (
        _request(server + "/api/2.0/mlflow/registered-models/create", ADMIN, {"name": model}) == 200
    )
    http = urllib3.PoolManager()
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        arn = secrets.create_secret(
            Name="mlops-portfolio/mlflow/platform-user",
            SecretString=json.dumps({"username": PLATFORM[0], "password": PLATFORM[1]}),
        )["ARN"]
        credentials = ServerCredentials.from_environment(
            secrets.get_secret_value,
            {"MLFLOW_TRACKING_URI": server + "/", "MLFLOW_CREDENTIALS_SECRET_ARN": arn},
        )

        with_secret = MlflowRegistry(server, http, headers=credentials.headers_for(server))
        assert with_secret.aliases(model) == {}
        assert with_secret.aliases("sagemaker-churn-p-credentials1-feature") is None
        assert credentials.headers_for("https://mlflow.other-team.example") == {}
    with pytest.raises(MlflowRequestError, match="401"):
        MlflowRegistry(server, http).aliases(model)


def _as_admin(url: str) -> Any:
    """An MLflow client of the administrator (credentials from the environment, which each
    test sets with ``monkeypatch``)."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=url)


def _platform_webhooks(url: str) -> list[Any]:
    return [w for w in _as_admin(url).list_webhooks() if w.name == command.WEBHOOK_NAME]


def _set_alias_as_the_platform_user(url: str, model: str) -> None:
    """What a project's build does: register a version and point an alias at it."""
    for path, body in (
        ("registered-models/create", {"name": model}),
        ("model-versions/create", {"name": model, "source": "s3://data/model.tar.gz"}),
        ("registered-models/alias", {"name": model, "alias": "approved", "version": "1"}),
    ):
        answer = _request(f"{url}/api/2.0/mlflow/{path}", PLATFORM, body)
        assert answer == 200, path


def _alias_deliveries(target: Receiver, model: str, count: int) -> list[Any]:
    """The deliveries of alias events of ``model``, once ``count`` of them arrived."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with target.lock:
            found = [d for d in target.deliveries if f'"{model}"' in d.body]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{len(found)} deliveries of {model}, not {count}")


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The MLflow client as the administrator, the only user MLflow lets manage webhooks;
    a refusal fails at once instead of after the client's retries."""
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN[0])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN[1])
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")


def test_the_server_registers_the_platforms_webhook_signed_with_its_secret(
    started: Started, admin: None
) -> None:
    """At start, as the administrator (the only user MLflow lets manage webhooks): one
    webhook to the MLflow sync's URL for alias events; an alias a build sets is delivered,
    signed with the platform's secret as the webhook handler verifies it."""
    (webhook,) = _platform_webhooks(started.url)
    assert webhook.url == started.deliveries.url
    assert sorted(str(e) for e in webhook.events) == [
        "model_version_alias.created",
        "model_version_alias.deleted",
    ]
    model = "sagemaker-churn-p-webhook1-dev"

    _set_alias_as_the_platform_user(started.url, model)

    (delivery,) = _alias_deliveries(started.deliveries, model, 1)
    verified = verify(delivery.headers, delivery.body, WEBHOOK_SECRET, datetime.now(UTC))
    payload = json.loads(verified.body)
    assert (payload["entity"], payload["action"]) == ("model_version_alias", "created")
    assert (payload["data"]["name"], payload["data"]["alias"]) == (model, "approved")


def test_a_restart_keeps_one_webhook_and_applies_a_rotated_secret(
    started: Started, admin: None
) -> None:
    """The start step again (a new task after the signing secret was rotated): still one
    webhook, now signing with the new secret."""
    rotated = "Webhook-rotated-0005"
    environment = {
        **started.environment,
        command.WEBHOOK_SECRET_ENV: rotated,
        "MLFLOW_SERVER_PID": str(started.pid),
    }
    subprocess.run(
        [sys.executable, "-c", command.START_STEPS],
        env=environment,
        check=True,
        capture_output=True,
        timeout=60,
    )

    assert len(_platform_webhooks(started.url)) == 1
    time.sleep(WEBHOOK_CACHE_SECONDS + 0.5)  # the workers' copies of the webhook expire
    model = "sagemaker-churn-p-webhook2-dev"
    _set_alias_as_the_platform_user(started.url, model)
    (delivery,) = _alias_deliveries(started.deliveries, model, 1)
    verify(delivery.headers, delivery.body, rotated, datetime.now(UTC))
    with pytest.raises(UnauthenticatedDeliveryError):
        verify(delivery.headers, delivery.body, WEBHOOK_SECRET, datetime.now(UTC))
