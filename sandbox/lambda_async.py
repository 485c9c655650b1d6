"""Lambda's asynchronous invocations: the event queue, retries, destinations and dead-letter queues.

As Lambda documents it ("How Lambda handles errors and retries with
asynchronous invocation", "Capturing records of Lambda asynchronous
invocations"):

- an event that fails (an error of the function or of its runtime, such as a
  timeout) is retried ``MaximumRetryAttempts`` times (default 2), after one
  minute and then two (``retry_delays``, shorter in the sandbox);
- a throttled event goes back to the queue, retried after 1 s, then twice as
  long each time up to 5 min, for as long as its age allows;
- an event older than ``MaximumEventAgeInSeconds`` (default 6 h) is not run again;
- when its attempts are spent or it expired, the invocation record goes to the
  ``OnFailure`` destination, or else the event itself to the function's
  dead-letter queue; after a success the record goes to ``OnSuccess``;
- with reserved concurrency 0, events go to the on-failure destination or the
  dead-letter queue at once, without retries.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sandbox.lambda_environments import FunctionConfig, Throttled

logger = logging.getLogger(__name__)

DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 2
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 6 * 60 * 60
AWS_RETRY_DELAYS = (60.0, 120.0)
THROTTLE_FIRST_DELAY = 1.0
THROTTLE_MAX_DELAY = 300.0
DEAD_LETTER_MESSAGE_BYTES = 1024  # ErrorMessage attribute: the first 1 KB of the error


@dataclass(order=True)
class QueuedEvent:
    """One asynchronous invocation waiting in (or taken from) a function's event queue."""

    due: float
    sequence: int
    function_arn: str = field(compare=False)  # unqualified, or with the invoked qualifier
    region: str = field(compare=False)
    account_id: str = field(compare=False)
    payload: bytes = field(compare=False)
    request_id: str = field(compare=False)
    enqueued: float = field(compare=False, default_factory=time.monotonic)
    attempts: int = field(compare=False, default=0)
    throttled: int = field(compare=False, default=0)

    @property
    def age(self) -> float:
        return time.monotonic() - self.enqueued


@dataclass(frozen=True)
class AsyncSettings:
    """A function's EventInvokeConfig (Lambda's defaults where it has none) and its DLQ."""

    maximum_retry_attempts: int = DEFAULT_MAXIMUM_RETRY_ATTEMPTS
    maximum_event_age_seconds: float = DEFAULT_MAXIMUM_EVENT_AGE_SECONDS
    on_success: str = ""
    on_failure: str = ""
    dead_letter_target: str = ""

    @classmethod
    def of(cls, event_invoke_config: dict[str, Any], dead_letter_target: str) -> AsyncSettings:
        destinations = event_invoke_config.get("DestinationConfig") or {}
        return cls(
            maximum_retry_attempts=int(
                event_invoke_config.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS)
            ),
            maximum_event_age_seconds=float(
                event_invoke_config.get(
                    "MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE_SECONDS
                )
            ),
            on_success=(destinations.get("OnSuccess") or {}).get("Destination", ""),
            on_failure=(destinations.get("OnFailure") or {}).get("Destination", ""),
            dead_letter_target=dead_letter_target,
        )


