"""Fixtures shared by every test: no AWS credentials, no network beyond 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.cloudformation import ResponseListener


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region, so that nothing can reach a real AWS account."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


@pytest.fixture
def cfn_listener() -> Iterator[ResponseListener]:
    """A real HTTP listener on 127.0.0.1 at the events' ResponseURL."""
    listener = ResponseListener().start()
    yield listener
    listener.stop()
