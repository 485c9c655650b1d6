"""A real MLflow tracking server on 127.0.0.1 (SQLite backend), for the seed code's tests."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sandbox.emulator import free_port
from sandbox.mlflow_tracking import MlflowServer

__all__ = ["free_port", "mlflow_server"]


@contextmanager
def mlflow_server(directory: Path, environment: Mapping[str, str] | None = None) -> Iterator[str]:
    """``http://127.0.0.1:<port>``, serving runs, artifacts and the model registry
    (``environment``: variables the server runs with, besides this process's)."""
    server = MlflowServer(directory, environment=environment)
    try:
        yield server.wait_until_serving()
    finally:
        server.stop()
