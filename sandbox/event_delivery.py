"""EventBridge's delivery: events matched against the rules moto stores, sent to their targets.

moto keeps rules and targets but answers ``PutEvents`` with HTTP 500 when a
Lambda target matches, treats a schedule-only rule as matching every event and
never fires a schedule. :class:`EventBus` answers ``PutEvents`` here and is what
the sandbox's event sources (:mod:`sandbox.sagemaker_events`, the git endpoint)
emit through:

- an event gets AWS's envelope (``version``, ``id``, ``detail-type``,
  ``source``, ``account``, ``time``, ``region``, ``resources``, ``detail``);
- every enabled rule of the bus with an event pattern is matched with moto's
  own pattern matcher; a rule with only a schedule matches no event;
- each target of a matching rule gets the event (or its ``Input``,
  ``InputPath`` or ``InputTransformer`` rendering): a Lambda function through
  the runtime (asynchronously, as EventBridge invokes), an SQS queue, an SNS
  topic, or another event bus;
- a delivery that fails for a missing target (or a refused one) goes to the
  target's dead-letter queue at once; other failures are retried with
  exponential back-off within the target's ``RetryPolicy`` (185 attempts and
  24 hours by default), then go to the dead-letter queue;
- scheduled rules fire on :class:`SandboxClock`: when the clock moves on, each
  enabled ``rate`` or ``cron`` rule that came due since its last firing fires
  once, a "Scheduled Event" at its latest due time. EventBridge does not catch
  up occurrences it missed, so a jump of 25 hours runs a 10-minute schedule once,
  not 150 times. The Lambda runtime shows handlers the same moved-on time.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_croniter import AwsCroniter
from botocore.exceptions import ClientError
from jsonpath_ng.ext import parse as json_path
from moto.events.utils import EventTemplateParser

from sandbox.emulator import AwsError, Call, Emulator
from sandbox.lambda_runtime import LambdaRuntime

logger = logging.getLogger(__name__)

MAX_ENTRIES = 10
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 24 * 60 * 60
RATE_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
# Delivery errors EventBridge does not retry: the target is missing or refuses the caller.
NOT_RETRIED = (
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "NotFound",
    "NotFoundException",
    "AccessDenied",
    "AccessDeniedException",
    "KMSAccessDeniedException",
)


class SandboxClock:
    """The time the sandbox's schedules and events see: the machine's, plus what it advanced."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[datetime], None]] = []

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        """How far the clock was moved on from the machine's."""
        with self._lock:
            return self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move on by ``delta``; every schedule due by then fires."""
        with self._lock:
            self._offset += delta
        now = self.now()
        for listener in list(self._listeners):
            listener(now)
        return now

    def on_advance(self, listener: Callable[[datetime], None]) -> None:
        self._listeners.append(listener)


@dataclass
class Delivery:
    """One event sent (or not) to one target of one rule."""

    event_id: str
    detail_type: str
    rule_arn: str
    target_arn: str
    attempts: int = 0
    error: str = ""
    dead_lettered: bool = False
    delivered_at: datetime | None = None


@dataclass
class _Pending:
    event: dict[str, Any]
    rule_arn: str
    target: dict[str, Any]
    region: str
    account_id: str
    delivery: Delivery
    first_try: datetime = field(default_factory=lambda: datetime.now(UTC))


class EventBus:
    """Plays PutEvents and scheduled rules on moto's stored rules; registers on ``emulator``."""

    def __init__(
        self,
        emulator: Emulator,
        runtime: LambdaRuntime,
        *,
        clock: SandboxClock | None = None,
        retry_base_seconds: float = 1.0,
    ) -> None:
        self._emulator = emulator
        self._runtime = runtime
        self.clock = clock or SandboxClock()
        self.retry_base_seconds = retry_base_seconds
        self.events: list[dict[str, Any]] = []  # every event put, in order
        self.deliveries: list[Delivery] = []
        self._schedule_origin: dict[str, datetime] = {}  # rule ARN -> last firing (or first seen)
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}
        self._timers: set[threading.Timer] = set()
        emulator.answer(
            "events",
            "PutEvents",
            "moto answers 500 when a Lambda target matches, and matches schedule-only rules: "
            "delivered here with moto's pattern matcher",
        )(self._answer_put_events)
        self.clock.on_advance(self.fire_schedules)
        emulator.on_stop(self.stop)

    # -- putting events ---------------------------------------------------------------------

    def _answer_put_events(self, call: Call) -> dict[str, Any]:
        entries = call.params.get("Entries") or []
        if len(entries) > MAX_ENTRIES:
            raise AwsError(
                "ValidationException",
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                f"Member must have length less than or equal to {MAX_ENTRIES}",
            )
        results = [self.put(entry, call.region, call.account_id) for entry in entries]
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedEntryCount": failed, "Entries": results}

    def put(self, entry: dict[str, Any], region: str, account_id: str) -> dict[str, str]:
        """One PutEvents entry: its result (``EventId``, or ``ErrorCode`` and ``ErrorMessage``)."""
        for key in ("Source", "DetailType", "Detail"):
            if not entry.get(key):
                return {
                    "ErrorCode": "InvalidArgument",
                    "ErrorMessage": f"Parameter {key} is not valid. Reason: {key} is a required "
                    "argument.",
                }
        try:
            detail = json.loads(entry["Detail"])
        except ValueError:
            detail = None
        if not isinstance(detail, dict):
            return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
        when = entry.get("Time")
        event = self.envelope(
            source=entry["Source"],
            detail_type=entry["DetailType"],
            detail=detail,
            resources=entry.get("Resources") or [],
            region=region,
            account_id=account_id,
            time=_iso(when) if isinstance(when, datetime) else None,
        )
        try:
            self.deliver(event, entry.get("EventBusName") or "default")
        except AwsError as exc:
            return {"ErrorCode": exc.code, "ErrorMessage": str(exc.message)}
        return {"EventId": event["id"]}

    def emit(
        self,
        *,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: Iterable[str] = (),
        region: str | None = None,
        account_id: str | None = None,
        time: str | None = None,
    ) -> dict[str, Any]:
        """An event an AWS service sends to the default bus (what the sandbox's sources call)."""
        event = self.envelope(
            source=source,
            detail_type=detail_type,
            detail=detail,
            resources=list(resources),
            region=region or self._emulator.region,
            account_id=account_id or self._emulator.account_id,
            time=time,
        )
        self.deliver(event, "default")
        return event

    def envelope(
        self,
        *,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str],
        region: str,
        account_id: str,
        time: str | None,
    ) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": account_id,
            "time": time or _iso(self.clock.now()),
            "region": region,
            "resources": resources,
            "detail": detail,
        }

    def deliver(self, event: dict[str, Any], bus: str) -> None:
        """Match ``event`` against the rules of ``bus`` (name or ARN) and send it on."""
        region, account_id = event["region"], event["account"]
        if bus.startswith("arn:"):
            region, account_id = bus.split(":")[3], bus.split(":")[4]
        backend = self._emulator.backend("events", region, account_id)
        name = bus.split("/")[-1]
        try:
            rules = list(backend.describe_event_bus(name).rules.values())
        except Exception as exc:  # moto's ResourceNotFoundException
            raise AwsError(
                "ResourceNotFoundException", f"Event bus {name} does not exist."
            ) from exc
        with self._lock:
            self.events.append(event)
        for rule in rules:
            if not rule.state.startswith("ENABLED") or not rule.event_pattern.get_pattern():
                continue
            if rule.event_pattern.matches_event(event):
                for target in list(rule.targets):
                    self._send(event, rule.arn, target, region, account_id)

    # -- scheduled rules ---------------------------------------------------------------------

    def fire_schedules(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Fire, once, every enabled scheduled rule that came due by ``now`` (the clock's
        time) since it last fired; a rule seen for the first time counts from ``now``."""
        now = now or self.clock.now()
        fired = []
        for (account_id, region), backend in self._events_backends():
            for bus in backend.event_buses.values():
                for rule in list(bus.rules.values()):
                    if rule.scheduled_expression and rule.state.startswith("ENABLED"):
                        when = self._due(rule, now)
                        if when is not None:
                            fired.append(
                                self._fire(rule.arn, list(rule.targets), when, region, account_id)
                            )
        return fired

    def _due(self, rule: Any, now: datetime) -> datetime | None:
        """The rule's latest occurrence since its last firing, remembered as fired (or None)."""
        with self._lock:
            since = self._schedule_origin.setdefault(rule.arn, now)
        when = due_occurrence(rule.scheduled_expression.strip(), since, now)
        if when is not None:
            with self._lock:
                self._schedule_origin[rule.arn] = when
        return when

    def _fire(
        self,
        rule_arn: str,
        targets: list[dict[str, Any]],
        when: datetime,
        region: str,
        account_id: str,
    ) -> dict[str, Any]:
        event = self.envelope(
            source="aws.events",
            detail_type="Scheduled Event",
            detail={},
            resources=[rule_arn],
            region=region,
            account_id=account_id,
            time=_iso(when),
        )
        with self._lock:
            self.events.append(event)
        for target in targets:
            self._send(event, rule_arn, target, region, account_id)
        return event

    def _events_backends(self) -> list[tuple[tuple[str, str], Any]]:
        from moto.events.models import events_backends

        found = []
        for account_id, regions in events_backends.items():
            for region, backend in regions.items():
                found.append(((account_id, region), backend))
        return found

    # -- targets ------------------------------------------------------------------------

    def _send(
        self,
        event: dict[str, Any],
        rule_arn: str,
        target: dict[str, Any],
        region: str,
        account: str,
    ) -> None:
        delivery = Delivery(event["id"], event["detail-type"], rule_arn, target["Arn"])
        with self._lock:
            self.deliveries.append(delivery)
        self._attempt(_Pending(event, rule_arn, target, region, account, delivery))

    def _attempt(self, pending: _Pending) -> None:
        delivery, target = pending.delivery, pending.target
        delivery.attempts += 1
        try:
            self._call_target(target, rendered(target, pending.event), pending)
        except (AwsError, ClientError) as exc:
            code = exc.code if isinstance(exc, AwsError) else exc.response["Error"]["Code"]
            delivery.error = f"{code}: {exc}"
            self._retry_or_dead_letter(pending, code)
            return
        delivery.error = ""
        delivery.delivered_at = datetime.now(UTC)

    def _call_target(self, target: dict[str, Any], payload: str, pending: _Pending) -> None:
        arn = target["Arn"]
        service, region = arn.split(":")[2], arn.split(":")[3]
        if service == "lambda":
            self._runtime.invoke(arn, payload.encode(), invocation_type="Event", region=region)
        elif service == "sqs":
            options: dict[str, Any] = {}
            group = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group:
                options["MessageGroupId"] = group
            self._client("sqs", region).send_message(
                QueueUrl=self._queue_url(arn), MessageBody=payload, **options
            )
        elif service == "sns":
            self._client("sns", region).publish(TopicArn=arn, Message=payload)
        elif service == "events" and ":event-bus/" in arn:
            self.deliver(dict(pending.event), arn)
        else:
            raise AwsError(
                "UnsupportedTarget", f"the sandbox delivers to Lambda, SQS, SNS and buses: {arn}"
            )

    def _retry_or_dead_letter(self, pending: _Pending, code: str) -> None:
        policy = pending.target.get("RetryPolicy") or {}
        attempts = int(policy.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS))
        max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE_SECONDS))
        retried = pending.delivery.attempts - 1
        delay = min(self.retry_base_seconds * 2**retried, 300.0)
        age = (datetime.now(UTC) - pending.first_try).total_seconds()
        if code not in NOT_RETRIED and retried < attempts and age + delay <= max_age:
            timer = threading.Timer(delay, self._timed_retry, args=(pending,))
            timer.daemon = True
            with self._lock:
                self._timers.add(timer)
            timer.start()
            return
        exhausted = (
            "MaximumRetryAttemptsExhausted" if retried >= attempts else "MaximumEventAgeExhausted"
        )
        if code in NOT_RETRIED:
            exhausted = ""
        self._dead_letter(pending, code, exhausted)

    def _timed_retry(self, pending: _Pending) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive()}
        self._attempt(pending)

    def _dead_letter(self, pending: _Pending, code: str, exhausted: str) -> None:
        queue = (pending.target.get("DeadLetterConfig") or {}).get("Arn")
        if not queue:
            logger.warning(
                "dropped event %s for %s: %s", pending.event["id"], pending.target["Arn"], code
            )
            return
        attributes = {
            "RULE_ARN": pending.rule_arn,
            "TARGET_ARN": pending.target["Arn"],
            "ERROR_CODE": code,
            "ERROR_MESSAGE": pending.delivery.error[:1024],
            "RETRY_ATTEMPTS": str(pending.delivery.attempts - 1),
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        region = queue.split(":")[3]
        self._client("sqs", region).send_message(
            QueueUrl=self._queue_url(queue),
            MessageBody=json.dumps(pending.event),
            MessageAttributes={
                key: {"DataType": "String", "StringValue": value or "-"}
                for key, value in attributes.items()
            },
        )
        pending.delivery.dead_lettered = True

    def _queue_url(self, arn: str) -> str:
        _, _, _, region, account, name = arn.split(":", 5)
        return str(
            self._client("sqs", region).get_queue_url(
                QueueName=name, QueueOwnerAWSAccountId=account
            )["QueueUrl"]
        )

    def _client(self, service: str, region: str) -> Any:
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                client = self._clients[(service, region)] = self._emulator.client(service, region)
            return client

    def retrying(self) -> bool:
        """Whether a failed delivery waits for its next attempt."""
        with self._lock:
            return any(timer.is_alive() for timer in self._timers)

    def stop(self) -> None:
        with self._lock:
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()


def rendered(target: dict[str, Any], event: dict[str, Any]) -> str:
    """What a target receives: the event, or its Input, InputPath or InputTransformer."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        matches = json_path(target["InputPath"]).find(event)
        return json.dumps(matches[0].value if matches else None)
    transformer = target.get("InputTransformer")
    if transformer:
        return json.dumps(
            EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap") or {},
                event={**event, "ingestion-time": event["time"]},  # <aws.events.*> variables
            )
        )
    return json.dumps(event)


def due_occurrence(expression: str, since: datetime, until: datetime) -> datetime | None:
    """The latest time in (``since``, ``until``] at which a ``rate(...)`` or ``cron(...)``
    fires, or None when it does not fire in that span."""
    rate = re.fullmatch(r"rate\(\s*(\d+)\s+(\w+)\s*\)", expression)
    if rate:
        period = timedelta(seconds=int(rate.group(1)) * RATE_UNITS[rate.group(2).lower()])
        periods = (until - since) // period
        return since + periods * period if periods else None
    cron = re.fullmatch(r"cron\((.+)\)", expression)
    if cron is None:
        raise ValueError(f"not a schedule expression: {expression!r}")
    (latest,) = AwsCroniter(cron.group(1)).get_prev(until, inclusive=True)
    return latest if latest is not None and since < latest <= until else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
