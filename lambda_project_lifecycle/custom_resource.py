"""CloudFormation custom resources: every request gets exactly one answer.

The answer is a PUT of a JSON document to the pre-signed ``ResponseURL`` of the
event. :func:`answer_request` runs the operation for the request type and
answers SUCCESS, or FAILED with a reason, whatever happens: an error of ours,
an unexpected exception, or the Lambda running out of time (a timer answers
FAILED shortly before the deadline; the first answer wins).

Once the request is answered, its work must stop: CloudFormation acts on the
answer (a FAILED Create is rolled back with a Delete, which may run while this
request still runs). Operations call :meth:`Responder.checkpoint` before every
step that changes something; it raises :class:`RequestAnswered` once the
request has its answer. An outcome that arrives after the answer is dropped,
and its ``on_late`` (what undoes the request's work) runs instead.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lambda_project_lifecycle.errors import LifecycleError

logger = logging.getLogger(__name__)

# CloudFormation rejects a response body over 4096 bytes.
MAX_RESPONSE_BYTES = 4096
# Answer FAILED this long before the Lambda's deadline (capped to a tenth of the time left).
DEFAULT_TIMEOUT_MARGIN_SECONDS = 10.0
SEND_ATTEMPTS = 4
CUT_MARK = " [cut]"


@dataclass(frozen=True)
class Outcome:
    """What an operation returns: the resource's id and the attributes for ``Fn::GetAtt``.

    ``on_late`` undoes what the operation made, for when the request was answered
    (FAILED, by the deadline timer) before the outcome arrived.
    """

    physical_resource_id: str
    data: dict[str, str] = field(default_factory=dict)
    on_late: Callable[[], None] | None = field(default=None, compare=False, repr=False)


class RequestAnswered(Exception):
    """The request has been answered (the deadline timer said FAILED); stop changing things.

    Not a :class:`LifecycleError`, so that no handler of those takes it for a provider
    problem and carries on.
    """


Operation = Callable[[Mapping[str, Any]], Outcome]
Sender = Callable[[str, bytes], None]
Checkpoint = Callable[[str], None]


def no_checkpoint(step: str) -> None:
    """The checkpoint of work that no request waits for."""


def put_response(url: str, body: bytes) -> None:
    """PUT ``body`` to the pre-signed S3 URL, retrying transient failures."""
    delay = 0.5
    for attempt in range(1, SEND_ATTEMPTS + 1):
        request = urllib.request.Request(
            url,
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                reply.read()
            return
        except OSError as exc:  # URLError and HTTPError derive from OSError
            if attempt == SEND_ATTEMPTS:
                raise
            logger.warning("Answer to CloudFormation failed (attempt %d): %s", attempt, exc)
            time.sleep(delay)
            delay *= 2


class Responder:
    """Sends the one answer to one request; later answers are dropped."""

    def __init__(self, event: Mapping[str, Any], send: Sender = put_response) -> None:
        self._event = event
        self._send = send
        self._lock = threading.Lock()
        self.answer: dict[str, Any] | None = None

    @property
    def answered(self) -> bool:
        with self._lock:
            return self.answer is not None

    def checkpoint(self, step: str) -> None:
        """Call before ``step`` changes something: raises :class:`RequestAnswered` once the
        request has its answer, so that nothing changes after CloudFormation moved on."""
        if self.answered:
            raise RequestAnswered(f"the request was already answered; stopped before {step}")

    def succeed(self, outcome: Outcome) -> bool:
        return self._answer("SUCCESS", outcome.physical_resource_id, "", outcome.data)

    def fail(self, physical_resource_id: str, reason: str) -> bool:
        return self._answer("FAILED", physical_resource_id, reason, {})

    def _answer(self, status: str, physical_id: str, reason: str, data: dict[str, str]) -> bool:
        with self._lock:
            if self.answer is not None:
                logger.info("Dropping %s answer: request already answered", status)
                return False
            body = response_body(self._event, status, physical_id, reason, data)
            self.answer = json.loads(body)
            logger.info("Answering %s for %s", status, physical_id)
            try:
                self._send(str(self._event.get("ResponseURL", "")), body)
            except Exception:  # an undeliverable answer must not hide the original outcome
                logger.exception("Could not deliver the answer to CloudFormation")
            return True


def response_body(
    event: Mapping[str, Any], status: str, physical_id: str, reason: str, data: dict[str, str]
) -> bytes:
    """The JSON answer, kept under CloudFormation's 4096-byte limit; never raises.

    A long reason is cut; if the attributes alone are too big, the answer
    becomes FAILED without them, so that the stack still hears back.
    """
    document: dict[str, Any] = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": event.get("StackId", ""),
        "RequestId": event.get("RequestId", ""),
        "LogicalResourceId": event.get("LogicalResourceId", ""),
        "NoEcho": False,
        "Data": data,
    }
    body = json.dumps(document, sort_keys=True).encode()
    overflow = len(body) - MAX_RESPONSE_BYTES
    if overflow <= 0:
        return body
    kept = reason
    while kept and overflow > 0:
        # Escapes make the JSON longer than the text: cut by the overflow, then check again.
        kept = kept[: max(0, len(kept) - overflow - len(CUT_MARK))]
        document["Reason"] = kept + CUT_MARK
        body = json.dumps(document, sort_keys=True).encode()
        overflow = len(body) - MAX_RESPONSE_BYTES
    if overflow <= 0:
        return body
    document.update(
        Status="FAILED",
        Data={},
        Reason=f"The answer's attributes are over CloudFormation's {MAX_RESPONSE_BYTES}-byte limit",
    )
    return json.dumps(document, sort_keys=True).encode()


def answer_request(
    event: Mapping[str, Any],
    context: Any,
    *,
    create: Operation,
    update: Operation,
    delete: Operation,
    fallback_physical_id: str,
    send: Sender = put_response,
    timeout_margin_seconds: float = DEFAULT_TIMEOUT_MARGIN_SECONDS,
    responder: Responder | None = None,
) -> dict[str, Any] | None:
    """Run the operation for the event's RequestType and answer CloudFormation.

    ``fallback_physical_id`` names the resource in a FAILED answer to a Create
    that did not get far enough to know its id; Update and Delete keep the id
    CloudFormation sent. ``responder`` is the one the operations check (made
    here when not given). Returns the answer sent.
    """
    responder = responder or Responder(event, send)
    request_type = event.get("RequestType")
    physical_id = str(event.get("PhysicalResourceId") or fallback_physical_id)
    log_hint = _log_hint(context)

    timer = _deadline_timer(context, timeout_margin_seconds, responder, physical_id, log_hint)
    try:
        operation = {"Create": create, "Update": update, "Delete": delete}.get(str(request_type))
        if operation is None:
            responder.fail(physical_id, f"Unknown RequestType {request_type!r}")
        else:
            outcome = operation(event)
            if not responder.succeed(outcome) and outcome.on_late is not None:
                _undo_late(str(request_type), outcome.on_late)
    except RequestAnswered as exc:
        logger.warning("%s stopped: %s", request_type, exc)
    except LifecycleError as exc:
        logger.error("%s failed: %s", request_type, exc)
        responder.fail(physical_id, f"{exc}{log_hint}")
    except Exception as exc:
        logger.exception("%s failed unexpectedly", request_type)
        responder.fail(physical_id, f"Unexpected error: {type(exc).__name__}: {exc}{log_hint}")
    finally:
        if timer is not None:
            timer.cancel()
    return responder.answer


def _undo_late(request_type: str, undo: Callable[[], None]) -> None:
    logger.warning("%s finished after its answer: undoing what it made", request_type)
    try:
        undo()
    except Exception:
        logger.exception("Could not undo what the late %s made", request_type)


def _deadline_timer(
    context: Any, margin: float, responder: Responder, physical_id: str, log_hint: str
) -> threading.Timer | None:
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is None:
        return None
    remaining = remaining_ms() / 1000.0
    margin = min(margin, remaining / 10.0)
    reason = (
        f"The lifecycle Lambda was about to time out ({remaining:.0f} s budget) "
        f"before the request finished{log_hint}"
    )
    timer = threading.Timer(max(0.0, remaining - margin), responder.fail, (physical_id, reason))
    timer.daemon = True
    timer.start()
    return timer


def _log_hint(context: Any) -> str:
    stream = getattr(context, "log_stream_name", None)
    group = getattr(context, "log_group_name", None)
    if stream and group:
        return f" (see CloudWatch Logs {group} {stream})"
    return ""
