"""Verifying an MLflow webhook delivery: signature, timestamp, delivery id.

MLflow 3 signs each delivery with the webhook's secret: ``X-MLflow-Signature`` is
``v1,<base64 HMAC-SHA256>`` over ``"{delivery id}.{timestamp}.{raw body}"``, with
``X-MLflow-Delivery-Id`` and ``X-MLflow-Timestamp`` (Unix seconds) beside it. A
delivery whose timestamp is more than :data:`MAX_AGE_SECONDS` away from now is
refused, so a captured request cannot be replayed later; a repeated delivery id within
that window is caught by the caller's record of deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from lambda_project_lifecycle.deployments.errors import DeploymentError

SIGNATURE_HEADER = "x-mlflow-signature"
TIMESTAMP_HEADER = "x-mlflow-timestamp"
DELIVERY_ID_HEADER = "x-mlflow-delivery-id"
SIGNATURE_VERSION = "v1"
MAX_AGE_SECONDS = 300
MAX_DELIVERY_ID_LENGTH = 128


class UnauthenticatedDeliveryError(DeploymentError):
    """The delivery is unsigned, badly signed or too old: answered 401, never acted on."""


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    timestamp: int
    body: str


def signature(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    digest = hmac.new(
        secret.encode(), f"{delivery_id}.{timestamp}.{body}".encode(), hashlib.sha256
    ).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def verify(headers: Mapping[str, str], body: str, secret: str, now: datetime) -> Delivery:
    """The delivery, when signed with ``secret`` at most five minutes from ``now``."""
    given = {key.lower(): value for key, value in headers.items()}
    missing = [
        name
        for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_ID_HEADER)
        if not given.get(name)
    ]
    if missing:
        raise UnauthenticatedDeliveryError(f"header(s) {', '.join(missing)} missing")
    delivery_id, stamp = given[DELIVERY_ID_HEADER], given[TIMESTAMP_HEADER]
    if len(delivery_id) > MAX_DELIVERY_ID_LENGTH:
        raise UnauthenticatedDeliveryError(
            f"header {DELIVERY_ID_HEADER} is over {MAX_DELIVERY_ID_LENGTH} characters"
        )
    if not stamp.isdigit():
        raise UnauthenticatedDeliveryError(f"header {TIMESTAMP_HEADER} is not Unix seconds")
    expected = signature(secret, delivery_id, stamp, body)
    if not hmac.compare_digest(expected.encode(), given[SIGNATURE_HEADER].strip().encode()):
        raise UnauthenticatedDeliveryError(
            f"header {SIGNATURE_HEADER} does not match the body (tampered, or another secret)"
        )
    age = now.timestamp() - int(stamp)
    if abs(age) > MAX_AGE_SECONDS:
        raise UnauthenticatedDeliveryError(
            f"delivery {delivery_id} was signed {int(age)} s from now; at most "
            f"{MAX_AGE_SECONDS} s are accepted"
        )
    return Delivery(delivery_id, int(stamp), body)
