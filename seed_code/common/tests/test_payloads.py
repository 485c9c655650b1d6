"""The integration-test payloads follow integration_tests/payload.schema.json."""

from __future__ import annotations

import json

import pytest
from pipelines.payloads import PayloadError, check_response, load_payload, load_payloads
from pipelines.project import REPO_ROOT

PAYLOADS = REPO_ROOT / "integration_tests" / "payloads"


def test_every_payload_follows_the_schema() -> None:
    payloads = load_payloads(PAYLOADS)
    assert payloads and all(isinstance(p.expect.get("status", 200), int) for p in payloads)


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ({"status": "200"}, "key 'expect.status': '200' is not of type 'integer'"),
        ({"prediction_count": -1}, "key 'expect.prediction_count'"),
        ({"latency_ms": 5}, "key 'expect.latency_ms' is not allowed here"),
    ],
)
def test_a_broken_payload_names_the_file_and_the_key(tmp_path, expect, message) -> None:
    path = tmp_path / "broken.json"
    path.write_text(json.dumps({"content_type": "text/csv", "body": "1,2", "expect": expect}))
    with pytest.raises(PayloadError, match=f"broken.json: {message}"):
        load_payload(path)


def test_a_refused_request_reports_the_reason_given() -> None:
    payload = load_payloads(PAYLOADS)[0]
    problems = check_response(payload, 400, "unsupported content type 'text/plain'")
    assert problems == ["status 400, expected 200: unsupported content type 'text/plain'"]
