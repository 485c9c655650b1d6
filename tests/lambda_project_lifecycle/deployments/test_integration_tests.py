"""Payloads as the Lambda reads them: the seed code's schema, the seed code's verdicts."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest

from lambda_project_lifecycle.deployments import integration_tests
from lambda_project_lifecycle.deployments.errors import PayloadError
from tests.seed_code.conftest import SEED_COMMON

GOOD: dict[str, Any] = {
    "content_type": "text/csv",
    "body": "1,2,3",
    "expect": {"status": 200, "prediction_count": 1, "labels_in": [0, 1]},
}
# (document, the key the Lambda names, or None when it is valid)
CASES: list[tuple[Any, str | None]] = [
    (GOOD, None),
    ({**GOOD, "accept": "application/json", "description": "one row"}, None),
    ({**GOOD, "expect": {"status": "200"}}, "expect.status"),
    ({**GOOD, "expect": {"status": 200.5}}, "expect.status"),
    ({**GOOD, "expect": {}}, "expect"),
    ({**GOOD, "expect": {"latency": 5}}, "expect.latency"),
    ({**GOOD, "expect": {"labels_in": []}}, "expect.labels_in"),
    ({**GOOD, "expected": {"status": 200}}, "expected"),
    ({"content_type": "text/csv", "expect": {"status": 200}}, "body"),
    ({**GOOD, "body": 17}, "body"),
    (["not", "an", "object"], "(top level)"),
]


@pytest.mark.parametrize(("document", "key"), CASES)
def test_the_lambda_validates_payloads_with_the_seed_codes_schema(document, key) -> None:
    raw = json.dumps(document).encode()
    if key is None:
        payload = integration_tests.parse_payload("p/deploy/prod/payloads/one.json", raw)
        assert payload.name == "one" and payload.expect == document["expect"]
    else:
        with pytest.raises(PayloadError, match=re.escape(f"payload one.json: key '{key}'")):
            integration_tests.parse_payload("p/deploy/prod/payloads/one.json", raw)


@pytest.mark.parametrize(("document", "key"), CASES)
def test_the_seed_code_accepts_and_refuses_the_same_payloads(tmp_path, document, key) -> None:
    if str(SEED_COMMON) not in sys.path:
        sys.path.append(str(SEED_COMMON))
    from pipelines.payloads import PayloadError as SeedPayloadError
    from pipelines.payloads import load_payload

    path = tmp_path / "one.json"
    path.write_text(json.dumps(document))
    if key is None:
        assert load_payload(path).expect == document["expect"]
    else:
        with pytest.raises(SeedPayloadError, match=re.escape(f"one.json: key '{key}'")):
            load_payload(path)


def test_the_schema_the_lambda_reads_in_a_checkout_is_the_seed_codes() -> None:
    assert integration_tests.payload_schema_path() == (
        SEED_COMMON / "integration_tests" / "payload.schema.json"
    )


def test_a_refused_request_reports_the_endpoints_reason() -> None:
    payload = integration_tests.parse_payload("one.json", json.dumps(GOOD).encode())
    problems = integration_tests.check_response(payload, 415, "unsupported content type")
    assert problems == ["status 415, expected 200: unsupported content type"]
