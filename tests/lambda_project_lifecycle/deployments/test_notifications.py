"""Notifications: SNS always; the webhook only over https, from a secret in Secrets Manager."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from lambda_project_lifecycle.deployments.errors import WebhookError
from lambda_project_lifecycle.deployments.notifications import Notice, Notifier
from tests.support.deployments import WebhookListener

NOTICE = Notice("PASSED", "churn-model", "p-7gxpyr2wsl2k", "production", "sagemaker-x", "all good")


@pytest.fixture
def aws() -> Iterator[tuple[object, object, str]]:
    with mock_aws():
        sns = boto3.client("sns", region_name="us-east-1")
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        yield sns, secrets, sns.create_topic(Name="t")["TopicArn"]


def notifier(aws: tuple[object, object, str], secret: str, **options: object) -> Notifier:
    sns, secrets, topic = aws
    name = f"hook-{uuid.uuid4().hex[:8]}"
    arn = secrets.create_secret(Name=name, SecretString=secret)["ARN"]  # type: ignore[attr-defined]
    return Notifier(sns, topic, secrets=secrets, webhook_secret_arn=arn, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("form", ["plain", "json-url", "json-webhook_url"])
def test_the_webhook_url_may_be_plain_or_json(aws: tuple[object, object, str], form: str) -> None:
    url = "https://hooks.example.com/services/T/B/x"
    secret = {
        "plain": url,
        "json-url": json.dumps({"url": url}),
        "json-webhook_url": json.dumps({"webhook_url": url}),
    }[form]
    assert notifier(aws, secret).webhook_url() == url


@pytest.mark.parametrize(
    "secret",
    [
        "http://hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "hooks.example.com/x",
        "https://",
        "{not json",
        "https://hooks.example.com/services/T/B/x y",
        "https://hooks.example.com/services/T/B/x\tz",
        "https://hooks.example.com:port/services/T/B/x",
    ],
)
def test_anything_but_an_https_url_is_refused_without_revealing_it(
    aws: tuple[object, object, str], secret: str
) -> None:
    with pytest.raises(WebhookError) as raised:
        notifier(aws, secret).webhook_url()
    assert "/x" not in str(raised.value), "the URL's path may hold a token"


def test_delivery_over_tls_checks_the_certificate(aws: tuple[object, object, str]) -> None:
    listener = WebhookListener().start()
    try:
        trusted = notifier(aws, listener.url, ssl_context=listener.client_context)
        assert trusted.send(NOTICE).webhook == "sent (200)"
        assert listener.wait_for(1)[0]["body"] == {"text": NOTICE.text}
        untrusted = notifier(aws, listener.url, timeout=2.0)  # the system's CAs only
        assert untrusted.send(NOTICE).webhook.startswith("failed:")
        assert len(listener.posts) == 1
    finally:
        listener.stop()


def test_the_subject_fits_sns_limits() -> None:
    notice = Notice("PASSED", "é" * 40, "p-1", "production", "e", "s")
    assert len(notice.subject) <= 100
    assert notice.subject.isascii()


def test_a_url_the_http_client_cannot_use_fails_the_delivery_without_revealing_it(
    aws: tuple[object, object, str], caplog: pytest.LogCaptureFixture
) -> None:
    """urllib raises UnicodeError (not OSError) for this host; SNS still gets the notice."""
    hook = notifier(aws, "https://hooks..example.com/services/T000/B000/secret-token")

    delivery = hook.send(NOTICE)

    assert delivery.sns_message_id
    assert delivery.webhook.startswith("failed: UnicodeError")
    assert "secret-token" not in delivery.webhook
    assert "secret-token" not in caplog.text
