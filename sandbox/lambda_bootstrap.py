"""What runs inside a Lambda worker process: the runtime's bootstrap, standard library only.

:mod:`sandbox.lambda_runtime` starts this file's source with ``python -S -c``
in the function's unpacked code directory, so the process sees what a Lambda
execution environment sees: the function's code first on ``sys.path``, then
the runtime's libraries (this virtualenv's site-packages, without its ``.pth``
hooks, so nothing of this repository is importable unless the zip holds it).

The process is a *zygote* for one code package: it imports what the Lambda
runtime has loaded before a handler runs (the standard library the bootstrap
uses, and boto3, resolved from the code directory first, as on Lambda), then
forks one worker per execution environment on request. (Run with ``--worker
<spec>``, as a job of :mod:`sandbox.container_paths`'s zygote, it is one such
worker: a served model's.) Each worker takes its
function's environment, connects back to the runtime over a Unix socket (a
control channel, and a log channel that becomes its stdout and stderr), runs
the init phase (imports the handler module) and then serves invocations one at
a time until the runtime closes the channel or kills it.

Frames on the control channel: a 4-byte big-endian length, then JSON; an
invocation's payload and a result's body follow their JSON header as a second
frame.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import socket
import struct
import sys
import time
import traceback

LOG_END_MARK = "\x00END "  # written on the log channel once an invocation's output is flushed


def send_frame(channel, data):
    channel.sendall(struct.pack(">I", len(data)) + data)


def recv_exact(channel, size):
    chunks = []
    while size:
        chunk = channel.recv(min(size, 1 << 20))
        if not chunk:
            raise EOFError("the runtime closed the channel")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def recv_frame(channel):
    (size,) = struct.unpack(">I", recv_exact(channel, 4))
    return recv_exact(channel, size)


def send_message(channel, header, body=b""):
    send_frame(channel, json.dumps(header).encode())
    send_frame(channel, body)


def recv_message(channel):
    header = json.loads(recv_frame(channel))
    return header, recv_frame(channel)


class LambdaContext:
    """The context object of the Python runtime, with the invocation's real deadline."""

    def __init__(self, meta):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.invoked_function_arn = meta["invoked_function_arn"]
        self.aws_request_id = meta["request_id"]
        self.identity = None
        self.client_context = meta.get("client_context")
        self._deadline_ms = meta["deadline_ms"]

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record, as the runtime's log format shows it."""

    request_id = ""

    def filter(self, record):
        record.aws_request_id = RequestIdFilter.request_id
        return True


def configure_logging():
    """The Python runtime's root logger: one handler on stderr, level WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.formatter.converter = time.gmtime
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


def error_of(exc, error_type=None, message=None):
    """The runtime's error document: the handler's frames, not the bootstrap's."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<")
    ]
    return {
        "errorMessage": message if message is not None else str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": RequestIdFilter.request_id,
        "stackTrace": traceback.format_list(frames),
    }