class AsyncQueue:
    """Events due now run on a pool of threads; others wait in a heap ordered by due time."""

    def __init__(self, run: Callable[[QueuedEvent], None], threads: int = 8) -> None:
        self._run = run
        self._heap: list[QueuedEvent] = []
        self._sequence = itertools.count()
        self._in_flight = 0
        self._stopped = False
        self._condition = threading.Condition()
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="lambda-async")
        self._thread = threading.Thread(target=self._dispatch, name="lambda-queue", daemon=True)
        self._thread.start()

    def put(self, event: QueuedEvent, delay: float = 0.0) -> None:
        with self._condition:
            event.due = time.monotonic() + delay
            event.sequence = next(self._sequence)
            heapq.heappush(self._heap, event)
            self._condition.notify_all()

    def new_sequence(self) -> int:
        return next(self._sequence)

    def _dispatch(self) -> None:
        while True:
            with self._condition:
                while not self._stopped and (
                    not self._heap or self._heap[0].due > time.monotonic()
                ):
                    timeout = self._heap[0].due - time.monotonic() if self._heap else None
                    self._condition.wait(timeout)
                if self._stopped:
                    return
                event = heapq.heappop(self._heap)
                self._in_flight += 1
            self._executor.submit(self._run_one, event)

    def _run_one(self, event: QueuedEvent) -> None:
        try:
            self._run(event)
        except Exception:
            logger.exception("asynchronous invocation %s failed in the runtime", event.request_id)
        finally:
            with self._condition:
                self._in_flight -= 1
                self._condition.notify_all()

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until no event is queued or running; False if some still are at ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._heap or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(min(left, 0.1))
            return True

    def pending(self) -> int:
        with self._condition:
            return len(self._heap) + self._in_flight

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._heap.clear()
            self._condition.notify_all()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._thread.join(timeout=5)


class Outcome(Protocol):
    """What the runtime reports of one invocation."""

    function_error: str | None
    response: bytes


class AsyncInvoker:
    """Runs each queued event of a function with Lambda's retries, then its destinations.

    ``run(config, event)`` runs one attempt (raising :class:`Throttled` when no
    environment may be added); ``config_of(event)`` is the function's current
    configuration (None once deleted); ``settings_of(config)`` its asynchronous
    settings.
    """

    def __init__(
        self,
        run: Callable[[FunctionConfig, QueuedEvent], Outcome],
        config_of: Callable[[QueuedEvent], FunctionConfig | None],
        settings_of: Callable[[FunctionConfig], AsyncSettings],
        destinations: Destinations,
        retry_delays: tuple[float, ...] = AWS_RETRY_DELAYS,
    ) -> None:
        self._run = run
        self._config_of = config_of
        self._settings_of = settings_of
        self._destinations = destinations
        self.retry_delays = retry_delays
        self.queue = AsyncQueue(self._run_queued)

    def enqueue(self, config: FunctionConfig, payload: bytes, request_id: str) -> None:
        self.queue.put(
            QueuedEvent(
                due=0.0,
                sequence=self.queue.new_sequence(),
                function_arn=config.arn,
                region=config.region,
                account_id=config.account_id,
                payload=payload,
                request_id=request_id,
            )
        )

    def _run_queued(self, event: QueuedEvent) -> None:
        config = self._config_of(event)
        if config is None:
            logger.warning("dropped event %s: no function %s", event.request_id, event.function_arn)
            return
        settings = self._settings_of(config)
        if config.reserved_concurrency == 0:
            self._fail(event, config, settings, "RetriesExhausted", None, b"", 429)
            return
        if event.age > settings.maximum_event_age_seconds:
            self._fail(event, config, settings, "EventAgeExceeded", None, b"", 200)
            return
        try:
            outcome = self._run(config, event)
        except Throttled:
            event.throttled += 1
            self.queue.put(event, throttle_delay(event.throttled))
            return
        event.attempts += 1
        if not outcome.function_error:
            if settings.on_success:
                record = invocation_record(event, "Success", config.version, None, outcome.response)
                self._destinations.send_record(settings.on_success, record, config.arn)
            return
        if event.attempts <= settings.maximum_retry_attempts:
            delay = self.retry_delays[min(event.attempts, len(self.retry_delays)) - 1]
            if event.age + delay <= settings.maximum_event_age_seconds:
                self.queue.put(event, delay)
                return
            condition = "EventAgeExceeded"
        else:
            condition = "RetriesExhausted"
        self._fail(
            event, config, settings, condition, outcome.function_error, outcome.response, 200
        )

    def _fail(
        self,
        event: QueuedEvent,
        config: FunctionConfig,
        settings: AsyncSettings,
        condition: str,
        function_error: str | None,
        response: bytes,
        code: int,
    ) -> None:
        if settings.on_failure:
            record = invocation_record(event, condition, config.version, function_error, response)
            self._destinations.send_record(settings.on_failure, record, config.arn)
        elif settings.dead_letter_target:
            error = response.decode("utf-8", errors="replace") or condition
            self._destinations.send_dead_letter(settings.dead_letter_target, event, error, code)
        else:
            logger.info("discarded event %s of %s (%s)", event.request_id, config.name, condition)


