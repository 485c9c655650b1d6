"""``python build.py redrive``: send the events the platform could not handle back.

The platform stack keeps them in one queue (output ``FailedEventsQueueUrl``,
``portfolio.failed_events``), and each message says where its event goes back to:

* a Lambda on-failure record (``requestContext.functionArn``, ``requestPayload``): the
  function's failed asynchronous invocation;
* an EventBridge dead letter (message attributes ``TARGET_ARN``, ``RULE_ARN``): an event the
  rule could not deliver to its target; the body is the event.

Each event is invoked again asynchronously (as EventBridge and CloudFormation invoke, so the
function's retries and on-failure destination apply again) and its message deleted once
Lambda took it. Every handler is idempotent, so an event sent twice converges. A message of
another shape is left in the queue and listed. ``--dry-run`` lists and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from portfolio.platform import FAILED_EVENTS_QUEUE_OUTPUT
from portfolio_build.aws_session import CLIENT_CONFIG
from portfolio_build.config import BuildConfig
from portfolio_build.errors import PublishError
from portfolio_build.region_publish import stack_names

RECEIVE_BATCH = 10
# Long enough to invoke a batch; a message not deleted shows again after it.
VISIBILITY_SECONDS = 120


@dataclass(frozen=True)
class FailedEvent:
    """One message of the queue: where its event goes back to (empty: unknown)."""

    message_id: str
    receipt_handle: str
    function_arn: str
    payload: str
    origin: str


@dataclass
class Redriven:
    sent: int = 0
    left: int = 0


def failed_event(message: dict[str, Any]) -> FailedEvent:
    """Read one SQS message of the failed-events queue."""
    body = str(message.get("Body", ""))
    attributes = message.get("MessageAttributes") or {}
    ids = (str(message["MessageId"]), str(message["ReceiptHandle"]))
    target = (attributes.get("TARGET_ARN") or {}).get("StringValue", "")
    if target:
        rule = (attributes.get("RULE_ARN") or {}).get("StringValue", "")
        return FailedEvent(*ids, str(target), body, f"undelivered by rule {rule}")
    try:
        record = json.loads(body)
    except json.JSONDecodeError:
        record = None
    if isinstance(record, dict) and "requestPayload" in record:
        context = record.get("requestContext") or {}
        condition = context.get("condition", "failed")
        return FailedEvent(
            *ids,
            str(context.get("functionArn", "")),
            json.dumps(record["requestPayload"]),
            f"invocation {context.get('requestId', '?')} ({condition})",
        )
    return FailedEvent(*ids, "", body, "not a Lambda record nor an EventBridge dead letter")


def redrive_queue(
    sqs: Any,
    lambda_client: Any,
    queue_url: str,
    *,
    dry_run: bool = False,
    say: Callable[[str], None] = print,
) -> Redriven:
    """Send every event of the queue back to its function; what was sent and left."""
    done = Redriven()
    seen: set[str] = set()
    shown: list[str] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=RECEIVE_BATCH,
            MessageAttributeNames=["All"],
            VisibilityTimeout=VISIBILITY_SECONDS,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            event = failed_event(message)
            if not event.function_arn:
                done.left += 1
                say(f"left {event.message_id}: {event.origin}")
                shown.append(event.receipt_handle)
                continue
            if dry_run:
                done.sent += 1
                say(f"would send {event.message_id} to {event.function_arn}: {event.origin}")
                shown.append(event.receipt_handle)
                continue
            try:
                lambda_client.invoke(
                    FunctionName=event.function_arn,
                    InvocationType="Event",
                    Payload=event.payload.encode(),
                )
            except ClientError as exc:
                done.left += 1
                code = exc.response.get("Error", {}).get("Code", "")
                say(f"left {event.message_id}: {event.function_arn} refused it ({code})")
                shown.append(event.receipt_handle)
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=event.receipt_handle)
            done.sent += 1
            say(f"sent {event.message_id} to {event.function_arn}: {event.origin}")
    for handle in shown:  # visible again at once for the next run or a person
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)
    return done


def failed_events_queue(cloudformation: Any, stack: str, region: str) -> str:
    try:
        (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        raise PublishError(f"{region}: platform stack {stack} not found: publish first") from exc
    for output in described.get("Outputs", []):
        if output["OutputKey"] == FAILED_EVENTS_QUEUE_OUTPUT:
            return str(output["OutputValue"])
    raise PublishError(
        f"{region}: platform stack {stack} has no {FAILED_EVENTS_QUEUE_OUTPUT} output: "
        "publish this version first"
    )


def run(config: BuildConfig, sessions: Callable[[str], boto3.Session], *, dry_run: bool) -> int:
    """Re-drive the failed events of every configured region; 1 when some are left."""
    _, platform = stack_names(config)
    left = 0
    for region in config.regions:
        session = sessions(region)
        cloudformation, sqs, lambda_client = (
            session.client(name, region_name=region, config=CLIENT_CONFIG)
            for name in ("cloudformation", "sqs", "lambda")
        )
        queue_url = failed_events_queue(cloudformation, platform, region)
        done = redrive_queue(
            sqs,
            lambda_client,
            queue_url,
            dry_run=dry_run,
            say=lambda line, region=region: print(f"{region}: {line}"),
        )
        verb = "would send" if dry_run else "sent"
        print(f"{region}: {verb} {done.sent} event(s), {done.left} left in {queue_url}")
        left += done.left
    return 1 if left else 0