def load_handler(name):
    """The handler function, or the runtime's error document for a failed init."""
    try:
        module_name, function_name = name.rsplit(".", 1)
    except ValueError as exc:
        return None, error_of(exc, "Runtime.MalformedHandlerName", f"Bad handler '{name}': {exc}")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        return None, error_of(
            exc, "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        )
    except SyntaxError as exc:
        return None, error_of(
            exc, "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        )
    except Exception as exc:
        return None, error_of(exc)
    function = getattr(module, function_name, None)
    if function is None:
        return None, {
            "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        }
    return function, None


def report_error(error):
    """What the runtime logs for an error: one line with the type and message, the trace."""
    trace = "".join(error.get("stackTrace") or [])
    tail = f"\nTraceback (most recent call last):\n{trace}" if trace else ""
    sys.stderr.write(f"[ERROR] {error['errorType']}: {error['errorMessage']}{tail}\n")


def serve(control, log, function):
    while True:
        try:
            meta, payload = recv_message(control)
        except EOFError:
            return
        RequestIdFilter.request_id = meta["request_id"]
        context = LambdaContext(meta)
        started = time.monotonic()
        header = {"request_id": meta["request_id"]}
        body = b""
        try:
            event = json.loads(payload) if payload else {}
            result = function(event, context)
            try:
                body = json.dumps(result).encode()
            except (TypeError, ValueError) as exc:
                error = error_of(exc, "Runtime.MarshalError", f"Unable to marshal response: {exc}")
                report_error(error)
                header["error"] = error
        except SystemExit as exc:
            flush_and_mark(log, meta["request_id"])
            header["exit"] = exc.code if isinstance(exc.code, int) else 1
            send_message(control, header)
            os._exit(header["exit"])
        except Exception as exc:
            error = error_of(exc)
            report_error(error)
            header["error"] = error
        header["duration_ms"] = (time.monotonic() - started) * 1000
        header["max_rss_kb"] = max_rss_kb()
        flush_and_mark(log, meta["request_id"])
        send_message(control, header, body)


def flush_and_mark(log, request_id):
    sys.stdout.flush()
    sys.stderr.flush()
    log.sendall(f"{LOG_END_MARK}{request_id}\n".encode())


def max_rss_kb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def install_clock(path):
    """Handlers see the sandbox's clock: ``datetime.now()`` (and ``utcnow()``) of every module
    imported from here on is the machine's time plus the offset the file holds (seconds),
    read on each call, so the sandbox can move the time of warm environments on too."""
    import datetime as datetime_module

    machine = datetime_module.datetime
    offset_of = datetime_module.timedelta

    def offset():
        try:
            with open(path) as handle:
                return offset_of(seconds=float(handle.read() or 0))
        except (OSError, ValueError):
            return offset_of(0)

    class SandboxDatetime(machine):
        @classmethod
        def now(cls, tz=None):
            return machine.now(tz) + offset()

        @classmethod
        def utcnow(cls):
            return machine.now(datetime_module.UTC).replace(tzinfo=None) + offset()

    datetime_module.datetime = SandboxDatetime


def connect(path, worker_id, channel_name):
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    channel.connect(path)
    hello = {"worker": worker_id, "channel": channel_name, "pid": os.getpid()}
    send_frame(channel, json.dumps(hello).encode())
    return channel


def run_worker(spec):
    """One execution environment: take the function's environment, init, serve."""
    with contextlib.suppress(OSError):  # a job zygote's child leads its session already
        os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the zygote's reaping is not the handler's
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.environ.clear()
    os.environ.update(spec["environment"])
    time.tzset()
    if spec.get("code_dir"):
        sys.path.insert(0, spec["code_dir"])
    control = connect(spec["socket"], spec["worker"], "control")
    log = connect(spec["socket"], spec["worker"], "log")
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
    configure_logging()
    if spec.get("clock_file"):
        install_clock(spec["clock_file"])
    started = time.monotonic()
    function, error = load_handler(spec["handler"])
    init = {"init_ms": (time.monotonic() - started) * 1000}
    if error is not None:
        report_error(error)
        flush_and_mark(log, "init")
        send_message(control, {**init, "init_error": error})
        os._exit(1)
    flush_and_mark(log, "init")
    send_message(control, {**init, "ready": True})
    serve(control, log, function)
    os._exit(0)


def zygote(code_dir, library_paths, preload):
    """Read spawn requests (JSON lines) on stdin; fork one worker for each."""
    sys.path[:] = [code_dir, *[p for p in sys.path if p], *library_paths]
    os.chdir(code_dir)
    for name in preload:
        # What fails here, the worker's own import reports, as Lambda would.
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped as they exit
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        spec = json.loads(line)
        if os.fork() == 0:
            try:
                run_worker(spec)
            finally:
                os._exit(1)


if __name__ == "__main__":
    if sys.argv[1] == "--worker":  # forked by another zygote, as one of its jobs
        run_worker(json.loads(sys.argv[2]))
    else:
        zygote(sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]))