def throttle_delay(throttled: int) -> float:
    """1 s after the first throttle, doubling up to 5 min."""
    return min(THROTTLE_FIRST_DELAY * 2 ** max(throttled - 1, 0), THROTTLE_MAX_DELAY)


def invocation_record(
    event: QueuedEvent,
    condition: str,
    executed_version: str,
    function_error: str | None,
    response: bytes,
) -> dict[str, Any]:
    """The invocation record Lambda sends to a destination."""
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
    if function_error:
        response_context["functionError"] = function_error
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": event.request_id,
            "functionArn": f"{event.function_arn}:{executed_version}",
            "condition": condition,
            "approximateInvokeCount": event.attempts,
        },
        "requestPayload": _json_or_text(event.payload),
        "responseContext": response_context,
        "responsePayload": _json_or_text(response),
    }


def _json_or_text(data: bytes) -> Any:
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", errors="replace")


class Destinations:
    """Sends invocation records and dead letters, through the emulator's own APIs."""

    def __init__(self, client: Callable[[str, str], Any], invoke_async: Callable[..., Any]):
        self._client = client  # (service, region) -> boto3 client of the emulator
        self._invoke_async = invoke_async

    def send_record(self, destination: str, record: dict[str, Any], source_arn: str) -> None:
        service, region = _service_and_region(destination)
        body = json.dumps(record)
        if service == "sqs":
            self._client("sqs", region).send_message(
                QueueUrl=self._queue_url(destination), MessageBody=body
            )
        elif service == "sns":
            self._client("sns", region).publish(TopicArn=destination, Message=body)
        elif service == "lambda":
            self._invoke_async(destination, body.encode(), region)
        elif service == "events":
            success = record["requestContext"]["condition"] == "Success"
            self._client("events", region).put_events(
                Entries=[
                    {
                        "Source": "lambda",
                        "DetailType": "Lambda Function Invocation Result - "
                        + ("Success" if success else "Failure"),
                        "Detail": body,
                        "Resources": [destination, source_arn],
                        "EventBusName": destination,
                    }
                ]
            )
        else:
            logger.warning("destination %s is not a kind Lambda sends records to", destination)

    def send_dead_letter(self, target: str, event: QueuedEvent, error: str, code: int) -> None:
        """The event itself, with the request id and the error as message attributes."""
        service, region = _service_and_region(target)
        body = event.payload.decode("utf-8", errors="replace")
        message = error[:DEAD_LETTER_MESSAGE_BYTES]
        if service == "sqs":
            self._client("sqs", region).send_message(
                QueueUrl=self._queue_url(target),
                MessageBody=body,
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": event.request_id},
                    "ErrorCode": {"DataType": "Number", "StringValue": str(code)},
                    "ErrorMessage": {"DataType": "String", "StringValue": message or "-"},
                },
            )
        elif service == "sns":
            self._client("sns", region).publish(
                TopicArn=target,
                Message=body,
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": event.request_id},
                    "ErrorCode": {"DataType": "Number", "StringValue": str(code)},
                    "ErrorMessage": {"DataType": "String", "StringValue": message or "-"},
                },
            )
        else:
            logger.warning("dead-letter target %s is neither a queue nor a topic", target)

    def _queue_url(self, queue_arn: str) -> str:
        _, _, _, region, account, name = queue_arn.split(":", 5)
        return str(
            self._client("sqs", region).get_queue_url(
                QueueName=name, QueueOwnerAWSAccountId=account
            )["QueueUrl"]
        )


def _service_and_region(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    return parts[2], parts[3]
