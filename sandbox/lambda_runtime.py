"""The Lambda runtime: functions moto stores run for real, from their deployed code.

moto keeps each function's configuration and code (CreateFunction from a zip
or from S3) but would run it in docker, which is not here. :class:`LambdaRuntime`
answers ``lambda.Invoke`` on the emulator instead:

- the handler runs from the function's own zip (unpacked once per code hash),
  never from this repository's source, in a worker process per execution
  environment (see :mod:`sandbox.lambda_workers`); environments are reused
  (warm starts) and one is added when all are busy, up to the function's
  reserved concurrency (then ``TooManyRequestsException``, as Lambda answers)
  or the sandbox's ``max_concurrency`` (then the call waits);
- the worker's environment is the function's variables, Lambda's reserved
  variables, and what reaches the emulator (``Emulator.environment``, plus
  ``environment`` given here, e.g. ``SSL_CERT_FILE`` for the local CA);
- the context carries the function's deadline; past its timeout the
  environment is killed and the invocation answers ``Sandbox.Timedout``;
- ``RequestResponse`` answers the result (``FunctionError: Unhandled`` and the
  runtime's error document on an error, ``LogResult`` with ``LogType: Tail``);
  ``Event`` queues the event (202) for :mod:`sandbox.lambda_async`'s retries
  and destinations; ``DryRun`` answers 204;
- every invocation's log (START, what the handler wrote, END, REPORT) is kept
  per function (:meth:`LambdaRuntime.logs`) and written to CloudWatch Logs
  (``/aws/lambda/<name>``).

Support code (custom resources, event delivery) invokes in-process through
:meth:`LambdaRuntime.invoke`; product code reaches the same path through the API.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moto.awslambda.exceptions import UnknownFunctionException

from sandbox.emulator import AwsError, Call, Emulator
from sandbox.lambda_async import (
    AWS_RETRY_DELAYS,
    AsyncInvoker,
    AsyncSettings,
    Destinations,
    QueuedEvent,
)
from sandbox.lambda_environments import (
    DEFAULT_IDLE_SECONDS,
    DEFAULT_MAX_CONCURRENCY,
    Environments,
    FunctionConfig,
    Throttled,
)
from sandbox.lambda_workers import Worker, WorkerResult

if TYPE_CHECKING:
    from sandbox.event_delivery import SandboxClock

logger = logging.getLogger(__name__)

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
LOG_TAIL_BYTES = 4096


@dataclass
class Invocation:
    """One run of a function, as the sandbox reports it."""

    request_id: str
    function_arn: str
    invocation_type: str
    payload: bytes
    response: bytes = b""
    function_error: str | None = None
    lines: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    cold: bool = False
    attempt: int = 1
    log_stream: str = ""
    finished: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def error(self) -> dict[str, Any] | None:
        if not self.function_error:
            return None
        try:
            document = json.loads(self.response)
        except ValueError:
            return {"errorMessage": self.response.decode(errors="replace")}
        return document if isinstance(document, dict) else {"errorMessage": str(document)}


class LambdaRuntime:
    """Runs the emulator's Lambda functions; registers itself on ``emulator``."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        environment: Mapping[str, str] | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        retry_delays: tuple[float, ...] = AWS_RETRY_DELAYS,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        clock: SandboxClock | None = None,
    ) -> None:
        self._emulator = emulator
        self._environment = dict(environment or {})
        self._root = Path(tempfile.mkdtemp(prefix="lambda-"))
        clock_file = None
        if clock is not None:  # handlers read the sandbox's time (see install_clock)
            clock_file = self._root / "clock-offset"
            clock_file.write_text("0")
            clock.on_advance(lambda _: clock_file.write_text(str(clock.offset.total_seconds())))
        self.environments = Environments(
            self._root,
            self._code_of,
            self._worker_environment,
            max_concurrency=max_concurrency,
            idle_seconds=idle_seconds,
            clock_file=clock_file,
        )
        self._lock = threading.Lock()
        self._logs: dict[str, list[str]] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._dead_letters: dict[tuple[str, str, str], str] = {}
        self._streams: set[tuple[str, str, str]] = set()
        self.invocations: list[Invocation] = []
        self._stopped = False
        self._async = AsyncInvoker(
            self._run_attempt,
            self._config_of_event,
            self._async_settings,
            Destinations(self._client, self._invoke_destination),
            retry_delays,
        )
        self._register(emulator)
        emulator.on_stop(self.stop)

    # -- registration -----------------------------------------------------------------------

    def _register(self, emulator: Emulator) -> None:
        emulator.answer(
            "lambda",
            "Invoke",
            "moto runs functions in docker (no daemon here): the handler runs from the "
            "function's zip in a worker process per execution environment",
        )(self._answer_invoke)
        for operation in ("CreateFunction", "UpdateFunctionConfiguration"):
            emulator.before(
                "lambda",
                operation,
                "moto drops DeadLetterConfig: kept here for the asynchronous queue",
            )(self._remember_dead_letter)

    def _remember_dead_letter(self, call: Call) -> None:
        target = (call.params.get("DeadLetterConfig") or {}).get("TargetArn")
        if target is not None:
            key = (call.account_id, call.region, call.params["FunctionName"].split(":")[-1])
            self._dead_letters[key] = target

    # -- the API ----------------------------------------------------------------------------

    def _answer_invoke(self, call: Call) -> dict[str, Any]:
        params = call.params
        payload = params.get("Payload") or b""
        if isinstance(payload, str):
            payload = payload.encode()
        return self.invoke(
            params["FunctionName"],
            payload,
            invocation_type=params.get("InvocationType") or "RequestResponse",
            region=call.region,
            account_id=call.account_id,
            qualifier=params.get("Qualifier"),
            log_type=params.get("LogType") or "None",
            client_context=params.get("ClientContext"),
        )

    def invoke(
        self,
        function: str,
        payload: bytes,
        *,
        invocation_type: str = "RequestResponse",
        region: str | None = None,
        account_id: str | None = None,
        qualifier: str | None = None,
        log_type: str = "None",
        client_context: str | None = None,
    ) -> dict[str, Any]:
        """Invoke as the API does; answers the Invoke output, raises :class:`AwsError`."""
        config = self.function_config(function, region, account_id, qualifier)
        limit = ASYNC_PAYLOAD_LIMIT if invocation_type == "Event" else SYNC_PAYLOAD_LIMIT
        if len(payload) > limit:
            raise AwsError(
                "RequestTooLargeException",
                f"Request must be smaller than {limit} bytes for the Invoke operation",
                status=413,
            )
        if payload:
            try:
                json.loads(payload)
            except ValueError as exc:
                raise AwsError(
                    "InvalidRequestContentException",
                    f"Could not parse request body into json: {exc}",
                    status=400,
                ) from exc
        if invocation_type == "DryRun":
            return {"StatusCode": 204, "Payload": b""}
        if invocation_type == "Event":
            self._async.enqueue(config, payload, str(uuid.uuid4()))
            return {"StatusCode": 202, "Payload": b""}
        if invocation_type != "RequestResponse":
            raise AwsError(
                "InvalidParameterValueException",
                f"InvocationType {invocation_type!r} is not RequestResponse, Event or DryRun",
            )
        try:
            invocation = self._run(
                config, payload, str(uuid.uuid4()), "RequestResponse", client_context, wait=True
            )
        except Throttled as exc:
            raise AwsError("TooManyRequestsException", "Rate Exceeded.", status=429) from exc
        answer: dict[str, Any] = {
            "StatusCode": 200,
            "ExecutedVersion": config.version,
            "Payload": invocation.response,
        }
        if invocation.function_error:
            answer["FunctionError"] = invocation.function_error
        if log_type == "Tail":
            text = "\n".join(invocation.lines).encode()[-LOG_TAIL_BYTES:]
            answer["LogResult"] = base64.b64encode(text).decode()
        return answer

    def function_config(
        self,
        function: str,
        region: str | None = None,
        account_id: str | None = None,
        qualifier: str | None = None,
    ) -> FunctionConfig:
        region = region or _arn_part(function, 3) or self._emulator.region
        account_id = account_id or _arn_part(function, 4) or self._emulator.account_id
        backend = self._emulator.backend("lambda", region, account_id)
        try:
            found = backend.get_function(function, qualifier)
        except UnknownFunctionException as exc:
            raise AwsError("ResourceNotFoundException", exc.message, status=404) from exc
        return FunctionConfig.of(found)

    # -- what the sandbox reads ----------------------------------------------------------

    def logs(self, function: str) -> list[str]:
        """Every line the function's invocations logged so far (name or ARN)."""
        with self._lock:
            for arn, lines in self._logs.items():
                if function in (arn, arn.rsplit(":", 1)[-1]):
                    return list(lines)
        return []

    def wait_for_async(self, timeout: float = 60.0) -> bool:
        """Wait until every queued event ran (with its retries); False if some still wait."""
        return self._async.queue.wait_until_idle(timeout)

    def stop(self) -> None:
        self._stopped = True
        self._async.queue.stop()
        self.environments.stop()
        shutil.rmtree(self._root, ignore_errors=True)

    # -- one invocation -------------------------------------------------------------------

    def _run(
        self,
        config: FunctionConfig,
        payload: bytes,
        request_id: str,
        invocation_type: str,
        client_context: str | None,
        *,
        wait: bool,
        attempt: int = 1,
    ) -> Invocation:
        worker, init = self.environments.acquire(config, wait)
        invocation = Invocation(request_id, config.arn, invocation_type, payload, attempt=attempt)
        invocation.cold = init is not None
        invocation.log_stream = worker.log_stream
        lines = [f"START RequestId: {request_id} Version: {config.version}"]
        started = time.monotonic()
        if init is not None:  # a cold start: the init phase's output comes first
            lines[:0] = init.lines
        try:
            if init is not None and init.header.get("init_error"):
                result = WorkerResult({"error": init.header["init_error"]}, b"", [])
            else:
                result = self._call(worker, config, payload, request_id, client_context)
        finally:
            self.environments.release(config, worker)
        invocation.duration_ms = (time.monotonic() - started) * 1000
        lines += result.lines
        self._settle(invocation, config, result, lines)
        if init is not None:
            lines[-1] += f"\tInit Duration: {float(init.header.get('init_ms', 0.0)):.2f} ms"
        self._keep(config, invocation)
        return invocation

    def _call(
        self,
        worker: Worker,
        config: FunctionConfig,
        payload: bytes,
        request_id: str,
        client_context: str | None,
    ) -> WorkerResult:
        deadline = time.time() + config.timeout
        meta: dict[str, Any] = {
            "request_id": request_id,
            "deadline_ms": deadline * 1000,
            "invoked_function_arn": config.arn,
        }
        if client_context:
            with contextlib.suppress(ValueError, binascii.Error):
                meta["client_context"] = json.loads(base64.b64decode(client_context))
        return worker.invoke(meta, payload, config.timeout)

    def _settle(
        self, invocation: Invocation, config: FunctionConfig, result: WorkerResult, lines: list[str]
    ) -> None:
        """The response and log lines of an invocation, as Lambda gives them."""
        request_id = invocation.request_id
        if result.timed_out:
            lines.append(
                f"{_now_text()} {request_id} Task timed out after {config.timeout:.2f} seconds"
            )
            error: dict[str, Any] | None = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                f"{config.timeout:.2f} seconds",
            }
        elif result.exited is not None:
            reason = (
                f"Runtime exited with error: exit status {result.exited}"
                if result.exited >= 0
                else "Runtime exited without providing a reason"
            )
            error = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: {reason}",
            }
        else:
            error = result.error
        if error is not None:
            invocation.function_error = "Unhandled"
            invocation.response = json.dumps(error).encode()
        else:
            invocation.response = result.body or b"null"
        memory_mb = int(result.header.get("max_rss_kb", 0)) // 1024
        lines.append(f"END RequestId: {request_id}")
        lines.append(
            f"REPORT RequestId: {request_id}\tDuration: {invocation.duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, round(invocation.duration_ms))} ms\t"
            f"Memory Size: {config.memory_mb} MB\tMax Memory Used: {memory_mb} MB"
        )
        invocation.lines = lines

    def _keep(self, config: FunctionConfig, invocation: Invocation) -> None:
        with self._lock:
            self._logs.setdefault(config.arn, []).extend(invocation.lines)
            self.invocations.append(invocation)
        if self._stopped:  # an invocation that ran on while the emulator stopped
            return
        try:
            self._write_log_events(config, invocation)
        except Exception:
            logger.exception("could not write the log of %s to CloudWatch Logs", config.name)

    def _write_log_events(self, config: FunctionConfig, invocation: Invocation) -> None:
        """The invocation's lines into the environment's stream of ``/aws/lambda/<name>``."""
        logs = self._client("logs", config.region)
        key = (config.region, config.log_group, invocation.log_stream)
        if key not in self._streams:
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=config.log_group)
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_stream(
                    logGroupName=config.log_group, logStreamName=invocation.log_stream
                )
            self._streams.add(key)
        stamp = int(invocation.finished.timestamp() * 1000)
        events = [{"timestamp": stamp, "message": line} for line in invocation.lines if line]
        logs.put_log_events(
            logGroupName=config.log_group, logStreamName=invocation.log_stream, logEvents=events
        )

    # -- what environments are made of ----------------------------------------------------

    def _code_of(self, config: FunctionConfig) -> bytes:
        backend = self._emulator.backend("lambda", config.region, config.account_id)
        return bytes(backend.get_function(config.arn).code_bytes)

    def _worker_environment(
        self, config: FunctionConfig, code_dir: Path, stream: str
    ) -> dict[str, str]:
        reserved = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "LAMBDA_RUNTIME_DIR": str(self._root),
            "_HANDLER": config.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": config.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        }
        return {
            **reserved,
            **dict(config.variables),
            **self._emulator.environment(config.region),
            **self._environment,
        }

    # -- the asynchronous queue ------------------------------------------------------------

    def _run_attempt(self, config: FunctionConfig, event: QueuedEvent) -> Invocation:
        return self._run(
            config,
            event.payload,
            event.request_id,
            "Event",
            None,
            wait=False,
            attempt=event.attempts + 1,
        )

    def _config_of_event(self, event: QueuedEvent) -> FunctionConfig | None:
        try:
            return self.function_config(event.function_arn, event.region, event.account_id)
        except AwsError:
            return None

    def _async_settings(self, config: FunctionConfig) -> AsyncSettings:
        backend = self._emulator.backend("lambda", config.region, config.account_id)
        function = backend.get_function(config.arn)
        configs = function.event_invoke_config  # moto appends each Put; the last one holds
        dead_letter = self._dead_letters.get((config.account_id, config.region, config.name), "")
        return AsyncSettings.of(configs[-1].config if configs else {}, dead_letter)

    def _invoke_destination(self, function_arn: str, payload: bytes, region: str) -> None:
        self.invoke(function_arn, payload, invocation_type="Event", region=region)

    def _client(self, service: str, region: str) -> Any:
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                client = self._emulator.client(service, region)
                self._clients[(service, region)] = client
            return client


def _arn_part(function: str, index: int) -> str:
    parts = function.split(":")
    return parts[index] if function.startswith("arn:") and len(parts) > index else ""


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
