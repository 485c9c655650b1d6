"""Lambda execution environments as worker processes, forked from one zygote per code package.

A :class:`Zygote` is a Python process started in a function's unpacked code
directory with :mod:`sandbox.lambda_bootstrap`'s source; it has imported what
the Lambda runtime holds before a handler runs, so a new environment costs a
fork and the handler's own import (its init phase), not an interpreter start.
Each :class:`Worker` is one environment: it runs one invocation at a time, keeps
its module state between invocations (warm starts), and is killed when an
invocation outlives the function's timeout, as Lambda does.

Workers connect back to a :class:`WorkerListener` (a Unix socket in the
runtime's directory): a control channel for invocations and results, and a log
channel that is the worker's stdout and stderr.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import lambda_bootstrap
from sandbox.lambda_bootstrap import LOG_END_MARK, recv_frame, recv_message, send_message

logger = logging.getLogger(__name__)

BOOTSTRAP_SOURCE = Path(lambda_bootstrap.__file__).read_text()
# Loaded by the zygote before any handler: what the Lambda Python runtime has imported by then,
# and the SDK it provides (imported from the code directory first, as the runtime's path says).
PRELOADED_MODULES = (
    "json",
    "logging",
    "decimal",
    "uuid",
    "ssl",
    "http.client",
    "urllib.request",
    "email.parser",
    "concurrent.futures",
    "boto3",
    "botocore.session",
    "botocore.exceptions",
)
ZYGOTE_START_SECONDS = 120.0  # importing what it preloads, on a busy machine
LOG_FLUSH_SECONDS = 2.0


def runtime_library_paths() -> list[str]:
    """Where the runtime's own libraries live: this virtualenv's site-packages."""
    paths = sysconfig.get_paths()
    return list(dict.fromkeys([paths["purelib"], paths["platlib"]]))


class WorkerListener:
    """Accepts the workers' connections and hands each to the worker that waits for it."""

    def __init__(self, directory: Path) -> None:
        self.path = str(directory / "workers.sock")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        self._server.listen(64)
        self._arrived: dict[str, dict[str, Any]] = {}
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._accept, name="lambda-workers", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            try:
                hello = json.loads(recv_frame(connection))
            except (EOFError, OSError, ValueError):
                connection.close()
                continue
            with self._condition:
                slot = self._arrived.setdefault(hello["worker"], {})
                slot[hello["channel"]] = connection
                slot["pid"] = hello["pid"]
                self._condition.notify_all()

    def wait(self, worker_id: str, timeout: float) -> tuple[socket.socket, socket.socket, int]:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                slot = self._arrived.get(worker_id, {})
                if "control" in slot and "log" in slot:
                    del self._arrived[worker_id]
                    return slot["control"], slot["log"], int(slot["pid"])
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"worker {worker_id} did not connect in {timeout:.0f} s")
                self._condition.wait(left)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


