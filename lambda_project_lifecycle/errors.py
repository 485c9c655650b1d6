"""The exception tree of the lifecycle Lambda.

Every error a user can act on derives from :class:`LifecycleError`; its message
is what CloudFormation shows as the reason of a FAILED answer, so it names the
field, the resource or the limit involved.
"""

from __future__ import annotations

from botocore.exceptions import ClientError


class LifecycleError(Exception):
    """Root of the errors the lifecycle Lambda raises on purpose."""


class InvalidProjectError(LifecycleError):
    """The project's properties break a rule (name pattern, length, choice)."""


class ProjectConflictError(LifecycleError):
    """A resource the project needs exists already and belongs to someone else."""


class AwsCallError(LifecycleError):
    """An AWS call failed; wraps the ClientError once, keeping its code."""

    def __init__(self, action: str, error: ClientError) -> None:
        self.action = action
        self.code = error_code(error)
        message = error.response.get("Error", {}).get("Message", str(error))
        super().__init__(f"{action} failed: {self.code}: {message}")


def error_code(error: ClientError) -> str:
    """The service's error code of ``error`` (branch on this, never on message text)."""
    return str(error.response.get("Error", {}).get("Code", "Unknown"))
