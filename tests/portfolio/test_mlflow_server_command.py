"""The self-hosted tracking server's own command, run on 127.0.0.1 with its authentication on.

The same argv the Fargate task runs (``server_command()``), with a sqlite backend and a local
artifact directory in place of the Aurora database and the S3 prefix. One server for the
module: it takes 15-40 s to be ready on 2 busy CPUs (two schema migrations, two uvicorn
workers importing MLflow's auth app, the platform user's password hashed), the reason this
test is over 10 s; the four checks then take under a second.
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
from pathlib import Path

import boto3
import pytest
import urllib3
from moto import mock_aws

from lambda_project_lifecycle.deployments.mlflow_credentials import ServerCredentials
from lambda_project_lifecycle.deployments.mlflow_rest import MlflowRegistry, MlflowRequestError
from portfolio import mlflow_server_command as command
from tests.seed_code.mlflow_server import free_port

ADMIN = ("admin", "Admin-generated-0001")
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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
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
        while "platform user ready" not in (work / "server.log").read_text():
            assert process.poll() is None, (work / "server.log").read_text()[-4000:]
            assert time.monotonic() < deadline, "the server did not get ready"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
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