class Zygote:
    """A process that forks workers on request: one JSON line on its stdin per worker.

    It prints ``ready`` once it has loaded what it preloads; every later line it
    prints goes to ``on_message`` (a job zygote reports its jobs' ends that way).
    """

    def __init__(
        self,
        command: list[str],
        cwd: Path,
        stderr_path: Path,
        *,
        environment: Mapping[str, str] | None = None,
        on_message: Callable[[str], None] | None = None,
    ) -> None:
        self.code_dir = cwd
        self._stderr = stderr_path.open("ab")
        self._on_message = on_message
        self._process = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(environment or {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._lock = threading.Lock()
        self._ready = threading.Event()
        threading.Thread(target=self._read, name="zygote", daemon=True).start()

    @classmethod
    def for_code(
        cls, code_dir: Path, stderr_path: Path, preload: tuple[str, ...] = PRELOADED_MODULES
    ) -> Zygote:
        """The zygote of a Lambda code package (or any code run the way Lambda runs it)."""
        return cls(
            [
                sys.executable,
                "-S",
                "-c",
                BOOTSTRAP_SOURCE,
                str(code_dir),
                json.dumps(runtime_library_paths()),
                json.dumps(preload),
            ],
            code_dir,
            stderr_path,
            environment={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"},
        )

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            if not self._ready.is_set():
                if line.strip() == "ready":
                    self._ready.set()
                continue
            if self._on_message is not None:
                self._on_message(line.rstrip("\n"))

    def wait_until_ready(self, timeout: float = ZYGOTE_START_SECONDS) -> bool:
        """Whether it has loaded what it preloads (waiting up to ``timeout``)."""
        return self._ready.wait(timeout)

    def spawn(self, spec: dict[str, Any]) -> None:
        if not self._ready.wait(ZYGOTE_START_SECONDS):
            raise RuntimeError(f"the zygote in {self.code_dir} did not start")
        assert self._process.stdin is not None
        with self._lock:
            self._process.stdin.write(json.dumps(spec) + "\n")
            self._process.stdin.flush()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            if self._process.stdin is not None:
                self._process.stdin.close()
        self._process.kill()
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.close()


@dataclass
class WorkerResult:
    """What one invocation gave: the result's header and body, and the lines it logged."""

    header: dict[str, Any]
    body: bytes
    lines: list[str]
    timed_out: bool = False
    exited: int | None = None  # exit status when the runtime exited (None: it did not)

    @property
    def error(self) -> dict[str, Any] | None:
        error = self.header.get("error")
        return error if isinstance(error, dict) else None


@dataclass
class Worker:
    """One execution environment of one function configuration."""

    worker_id: str
    control: socket.socket
    log: socket.socket
    pid: int
    log_stream: str = ""
    invocations: int = 0
    last_used: float = field(default_factory=time.monotonic)
    alive: bool = True

    def __post_init__(self) -> None:
        self._lines: list[str] = []
        self._marks: set[str] = set()
        self._log_condition = threading.Condition()
        threading.Thread(target=self._read_log, name="lambda-log", daemon=True).start()

    def _read_log(self) -> None:
        buffered = b""
        while True:
            try:
                chunk = self.log.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self._log_condition:
                    self._marks.add("*eof*")
                    self._log_condition.notify_all()
                return
            buffered += chunk
            *complete, buffered = buffered.split(b"\n")
            for raw in complete:
                line = raw.decode("utf-8", errors="replace")
                with self._log_condition:
                    if line.startswith(LOG_END_MARK):
                        self._marks.add(line[len(LOG_END_MARK) :])
                        self._log_condition.notify_all()
                        continue
                    self._lines.append(line)

    def take_lines(self, mark: str) -> list[str]:
        """The lines logged up to ``mark`` (the end of an invocation or of the init phase)."""
        deadline = time.monotonic() + LOG_FLUSH_SECONDS
        with self._log_condition:
            while mark not in self._marks and "*eof*" not in self._marks:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._log_condition.wait(left)
            self._marks.discard(mark)
            lines, self._lines = self._lines, []
            return lines

    def await_init(self, timeout: float) -> WorkerResult:
        return self._receive("init", timeout)

    def invoke(self, meta: dict[str, Any], payload: bytes, timeout: float) -> WorkerResult:
        self.invocations += 1
        try:
            send_message(self.control, meta, payload)
        except OSError:
            self.kill()
            return WorkerResult({}, b"", self.take_lines(meta["request_id"]), exited=-1)
        result = self._receive(meta["request_id"], timeout)
        self.last_used = time.monotonic()
        return result

    def _receive(self, mark: str, timeout: float) -> WorkerResult:
        self.control.settimeout(max(timeout, 0.001))
        try:
            header, body = recv_message(self.control)
        except TimeoutError:
            self.kill()
            return WorkerResult({}, b"", self.take_lines(mark), timed_out=True)
        except (EOFError, OSError, ValueError):
            self.kill()
            return WorkerResult({}, b"", self.take_lines(mark), exited=-1)
        finally:
            with contextlib.suppress(OSError):
                self.control.settimeout(None)
        lines = self.take_lines(mark)
        if "exit" in header:
            self.kill()
            return WorkerResult(header, body, lines, exited=int(header["exit"]))
        return WorkerResult(header, body, lines)

    def kill(self) -> None:
        """End the environment (and whatever its handler started)."""
        self.alive = False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        for channel in (self.control, self.log):
            with contextlib.suppress(OSError):
                channel.close()


class PoolFull(Exception):
    """No worker may be added to the group, and the caller does not wait."""


class WorkerPool:
    """Idle workers per key (what they were made for), and how many are busy per group.

    :meth:`take` gives an idle worker of the key, or None when the caller may start one
    (counted busy already; :meth:`give_back` it, or None if it could not be started).
    """

    def __init__(self) -> None:
        self._idle: dict[Hashable, list[Worker]] = {}
        self._busy: dict[Hashable, int] = {}
        self._condition = threading.Condition()

    def take(self, key: Hashable, group: Hashable, limit: int, *, wait: bool) -> Worker | None:
        with self._condition:
            while True:
                idle = self._idle.get(key, [])
                while idle:
                    worker = idle.pop()
                    if worker.alive:
                        self._busy[group] = self._busy.get(group, 0) + 1
                        return worker
                if self._busy.get(group, 0) < limit:
                    self._busy[group] = self._busy.get(group, 0) + 1
                    return None
                if not wait:
                    raise PoolFull(group)
                self._condition.wait()

    def give_back(self, key: Hashable, group: Hashable, worker: Worker | None) -> None:
        with self._condition:
            self._busy[group] -= 1
            if worker is not None and worker.alive:
                self._idle.setdefault(key, []).append(worker)
            self._condition.notify_all()

    def idle_pids(self, of: Callable[[Hashable], bool]) -> list[int]:
        """The processes of the idle workers whose key ``of`` names."""
        with self._condition:
            return [w.pid for key, idle in self._idle.items() if of(key) for w in idle]

    def retire(self, stale: Callable[[Hashable, Worker], bool]) -> None:
        """End the idle workers ``stale`` names (of an older configuration, unused too long)."""
        with self._condition:
            for key, idle in list(self._idle.items()):
                for worker in list(idle):
                    if stale(key, worker):
                        idle.remove(worker)
                        worker.kill()

    def close(self) -> None:
        with self._condition:
            workers = [worker for idle in self._idle.values() for worker in idle]
            self._idle.clear()
        for worker in workers:
            worker.kill()
