"""S3 bucket-policy statements conditioned on the signature version, which moto gets wrong.

moto evaluates a bucket policy for object requests without any condition values, and takes a
statement whose ``Condition`` it cannot check as matching: a ``Deny`` with a condition then
refuses every request. taskcat's own buckets carry exactly such a statement (deny
``s3:*`` when ``s3:signatureversion`` is ``AWS``, i.e. Signature Version 2), so every upload
of a taskcat run was refused. :class:`SignatureVersionConditions` evaluates, while the
emulator runs, the conditions on ``s3:signatureversion`` as S3 does for the requests the
emulator gets (all of them signed with ``AWS4-HMAC-SHA256``: botocore signs nothing else);
a statement whose condition cannot hold for them is left out, every other statement is
evaluated by moto as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket

from sandbox.emulator import Emulator

SIGNATURE_VERSION_KEY = "s3:signatureversion"
EMULATOR_SIGNATURE_VERSION = "AWS4-HMAC-SHA256"
# Condition operators on one string and what they say of the request's value.
STRING_TESTS: dict[str, Callable[[str, list[str]], bool]] = {
    "StringEquals": lambda value, expected: value in expected,
    "StringNotEquals": lambda value, expected: value not in expected,
    "StringEqualsIgnoreCase": lambda value, expected: (
        value.lower() in [e.lower() for e in expected]
    ),
    "StringNotEqualsIgnoreCase": lambda value, expected: (
        value.lower() not in [e.lower() for e in expected]
    ),
}


def can_hold(statement: dict[str, Any]) -> bool:
    """False when a condition on the signature version excludes the emulator's requests."""
    for operator, tests in (statement.get("Condition") or {}).items():
        test = STRING_TESTS.get(operator)
        if test is None or not isinstance(tests, dict):
            continue
        for key, expected in tests.items():
            if key.lower() != SIGNATURE_VERSION_KEY:
                continue
            values = [expected] if isinstance(expected, str) else list(expected)
            if not test(EMULATOR_SIGNATURE_VERSION, values):
                return False
    return True


def applicable_policy(policy: bytes) -> bytes:
    """The bucket policy without the statements that cannot hold for the emulator's requests;
    the statements left have no signature-version condition any more (moto cannot check it)."""
    document = json.loads(policy.decode())
    statements = document.get("Statement") or []
    statements = [statements] if isinstance(statements, dict) else statements
    kept = []
    for statement in statements:
        if not can_hold(statement):
            continue
        conditions = {
            operator: {k: v for k, v in tests.items() if k.lower() != SIGNATURE_VERSION_KEY}
            for operator, tests in (statement.get("Condition") or {}).items()
            if isinstance(tests, dict)
        }
        conditions = {operator: tests for operator, tests in conditions.items() if tests}
        kept.append(
            {
                **{k: v for k, v in statement.items() if k != "Condition"},
                **({"Condition": conditions} if conditions else {}),
            }
        )
    return json.dumps({**document, "Statement": kept}).encode()


class SignatureVersionConditions:
    """moto's bucket-policy check with signature-version conditions evaluated, while
    ``emulator`` runs."""

    def __init__(self, emulator: Emulator) -> None:
        self._original = FakeBucket.get_permission

        def get_permission(bucket: FakeBucket, action: str, resource: str) -> Any:
            if bucket.policy is None:
                return PermissionResult.NEUTRAL
            policy = IAMPolicy(applicable_policy(bucket.policy).decode())
            return policy.is_action_permitted(action, resource)

        FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
        emulator.on_stop(self.stop)

    def stop(self) -> None:
        FakeBucket.get_permission = self._original  # type: ignore[method-assign]
