"""Integration-test payloads: requests sent to an endpoint after each deployment.

One JSON file per request under ``integration_tests/payloads/`` (the directory
is ``tests.payloads_dir`` of each stage in deploy/config.yaml)::

    {
      "description": "One record as CSV",
      "content_type": "text/csv",
      "accept": "application/json",
      "body": "17.99,10.38,...",
      "expect": {"status": 200, "prediction_count": 1, "labels_in": [0, 1]}
    }

Each file must follow ``integration_tests/payload.schema.json`` (``status`` is
a number, not ``"200"``); the platform validates it against the same schema
before it sends the payload. ``expect`` keys: ``status`` (HTTP status),
``prediction_count`` (length of ``predictions`` in the response),
``labels_in`` (every predicted label is one of these). The platform sends
each payload to the new endpoint and checks the response and the stage's
``latency_budget_ms``; ``python -m pipelines.local`` and the repository's
tests send them to a locally trained model, and ``make plan`` checks them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines import schema_check
from pipelines.errors import SeedError
from pipelines.project import REPO_ROOT

SCHEMA_FILE = REPO_ROOT / "integration_tests" / "payload.schema.json"
REASON_LENGTH = 300  # of an error response, quoted in the problem


class PayloadError(SeedError):
    """A payload file is malformed."""


@dataclass(frozen=True)
class Payload:
    name: str
    description: str
    content_type: str
    accept: str
    body: str
    expect: dict[str, Any] = field(default_factory=dict)


def load_payloads(directory: Path) -> list[Payload]:
    files = sorted(directory.glob("*.json"))
    if not files:
        raise PayloadError(f"{directory}: no *.json payload files")
    return [load_payload(path) for path in files]


def load_payload(path: Path) -> Payload:
    """The payload in ``path``; :class:`PayloadError` names the file and the key at fault."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PayloadError(f"{path}: not readable JSON: {exc}") from exc
    violation = schema_check.first_violation(document, schema_check.load_schema(SCHEMA_FILE))
    if violation is not None:
        raise PayloadError(f"{path}: {violation} (see {SCHEMA_FILE.name})")
    return Payload(
        name=path.stem,
        description=document.get("description", ""),
        content_type=document["content_type"],
        accept=document.get("accept", "application/json"),
        body=document["body"],
        expect=dict(document["expect"]),
    )


def check_response(payload: Payload, status: int, body: str) -> list[str]:
    """What is wrong with a response to ``payload``; empty when it meets every expectation."""
    problems = []
    expected_status = payload.expect.get("status")
    if expected_status is not None and status != expected_status:
        reason = f": {body[:REASON_LENGTH]}" if status >= 400 and body else ""
        problems.append(f"status {status}, expected {expected_status}{reason}")
    if status >= 400:
        return problems
    try:
        predictions = json.loads(body)["predictions"]
    except (ValueError, KeyError, TypeError):
        return [*problems, f"response is not {{'predictions': [...]}}: {body[:200]!r}"]
    count = payload.expect.get("prediction_count")
    if count is not None and len(predictions) != count:
        problems.append(f"{len(predictions)} predictions, expected {count}")
    allowed = payload.expect.get("labels_in")
    if allowed is not None:
        labels = [p.get("label") for p in predictions]
        bad = [label for label in labels if label not in allowed]
        if bad:
            problems.append(f"labels {bad} not in {allowed}")
    return problems
