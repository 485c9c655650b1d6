"""Telling people what happened: the platform SNS topic, and a Slack-compatible webhook.

Every notice goes to the topic as JSON, with message attributes (project id,
stage, status) that subscriptions can filter on. When the platform is given a
webhook secret, the notice also goes as ``{"text": ...}`` to the URL stored in
that Secrets Manager secret (plain URL, or JSON with a ``url`` key). Only
``https://`` URLs are used; the certificate is verified. The URL's path is a
credential (Slack's is), so no message or log line shows more of it than its
scheme and host.
"""

from __future__ import annotations

import json
import logging
import ssl
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from lambda_project_lifecycle.aws_calls import call
from lambda_project_lifecycle.deployments.errors import WebhookError
from lambda_project_lifecycle.errors import error_code

logger = logging.getLogger(__name__)

SUBJECT_MAX = 100  # SNS subject limit
WEBHOOK_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Notice:
    status: str  # STARTED, PASSED, FAILED, UNTESTED, ROLLED_BACK, REMOVED, WAITING, PENDING,
    # AWAITING_APPROVAL (passed in staging; production waits for a second approval)
    project_name: str
    project_id: str
    stage: str
    endpoint_name: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        text = f"[mlops] {self.project_name} {self.stage}: {self.status}"
        return text.encode("ascii", "replace").decode()[:SUBJECT_MAX]

    @property
    def text(self) -> str:
        return (
            f"{self.status}: {self.project_name} ({self.project_id}) {self.stage} endpoint "
            f"{self.endpoint_name}: {self.summary}"
        )

    def document(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "project_name": self.project_name,
            "project_id": self.project_id,
            "stage": self.stage,
            "endpoint_name": self.endpoint_name,
            "summary": self.summary,
            "details": self.details,
            "text": self.text,
        }


@dataclass
class Delivery:
    sns_message_id: str = ""
    webhook: str = "not configured"


class Notifier:
    def __init__(
        self,
        sns: Any,
        topic_arn: str,
        *,
        secrets: Any = None,
        webhook_secret_arn: str = "",
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = WEBHOOK_TIMEOUT_SECONDS,
    ) -> None:
        self._sns = sns
        self._topic_arn = topic_arn
        self._secrets = secrets
        self._webhook_secret_arn = webhook_secret_arn
        self._ssl_context = ssl_context
        self._timeout = timeout
        self.sent: list[Notice] = []

    def send(self, notice: Notice) -> Delivery:
        delivery = Delivery()
        url = ""
        if self._webhook_secret_arn:
            try:
                url = self.webhook_url()
            except WebhookError as exc:
                logger.error("Webhook not used: %s", exc)
                delivery.webhook = f"refused: {exc}"
        document = notice.document()
        if delivery.webhook.startswith("refused"):
            document["webhook"] = delivery.webhook
        reply = call(
            f"Publishing to {self._topic_arn}",
            self._sns.publish,
            TopicArn=self._topic_arn,
            Subject=notice.subject,
            Message=json.dumps(document, sort_keys=True, default=str),
            MessageAttributes={
                "project_id": {"DataType": "String", "StringValue": notice.project_id},
                "stage": {"DataType": "String", "StringValue": notice.stage},
                "status": {"DataType": "String", "StringValue": notice.status},
            },
        )
        delivery.sns_message_id = str(reply.get("MessageId", ""))
        if url:
            delivery.webhook = self._post(url, notice)
        self.sent.append(notice)
        logger.info("Notified %s (webhook: %s)", notice.text, delivery.webhook)
        return delivery

    def webhook_url(self) -> str:
        """The https URL from the webhook secret; :class:`WebhookError` when unusable."""
        if self._secrets is None:
            raise WebhookError("no Secrets Manager client to read the webhook secret")
        try:
            secret = self._secrets.get_secret_value(SecretId=self._webhook_secret_arn)
        except ClientError as exc:
            raise WebhookError(
                f"reading secret {self._webhook_secret_arn} failed: {error_code(exc)}"
            ) from exc
        value = str(secret.get("SecretString") or "").strip()
        if value.startswith("{"):
            try:
                document = json.loads(value)
            except ValueError:
                raise WebhookError(
                    f"secret {self._webhook_secret_arn} is neither a URL nor JSON"
                ) from None
            value = str(document.get("url") or document.get("webhook_url") or "")
        if any(char.isspace() or not char.isprintable() for char in value):
            raise WebhookError(
                f"the webhook URL in secret {self._webhook_secret_arn} contains spaces or "
                "control characters; store the URL alone"
            )
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise WebhookError(
                f"the webhook URL in secret {self._webhook_secret_arn} is not a valid URL"
            ) from None
        if parts.scheme != "https" or not parts.hostname:
            shown = f"{parts.scheme}://{parts.hostname}" if parts.scheme else "(no scheme)"
            raise WebhookError(
                f"the webhook URL in secret {self._webhook_secret_arn} is not https "
                f"({shown}); notifications are only sent over https"
            )
        return value

    def _post(self, url: str, notice: Notice) -> str:
        body = json.dumps({"text": notice.text}).encode()
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        context = self._ssl_context or ssl.create_default_context()
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=context) as reply:
                reply.read()
                return f"sent ({reply.status})"
        except Exception as exc:  # URLError, HTTPError, timeouts, TLS, InvalidURL, UnicodeError
            reason = _without_url(f"{type(exc).__name__}: {exc}", url)
            logger.error("Webhook delivery failed: %s", reason)  # no traceback: it holds the URL
            return f"failed: {reason}"


def _without_url(text: str, url: str) -> str:
    """``text`` with the URL, and its path, replaced by the URL's scheme and host."""
    parts = urlsplit(url)
    text = text.replace(url, f"{parts.scheme}://{parts.hostname}/...")
    if parts.path not in ("", "/"):
        text = text.replace(parts.path, "/...")
    return text
