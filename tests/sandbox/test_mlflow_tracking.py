"""The sandbox's MLflow tracking server: one process that serves the registry, and stops
within seconds even with a connection kept alive."""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path

from sandbox.mlflow_tracking import MlflowServer


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def test_the_server_is_one_process_that_serves_the_registry_and_stops_at_once(
    tmp_path: Path,
) -> None:
    server = MlflowServer(tmp_path / "mlflow")
    url = server.wait_until_serving()
    pid = server._process.pid
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)  # kept alive below
    try:
        connection.request(
            "POST",
            "/api/2.0/mlflow/registered-models/create",
            body=json.dumps({"name": "churn"}),
            headers={"Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        assert answer.status == 200, answer.read()
        answer.read()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"uvicorn" in command  # the command became its server
        assert _children(pid) == []  # no parent waiting on a worker
        began = time.monotonic()
    finally:
        server.stop()
    assert time.monotonic() - began < 5
    assert not Path(f"/proc/{pid}").exists()  # ended and reaped
    connection.close()
    assert (tmp_path / "mlflow" / "mlflow.db").stat().st_size > 0
    assert os.path.exists(tmp_path / "mlflow" / "mlflow-server.log")
