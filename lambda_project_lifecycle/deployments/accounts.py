"""Which account a stage deploys into: the clients for the stage's account.

The deployment engine reads and writes the project registry, the project data
bucket and the notices with the platform's own clients; it makes a stage's models,
endpoint configs, endpoints, alarms and scaling, runs its integration tests and
finds the role its models run as with the clients :meth:`StageAccounts.clients`
gives for that stage. Every stage is in the platform's own account
(:class:`SameAccount`) unless the engine is given other accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from lambda_project_lifecycle.clients import AwsClients


class StageAccounts(Protocol):
    def clients(self, stage: str) -> AwsClients:
        """The clients of the account that hosts ``stage``'s endpoint."""
        ...


@dataclass(frozen=True)
class SameAccount:
    """Every stage is hosted in the platform's own account."""

    platform: AwsClients

    def clients(self, stage: str) -> AwsClients:
        return self.platform
