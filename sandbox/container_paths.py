"""Run a job's Python script as SageMaker's container would, with ``/opt/ml`` in a directory of
its own.

    python sandbox/container_paths.py <root> <script> [arguments...]
    python sandbox/container_paths.py --zygote '<modules to preload, JSON>'

SageMaker jobs read and write under ``/opt/ml`` (``/opt/ml/processing/...``,
``/opt/ml/input/data/<channel>``, ``/opt/ml/model``). This launcher maps that
tree onto ``<root>/opt/ml`` for the script's file access at the Python level
(``open``, ``os`` and therefore ``pathlib``, ``shutil``, ``tarfile``, pandas,
joblib), then runs the script as ``python <script>`` would (``__main__``, its
directory first on ``sys.path``). The script sees the container's paths,
``sys.argv`` and ``__file__`` included; a path it hands to a C library or a
child process is not mapped (a gap of the stand-in: no container runs here).

The mapping is installed before anything imports a module that keeps a
reference to ``open`` (``tarfile`` does), so this file imports only the
standard library. As a zygote it preloads what the container's image holds
(pandas, scikit-learn, ...) with the mapping installed but idle, then forks one
job per JSON line on stdin (``job``, ``root``, ``script``, ``arguments``,
``environment``, ``cwd``, ``log``), printing ``{"job", "pid"}`` when it starts
and ``{"job", "status"}`` when it ends.
"""

from __future__ import annotations

import builtins
import contextlib
import importlib
import io
import json
import os
import select
import sys
import traceback
import types

CONTAINER_ROOT = "/opt/ml"
_root: str | None = None  # where /opt/ml is while a job runs; None: nothing is mapped

# os functions whose first argument (or first two) is a path: mapped before they are called.
ONE_PATH = (
    "stat", "lstat", "listdir", "scandir", "mkdir", "rmdir", "remove", "unlink", "chmod",
    "chown", "utime", "access", "open", "readlink", "truncate", "chdir", "statvfs",
    "lchown", "chflags", "lchmod", "mkfifo", "getxattr", "setxattr", "listxattr",
)  # fmt: skip
TWO_PATHS = ("rename", "replace", "link", "symlink")


def mapped(path):  # -> the path on this machine
    if _root is None or isinstance(path, int):
        return path  # no job, or a file descriptor
    raw = os.fspath(path)
    prefix = _root.rstrip("/") + CONTAINER_ROOT
    if isinstance(raw, bytes):
        if raw == b"/opt/ml" or raw.startswith(b"/opt/ml/"):
            return prefix.encode() + raw[len(CONTAINER_ROOT) :]
        return raw
    if raw == CONTAINER_ROOT or raw.startswith(CONTAINER_ROOT + "/"):
        return prefix + raw[len(CONTAINER_ROOT) :]
    return path


def install() -> None:
    """Route this process's file access through :func:`mapped`."""
    if getattr(builtins.open, "__mapped__", False):
        return

    def wrap_one(function):
        def call(path, *args, **kwargs):
            return function(mapped(path), *args, **kwargs)

        call.__name__ = getattr(function, "__name__", "call")
        return call

    def wrap_two(function):
        def call(source, destination, *args, **kwargs):
            return function(mapped(source), mapped(destination), *args, **kwargs)

        call.__name__ = getattr(function, "__name__", "call")
        return call

    original_open = builtins.open

    def open_mapped(file, *args, **kwargs):
        return original_open(mapped(file), *args, **kwargs)

    open_mapped.__mapped__ = True  # type: ignore[attr-defined]
    builtins.open = open_mapped
    io.open = open_mapped
    for name in ONE_PATH:
        if hasattr(os, name):
            setattr(os, name, wrap_one(getattr(os, name)))
    for name in TWO_PATHS:
        if hasattr(os, name):
            setattr(os, name, wrap_two(getattr(os, name)))
    original_getcwd = os.getcwd

    def getcwd():
        here = original_getcwd()
        if _root is None:
            return here
        prefix = _root.rstrip("/") + CONTAINER_ROOT
        if here == prefix or here.startswith(prefix + "/"):
            return CONTAINER_ROOT + here[len(prefix) :]
        return here

    os.getcwd = getcwd


def run_script(root: str, script: str, arguments: list[str]) -> None:
    """Run ``script`` (a container path) as ``__main__`` with ``/opt/ml`` at ``root``."""
    global _root
    _root = root
    real_script = mapped(script)
    sys.argv = [script, *arguments]
    sys.path[0] = os.path.dirname(real_script)
    module = types.ModuleType("__main__")
    module.__file__ = script  # the container's path, as the script would see it there
    sys.modules["__main__"] = module
    with open(real_script, "rb") as source:
        code = compile(source.read(), script, "exec")
    exec(code, module.__dict__)


def _job(spec: dict) -> int:
    """In the forked child: the job's output, environment and directory, then its script."""
    os.setsid()
    log = os.open(spec["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    os.environ.clear()
    os.environ.update(spec["environment"])
    os.chdir(spec["cwd"])
    try:
        run_script(spec["root"], spec["script"], spec["arguments"])
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def zygote(preload: list[str]) -> None:
    install()
    for name in preload:  # what fails here, the job's own import reports
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    _say({"ready": True}, raw="ready")
    running: dict[int, str] = {}
    buffered = b""
    while True:
        readable, _, _ = select.select([0], [], [], 0.2)
        if readable:
            chunk = os.read(0, 65536)
            if not chunk:
                return
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in lines:
                spec = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    status = 1
                    try:
                        status = _job(spec)
                    finally:
                        sys.stdout.flush()
                        sys.stderr.flush()
                        os._exit(status)
                running[pid] = spec["job"]
                _say({"job": spec["job"], "pid": pid})
        while running:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            _say({"job": running.pop(pid), "status": os.waitstatus_to_exitcode(status)})


def _say(message: dict, raw: str = "") -> None:
    sys.stdout.write((raw or json.dumps(message)) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> None:
    if argv[:1] == ["--zygote"]:
        zygote(json.loads(argv[1]))
        return
    root, script, *arguments = argv
    install()
    run_script(root, script, arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
