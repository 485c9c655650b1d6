"""Integration-test payloads: well-formed, and answered correctly by a locally trained model."""

from __future__ import annotations

import json

import pytest
from pipelines.payloads import PayloadError, check_response, load_payload, load_payloads

from tests.seed_code.conftest import SEED_COMMON

PAYLOADS = SEED_COMMON / "integration_tests" / "payloads"


def test_the_shipped_payloads_cover_csv_and_json_requests():
    payloads = load_payloads(PAYLOADS)
    assert {p.content_type for p in payloads} == {"text/csv", "application/json"}
    assert all(p.expect.get("status") == 200 for p in payloads)


@pytest.mark.parametrize(
    ("status", "body", "problems"),
    [
        (200, '{"predictions": [{"label": 1, "probability": 0.9}]}', []),
        (500, "boom", ["status 500, expected 200: boom"]),
        (200, '{"predictions": []}', ["0 predictions, expected 1"]),
        (200, '{"predictions": [{"label": 7}]}', ["labels [7] not in [0, 1]"]),
        (200, "not json", ["response is not {'predictions': [...]}: 'not json'"]),
    ],
)
def test_a_response_is_checked_against_the_payload_expectations(status, body, problems):
    payload = load_payload(PAYLOADS / "single_csv_record.json")
    assert check_response(payload, status, body) == problems


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"content_type": "text/csv", "body": "1,2"}, "key 'expect' is required"),
        (
            {"content_type": "text/csv", "body": "1", "expect": {}},
            r"key 'expect': \{\} should be non-empty",
        ),
        ({"content_type": "text/csv", "body": "1", "expect": {"latency": 5}}, "expect.latency"),
        (
            {"content_type": "text/csv", "body": "1", "expect": {"status": "200"}},
            "key 'expect.status': '200' is not of type 'integer'",
        ),
        (
            {"content_type": "text/csv", "body": "1", "expected": {"status": 200}},
            "key 'expected' is not allowed here",
        ),
    ],
)
def test_a_malformed_payload_is_named(tmp_path, document, message):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    with pytest.raises(PayloadError, match=message):
        load_payload(path)
