"""Execution environments: a pool of worker processes per function configuration.

An environment is made for one :class:`FunctionConfig` (code, handler,
variables, timeout, memory): a change to any of them gets new environments, and
the old ones are shut down when next seen idle, as are environments idle for
``idle_seconds`` (looked for every few seconds, as Lambda reclaims idle environments: an idle
worker holds its memory). At most the function's reserved concurrency (or, without one,
``max_concurrency``, the sandbox's limit for this machine) run at once.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.lambda_workers import (
    PRELOADED_MODULES,
    PoolFull,
    Worker,
    WorkerListener,
    WorkerPool,
    WorkerResult,
    Zygote,
)

INIT_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_CONCURRENCY = 8  # environments per function at once (the machine's limit, not AWS's)
DEFAULT_IDLE_SECONDS = 300.0  # an environment unused this long is shut down
SWEEP_SECONDS = 1.0  # how often idle environments are looked for


@dataclass(frozen=True)
class FunctionConfig:
    """What an execution environment is made for: a change of any of it needs a new one."""

    arn: str  # unqualified
    name: str
    region: str
    account_id: str
    version: str
    handler: str
    runtime: str
    timeout: float
    memory_mb: int
    code_sha256: str
    variables: tuple[tuple[str, str], ...]
    reserved_concurrency: int | None = field(compare=False, default=None)

    @classmethod
    def of(cls, function: Any) -> FunctionConfig:
        reserved = function.reserved_concurrency
        return cls(
            arn=function.function_arn.split(":function:")[0]
            + ":function:"
            + function.function_name,
            name=function.function_name,
            region=function.region,
            account_id=function.account_id,
            version=str(function.version),
            handler=function.handler or "",
            runtime=function.run_time or "",
            timeout=float(function.timeout),
            memory_mb=int(function.memory_size),
            code_sha256=function.code_sha_256,
            variables=tuple(sorted((function.environment_vars or {}).items())),
            reserved_concurrency=None if reserved in (None, "") else int(reserved),
        )

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"


class Throttled(Exception):
    """No environment may be added: the function is at its reserved concurrency."""


class Environments:
    """The execution environments of every function, and the zygotes they are forked from."""

    def __init__(
        self,
        root: Path,
        code_of: Callable[[FunctionConfig], bytes],
        environment_of: Callable[[FunctionConfig, Path, str], dict[str, str]],
        *,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        preload: tuple[str, ...] = PRELOADED_MODULES,
        clock_file: Path | None = None,
    ) -> None:
        self._root = root
        self._clock_file = clock_file
        self._preload = preload
        self._code_of = code_of
        self._environment_of = environment_of
        self.max_concurrency = max_concurrency
        self.idle_seconds = idle_seconds
        self._listener = WorkerListener(root)
        self._zygotes: dict[str, Zygote] = {}
        self._zygote_lock = threading.Lock()
        self._pool = WorkerPool()
        self._stopped = threading.Event()
        self._sweeper = threading.Thread(
            target=self._sweep, name="lambda-idle-sweeper", daemon=True
        )
        self._sweeper.start()

    def _sweep(self) -> None:
        """Shut down environments idle for ``idle_seconds`` even when nothing invokes."""
        while not self._stopped.wait(SWEEP_SECONDS):
            self._pool.retire(self._idle_too_long)

    def _idle_too_long(self, _: object, worker: Worker) -> bool:
        return time.monotonic() - worker.last_used > self.idle_seconds

    def acquire(self, config: FunctionConfig, wait: bool) -> tuple[Worker, WorkerResult | None]:
        """An idle environment of ``config``, or a new one (with its init result)."""
        now = time.monotonic()
        self._pool.retire(
            lambda key, worker: (
                (key != config and getattr(key, "arn", "") == config.arn)
                or now - worker.last_used > self.idle_seconds
            )
        )
        reserved = config.reserved_concurrency
        limit = reserved if reserved is not None else self.max_concurrency
        try:
            worker = self._pool.take(config, config.arn, limit, wait=wait and reserved is None)
        except PoolFull as exc:
            raise Throttled(config.arn) from exc
        if worker is not None:
            return worker, None
        try:
            return self._start(config)
        except BaseException:
            self._pool.give_back(config, config.arn, None)
            raise

    def release(self, config: FunctionConfig, worker: Worker) -> None:
        self._pool.give_back(config, config.arn, worker)

    def _start(self, config: FunctionConfig) -> tuple[Worker, WorkerResult]:
        zygote = self._zygote(config)
        worker_id = uuid.uuid4().hex
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[{config.version}]{worker_id}"
        zygote.spawn(
            {
                "worker": worker_id,
                "socket": self._listener.path,
                "handler": config.handler,
                "environment": self._environment_of(config, zygote.code_dir, stream),
                "clock_file": str(self._clock_file) if self._clock_file else "",
            }
        )
        control, log, pid = self._listener.wait(worker_id, INIT_TIMEOUT_SECONDS * 3)
        worker = Worker(worker_id, control, log, pid, log_stream=stream)
        init = worker.await_init(max(INIT_TIMEOUT_SECONDS, config.timeout))
        if init.timed_out or (init.exited is not None and not init.header):
            init.header["init_error"] = {
                "errorType": "Runtime.Unknown",
                "errorMessage": "Runtime exited during the init phase",
            }
        return worker, init

    def _zygote(self, config: FunctionConfig) -> Zygote:
        with self._zygote_lock:
            zygote = self._zygotes.get(config.code_sha256)
            if zygote is None:
                code_dir = self._root / "code" / _safe(config.code_sha256)
                code = self._code_of(config)
                code_dir.mkdir(parents=True)
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    archive.extractall(code_dir)
                zygote = Zygote.for_code(
                    code_dir, self._root / f"zygote-{_safe(config.code_sha256)}.log", self._preload
                )
                self._zygotes[config.code_sha256] = zygote
            return zygote

    def stop(self) -> None:
        self._stopped.set()
        self._pool.close()
        with self._zygote_lock:
            for zygote in self._zygotes.values():
                zygote.stop()
            self._zygotes.clear()
        self._listener.close()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)[:64]
