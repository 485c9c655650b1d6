"""Errors of the deployment handlers; all derive from :class:`LifecycleError`."""

from __future__ import annotations

from lambda_project_lifecycle.errors import LifecycleError


class DeploymentError(LifecycleError):
    """A deployment cannot go ahead; the message says why and is what users are told."""


class DeployConfigError(DeploymentError):
    """The project's deployment config breaks its schema or a rule; names the key."""

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class InvalidEventError(DeploymentError):
    """An event lacks what its documented shape promises."""


class EndpointBusyError(DeploymentError):
    """SageMaker refuses to change or delete the endpoint while it is in progress (being
    created or updated, also by another invocation): busy, not failed."""

    def __init__(self, endpoint_name: str, status: str) -> None:
        self.endpoint_name = endpoint_name
        self.status = status
        super().__init__(
            f"endpoint {endpoint_name} is {status}; SageMaker changes or deletes it only "
            "once it is no longer in progress"
        )


class RecordConflictError(DeploymentError):
    """Another invocation changed the endpoint's registry record first; re-read and retry."""


class PayloadError(DeploymentError):
    """An integration-test payload is malformed; names the object."""


class WebhookError(DeploymentError):
    """The notification webhook is unusable (not https, unreadable secret, refused)."""


class StageAccountError(DeploymentError):
    """A stage's account cannot be reached as configured; names the account and the stage."""

    def __init__(self, stage: str, account: str, problem: str) -> None:
        self.stage = stage
        self.account = account
        super().__init__(f"stage {stage} (account {account or 'none'}): {problem}")
