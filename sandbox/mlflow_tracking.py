"""A real MLflow tracking server on 127.0.0.1 (SQLite backend, artifacts in a directory).

:class:`MlflowServer` starts ``mlflow server`` (the MLflow version this project pins),
one process: the command becomes its uvicorn server (:mod:`sandbox.mlflow_exec`), and
returns at once: the process starts beside whatever the caller does next, and
:meth:`MlflowServer.wait_until_serving` waits for its ``/health``. The tests of the seed
code and of the MLflow sync use it over plain HTTP; :func:`sandbox_tracking_server` is
the sandbox's: HTTPS with a certificate of the run's CA (uvicorn's ``--ssl-certfile``/
``--ssl-keyfile``, through ``--uvicorn-opts``), its webhooks delivered to the emulator's
function URLs (:mod:`sandbox.function_urls`, reached through :mod:`sandbox.url_network`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from sandbox.emulator import free_port
from sandbox.event_delivery import SandboxClock
from sandbox.tls import CertificateAuthority

START_TIMEOUT_SECONDS = 120.0
URL_NETWORK = Path(__file__).parent / "url_network"
# MLflow caches the webhooks of each event for a minute: a webhook paused in the sandbox's
# walk must stop deliveries at once, as the walk checks right after. 0: no cache (MLflow
# reads the webhooks of the event from its store on each event; a TTL of 0 keeps nothing).
WEBHOOK_CACHE_SECONDS = "0"
GRACEFUL_SHUTDOWN_SECONDS = 1
MLFLOW_EXEC = Path(__file__).parent / "mlflow_exec.py"
# No job runner: MLflow 3 starts eight huey consumers (~1.4 GB PSS) for its GenAI jobs,
# which neither the registry nor its webhooks (delivered from a thread pool) use.
NO_JOB_RUNNER = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


class MlflowServer:
    """One ``mlflow server`` process (its uvicorn server); :meth:`stop` ends it."""

    def __init__(
        self,
        directory: Path,
        *,
        environment: Mapping[str, str] | None = None,
        certificate: tuple[Path, Path] | None = None,
        trusted_ca: Path | None = None,
    ) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        port = free_port()
        scheme = "https" if certificate else "http"
        self.url = f"{scheme}://127.0.0.1:{port}"
        self._context = ssl.create_default_context(cafile=str(trusted_ca)) if trusted_ca else None
        # Stopped, uvicorn waits for kept-alive connections to close; a second is enough for
        # a request in flight (each is committed to SQLite as it ends).
        uvicorn = f"--timeout-graceful-shutdown {GRACEFUL_SHUTDOWN_SECONDS}"
        if certificate:
            uvicorn += f" --ssl-certfile {certificate[0]} --ssl-keyfile {certificate[1]}"
        self._log_path = directory / "mlflow-server.log"
        self._log = self._log_path.open("wb")
        self._process = subprocess.Popen(
            [
                sys.executable, str(MLFLOW_EXEC),
                "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                "--backend-store-uri", f"sqlite:///{directory / 'mlflow.db'}",
                "--artifacts-destination", str(directory / "mlartifacts"),
                "--uvicorn-opts", uvicorn,
            ],
            cwd=directory,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **NO_JOB_RUNNER, **(environment or {})},
            start_new_session=True,  # its workers in its own process group, stopped with it
        )  # fmt: skip
        self._serving = False

    def wait_until_serving(self, timeout: float = START_TIMEOUT_SECONDS) -> str:
        """The server's URL once ``/health`` answers; raises with its log if it never does."""
        deadline = time.monotonic() + timeout
        while not self._serving:
            try:
                with urllib.request.urlopen(
                    f"{self.url}/health", timeout=2, context=self._context
                ) as answer:
                    self._serving = answer.status == 200
            except OSError:
                pass
            if self._serving:
                break
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the MLflow server did not start:\n{self.log_tail()}")
            time.sleep(0.25)
        return self.url

    def log_tail(self, characters: int = 3000) -> str:
        self._log.flush()
        return self._log_path.read_text(errors="replace")[-characters:]

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
        self._log.close()


def sandbox_tracking_server(
    directory: Path, authority: CertificateAuthority, function_url_port: int, clock: SandboxClock
) -> MlflowServer:
    """The sandbox's tracking server: HTTPS with the run's CA, webhooks to function URLs, the
    time of ``clock`` (see :mod:`sandbox.url_network`).

    Its webhook deliveries reach the function URLs' front door on 127.0.0.1, a private
    address, which MLflow refuses unless ``MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS`` (on AWS
    the function URL's address is public); the schemes stay MLflow's default, https.
    """
    directory.mkdir(parents=True, exist_ok=True)
    clock_file = directory / "clock-offset"
    clock_file.write_text(str(clock.offset.total_seconds()))
    clock.on_advance(lambda _: clock_file.write_text(str(clock.offset.total_seconds())))
    environment = {
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(URL_NETWORK), os.environ.get("PYTHONPATH", "")) if p
        ),
        "SANDBOX_FUNCTION_URL_FRONT": f"127.0.0.1:{function_url_port}",
        "SANDBOX_CA_BUNDLE": str(authority.certificate_path),
        "SANDBOX_CLOCK_FILE": str(clock_file),
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_WEBHOOK_CACHE_TTL": WEBHOOK_CACHE_SECONDS,
    }
    return MlflowServer(
        directory,
        environment=environment,
        certificate=authority.server_files(),
        trusted_ca=authority.certificate_path,
    )
