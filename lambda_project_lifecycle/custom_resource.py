"""CloudFormation custom resources: every request gets exactly one answer.

The answer is a PUT of a JSON document to the pre-signed ``ResponseURL`` of the
event. :func:`answer_request` runs the operation for the request type and
answers SUCCESS, or FAILED with a reason, whatever happens: a request of a shape
CloudFormation does not send (the reason names each field that is missing or of
the wrong type), an error of ours, an unexpected exception, or the Lambda running
out of time (a timer answers FAILED shortly before the deadline; the first answer
wins). A request without a ``ResponseURL`` cannot be answered: that is logged, at
ERROR, with what is wrong.

The answer must fit CloudFormation's limit: "The total size of the response body
can't exceed 4096 bytes" (AWS CloudFormation User Guide, *Custom resource response
objects*, crpg-ref-responses). The JSON is sent as UTF-8; a reason too long for it,
in any script, is cut by bytes at a character boundary, keeping its beginning (which
names the parameter at fault).

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

# "The total size of the response body can't exceed 4096 bytes" (crpg-ref-responses).
MAX_RESPONSE_BYTES = 4096
REQUEST_TYPES = ("Create", "Update", "Delete")
# Fields of every request, copied into the answer (RequestType and ResponseURL are used).
REQUIRED_TEXT_FIELDS = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")
PROPERTY_FIELDS = ("ResourceProperties", "OldResourceProperties")
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
            url = self._event.get("ResponseURL")
            if not isinstance(url, str) or not url:
                logger.error(
                    "Cannot answer %s (%s): the request has no ResponseURL to answer to",
                    status,
                    self.answer["Reason"] or "no reason",
                )
                return True
            logger.info("Answering %s for %s", status, physical_id)
            try:
                self._send(url, body)
            except Exception:  # an undeliverable answer must not hide the original outcome
                logger.exception("Could not deliver the answer to CloudFormation")
            return True


def response_body(
    event: Mapping[str, Any], status: str, physical_id: str, reason: str, data: dict[str, str]
) -> bytes:
    """The JSON answer in UTF-8, within CloudFormation's 4096-byte limit; never raises.

    A long reason is cut (by bytes, at a character boundary, keeping its beginning); if the
    attributes alone are too big, the answer becomes FAILED without them, so that the stack
    still hears back.
    """
    document: dict[str, Any] = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": physical_id,
        "StackId": _copied(event, "StackId"),
        "RequestId": _copied(event, "RequestId"),
        "LogicalResourceId": _copied(event, "LogicalResourceId"),
        "NoEcho": False,
        "Data": data,
    }
    body = _encode(document)
    if len(body) <= MAX_RESPONSE_BYTES:
        return body
    document["Reason"] = ""
    room = MAX_RESPONSE_BYTES - len(_encode(document))
    if room >= len(_encode_text(CUT_MARK)):
        document["Reason"] = cut_to_bytes(reason, room)
        return _encode(document)
    document.update(
        Status="FAILED",
        Data={},
        Reason=f"The answer's attributes are over CloudFormation's {MAX_RESPONSE_BYTES}-byte limit",
    )
    return _encode(document)


def cut_to_bytes(text: str, limit: int) -> str:
    """``text``, or its beginning and :data:`CUT_MARK`, in at most ``limit`` bytes of JSON
    string content (UTF-8, with JSON's escapes); never splits a character."""
    if len(_encode_text(text)) <= limit:
        return text
    room = limit - len(_encode_text(CUT_MARK))
    used = 0
    for index, char in enumerate(text):  # JSON escapes each character on its own
        used += len(_encode_text(char))
        if used > room:
            return text[:index] + CUT_MARK
    return text + CUT_MARK  # not reached: the whole text is over the limit


def _encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8", "replace")


def _encode_text(text: str) -> bytes:
    """The bytes ``text`` takes inside a JSON string of :func:`_encode` (no quotes)."""
    return _encode({"": text})[len('{"": "') : -len('"}')]


def _copied(event: Mapping[str, Any], key: str) -> str:
    """A request field copied into the answer; CloudFormation's are strings."""
    value = event.get(key)
    return value if isinstance(value, str) else ""


def request_problems(event: object) -> list[str]:
    """What makes ``event`` a request CloudFormation does not send; empty when none."""
    if not isinstance(event, Mapping):
        return [f"the request must be a JSON object, not {json_kind(event)}"]
    problems = []
    for key in REQUIRED_TEXT_FIELDS:
        value = event.get(key)
        if value is None:
            problems.append(f"{key} is missing")
        elif not isinstance(value, str) or not value:
            problems.append(f"{key} must be a non-empty string, not {json_kind(value)}")
    request_type = event.get("RequestType")
    if isinstance(request_type, str) and request_type and request_type not in REQUEST_TYPES:
        problems.append(
            f"Unknown RequestType {request_type!r} (CloudFormation sends "
            f"{', '.join(REQUEST_TYPES[:-1])} or {REQUEST_TYPES[-1]})"
        )
    for key in PROPERTY_FIELDS:
        value = event.get(key)
        if value is not None and not isinstance(value, Mapping):
            problems.append(f"{key} must be a JSON object, not {json_kind(value)}")
    physical_id = event.get("PhysicalResourceId")
    if request_type in ("Update", "Delete") and physical_id is None:
        problems.append(
            f"PhysicalResourceId is missing (CloudFormation sends it with {request_type})"
        )
    elif physical_id is not None and (not isinstance(physical_id, str) or not physical_id):
        problems.append(
            f"PhysicalResourceId must be a non-empty string, not {json_kind(physical_id)}"
        )
    return problems


def json_kind(value: object) -> str:
    """How a value of the wrong type is named in a reason: its JSON type and a short view."""
    if value is None:
        return "null"
    name = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        tuple: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)
    shown = repr(value)
    return f"{name} ({shown[:40]}{'...' if len(shown) > 40 else ''})"


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
    if not isinstance(event, Mapping):
        logger.error("Cannot answer: %s", "; ".join(request_problems(event)))
        return None
    responder = responder or Responder(event, send)
    request_type = event.get("RequestType")
    given_id = event.get("PhysicalResourceId")
    physical_id = given_id if isinstance(given_id, str) and given_id else fallback_physical_id
    log_hint = _log_hint(context)
    problems = request_problems(event)
    if problems:
        logger.error("Invalid request: %s", "; ".join(problems))
        responder.fail(physical_id, f"Invalid request: {'; '.join(problems)}")
        return responder.answer

    timer = _deadline_timer(context, timeout_margin_seconds, responder, physical_id, log_hint)
    try:
        operation = {"Create": create, "Update": update, "Delete": delete}[str(request_type)]
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
