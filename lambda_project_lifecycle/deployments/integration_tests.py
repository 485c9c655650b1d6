"""Integration tests of a freshly deployed endpoint: the project's payloads, checked.

Payloads are published by the project's build to
``s3://<bucket>/<prefix>/deploy/<branch>/payloads/<name>.json``, one request each::

    {"description": "...", "content_type": "text/csv", "accept": "application/json",
     "body": "...", "expect": {"status": 200, "prediction_count": 1, "labels_in": [0, 1]}}

Each payload object must follow the payload schema the seed code ships
(``seed_code/common/integration_tests/payload.schema.json``, its one source,
copied by the build into the Lambda zip next to this module): the same file the
project's own ``make plan`` checks, validated here without a JSON Schema
library (:mod:`.schema`). A payload that breaks it is reported by key.

Each payload is sent to each production variant (``TargetVariant``); a response
passes when it meets every expectation and arrives within the stage's latency
budget. Shadow variants return no responses to callers, so they are not tested.

A model that hangs must not take the Lambda down with it: each call gives up one
second after the latency budget (no retries), and the run stops while enough of
the Lambda's time is left to record and report the result (``TIMED_OUT``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from lambda_project_lifecycle.aws_calls import call
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import schema as json_schema
from lambda_project_lifecycle.deployments.errors import PayloadError
from lambda_project_lifecycle.errors import error_code

# The payload schema: packaged into the Lambda zip next to this module by the build; in a
# checkout, read from the seed code directly.
PACKAGED_PAYLOAD_SCHEMA = Path(__file__).with_name("payload.schema.json")
SEED_CODE_PAYLOAD_SCHEMA_PATH = ("common", "integration_tests", "payload.schema.json")
REPOSITORY_PAYLOAD_SCHEMA = (
    Path(__file__).resolve().parents[2].joinpath("seed_code", *SEED_CODE_PAYLOAD_SCHEMA_PATH)
)
MAX_PAYLOADS = 50
REASON_LENGTH = 300  # characters of an error response quoted in a problem
CALL_MARGIN_SECONDS = 1.0  # a call gives up this long after the latency budget
CONNECT_TIMEOUT_SECONDS = 5.0
# Lambda time kept for what follows the tests: saving the result, pruning, notifying
# (the webhook alone may take 5 s).
RESERVE_SECONDS = 15.0


def call_timeout_seconds(latency_budget_ms: int) -> float:
    return latency_budget_ms / 1000 + CALL_MARGIN_SECONDS


def runtime_client(clients: AwsClients, latency_budget_ms: int) -> Any:
    """The SageMaker runtime client for a stage: one attempt, reads end after the budget."""
    timeout = call_timeout_seconds(latency_budget_ms)
    config = Config(
        connect_timeout=min(CONNECT_TIMEOUT_SECONDS, timeout),
        read_timeout=timeout,
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return clients.configured_client(
        "sagemaker-runtime", config, key=f"sagemaker-runtime@{timeout:g}s"
    )


@dataclass(frozen=True)
class Payload:
    name: str
    content_type: str
    accept: str
    body: str
    expect: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class CaseResult:
    payload: str
    variant: str
    latency_ms: int
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass
class IntegrationReport:
    cases: list[CaseResult] = field(default_factory=list)
    skipped: str = ""
    timed_out: str = ""  # why the run stopped before every case ran

    @property
    def passed(self) -> bool:
        return not self.skipped and not self.timed_out and all(c.passed for c in self.cases)

    def summary(self) -> str:
        if self.skipped:
            return f"integration tests skipped: {self.skipped}"
        failed = [case for case in self.cases if not case.passed]
        if self.timed_out:
            text = f"integration tests timed out: {self.timed_out}"
            if failed:
                first = failed[0]
                text += (
                    f"; {len(failed)} of {len(self.cases)} run failed, first: {first.payload} "
                    f"on {first.variant}: {'; '.join(first.problems)}"
                )
            return text
        if not failed:
            slowest = max((case.latency_ms for case in self.cases), default=0)
            return f"{len(self.cases)} integration test(s) passed (slowest {slowest} ms)"
        first = failed[0]
        return (
            f"{len(failed)} of {len(self.cases)} integration test(s) failed; first: "
            f"{first.payload} on {first.variant}: {'; '.join(first.problems)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "skipped": self.skipped,
            "timed_out": self.timed_out,
            "summary": self.summary(),
            "cases": [
                {
                    "payload": case.payload,
                    "variant": case.variant,
                    "latency_ms": case.latency_ms,
                    "problems": list(case.problems),
                }
                for case in self.cases
            ],
        }


def load_payloads(s3: Any, bucket: str, prefix: str) -> list[Payload]:
    """Every ``*.json`` payload under ``prefix``, by name; PayloadError names a bad one."""
    keys: list[str] = []
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = call(f"Listing payloads s3://{bucket}/{prefix}", s3.list_objects_v2, **kwargs)
        keys.extend(o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".json"))
        if not page.get("IsTruncated"):
            break
        kwargs["ContinuationToken"] = page["NextContinuationToken"]
    payloads = []
    for key in sorted(keys)[:MAX_PAYLOADS]:
        body = call(f"Reading s3://{bucket}/{key}", s3.get_object, Bucket=bucket, Key=key)
        payloads.append(parse_payload(key, body["Body"].read()))
    return payloads


def payload_schema_path() -> Path:
    if PACKAGED_PAYLOAD_SCHEMA.is_file():
        return PACKAGED_PAYLOAD_SCHEMA
    return REPOSITORY_PAYLOAD_SCHEMA


@lru_cache(maxsize=2)
def load_payload_schema(path: Path | None = None) -> dict[str, Any]:
    """The payload schema, checked to use only keywords the validator knows."""
    path = path or payload_schema_path()
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PayloadError(
            f"the payload schema {path.name} is missing from the Lambda package"
        ) from None
    json_schema.check_schema(schema)
    return dict(schema)


def parse_payload(key: str, raw: bytes, schema: dict[str, Any] | None = None) -> Payload:
    where = key.rsplit("/", 1)[-1]
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise PayloadError(f"payload {where}: not valid JSON: {exc}") from exc
    violations = json_schema.validate(document, schema or load_payload_schema())
    if violations:
        raise PayloadError(f"payload {where}: {violations[0]}")
    return Payload(
        name=where.removesuffix(".json"),
        content_type=document["content_type"],
        accept=document.get("accept", "application/json"),
        body=document["body"],
        expect=dict(document["expect"]),
        description=document.get("description", ""),
    )


def check_response(payload: Payload, status: int, body: str) -> list[str]:
    """What is wrong with a response to ``payload`` (same checks as the seed code's tests)."""
    problems = []
    expected_status = payload.expect.get("status")
    if expected_status is not None and status != expected_status:
        reason = f": {body[:REASON_LENGTH]}" if status >= 400 and body else ""
        problems.append(f"status {status}, expected {expected_status}{reason}")
    if status >= 400:
        return problems
    try:
        predictions = json.loads(body)["predictions"]
        labels = [p.get("label") for p in predictions]
    except (ValueError, KeyError, TypeError, AttributeError):
        return [*problems, f"response is not {{'predictions': [...]}}: {body[:200]!r}"]
    count = payload.expect.get("prediction_count")
    if count is not None and len(predictions) != count:
        problems.append(f"{len(predictions)} predictions, expected {count}")
    allowed = payload.expect.get("labels_in")
    if allowed is not None:
        bad = [label for label in labels if label not in allowed]
        if bad:
            problems.append(f"labels {bad} not in {allowed}")
    return problems


def run_integration_tests(
    runtime: Any,
    endpoint_name: str,
    variants: list[str],
    payloads: list[Payload],
    latency_budget_ms: int,
    *,
    clock: Callable[[], float] = time.perf_counter,
    time_left: Callable[[], float] | None = None,
    reserve_seconds: float = RESERVE_SECONDS,
) -> IntegrationReport:
    """Send every payload to every variant; ``time_left`` (seconds) stops the run in time."""
    report = IntegrationReport()
    if not payloads:
        report.skipped = "the project published no payloads for this stage"
        return report
    timeout = call_timeout_seconds(latency_budget_ms)
    total = len(variants) * len(payloads)
    for variant in variants:
        for payload in payloads:
            left = time_left() if time_left is not None else None
            if left is not None and left < timeout + reserve_seconds:
                report.timed_out = (
                    f"stopped after {len(report.cases)} of {total} case(s) with {left:.0f} s "
                    f"of Lambda time left (each call may take {timeout:g} s; "
                    f"{reserve_seconds:g} s are kept to record and report the result)"
                )
                return report
            started = clock()
            status, body, problems = _invoke(runtime, endpoint_name, variant, payload, timeout)
            latency_ms = round((clock() - started) * 1000)
            problems += check_response(payload, status, body) if status else []
            if status and latency_ms > latency_budget_ms:
                problems.append(f"took {latency_ms} ms, over the {latency_budget_ms} ms budget")
            report.cases.append(CaseResult(payload.name, variant, latency_ms, tuple(problems)))
    return report


def _invoke(
    runtime: Any, endpoint_name: str, variant: str, payload: Payload, timeout: float
) -> tuple[int, str, list[str]]:
    try:
        reply = runtime.invoke_endpoint(
            EndpointName=endpoint_name,
            TargetVariant=variant,
            ContentType=payload.content_type,
            Accept=payload.accept,
            Body=payload.body.encode(),
        )
        return 200, reply["Body"].read().decode("utf-8", "replace"), []
    except ClientError as exc:
        error = exc.response.get("Error", {})
        original = exc.response.get("OriginalStatusCode")
        if error_code(exc) == "ModelError" and original:
            return int(original), str(exc.response.get("OriginalMessage", "")), []
        return 0, "", [f"invocation failed: {error_code(exc)}: {error.get('Message', '')}"]
    except (ReadTimeoutError, ConnectTimeoutError):
        return 0, "", [f"no answer within {timeout:g} s (the call was abandoned)"]
    except BotoCoreError as exc:
        return 0, "", [f"invocation failed: {type(exc).__name__}: {exc}"]
