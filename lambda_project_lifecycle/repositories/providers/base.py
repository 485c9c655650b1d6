"""What every repository provider offers, and what it hands back."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.naming import PROJECT_ID_TAG
from lambda_project_lifecycle.project import ProjectSpec
from lambda_project_lifecycle.repositories.git_transport import GitEndpoint
from lambda_project_lifecycle.repositories.settings import RepositorySettings
from lambda_project_lifecycle.repositories.sigv4 import AwsCredentials, git_password, git_username

DELETED_TAG = "sagemaker:project-deleted"  # CodeCommit tag key; value: when
DELETED_TOPIC = "sagemaker-project-deleted"  # GitHub and GitLab topic


def ownership_marker(project_id: str) -> str:
    """Written into the description of a repository the platform made for a project."""
    return f"{PROJECT_ID_TAG}={project_id}"


def is_marked_for(text: str, project_id: str) -> bool:
    """Whether ``text`` carries the ownership marker of exactly ``project_id``.

    Whole ids only: the marker of ``p-abc`` is not the marker of ``p-abcd``.
    """
    pattern = rf"{re.escape(PROJECT_ID_TAG)}=([A-Za-z0-9-]+)"
    return project_id in re.findall(pattern, text)


def description(spec: ProjectSpec) -> str:
    return (
        f"Model code of SageMaker project {spec.project_name} "
        f"({ownership_marker(spec.project_id)}), made by mlops-portfolio."
    )


@dataclass
class RepositoryContext:
    """What a provider works with: the project, its settings, clients and location."""

    spec: ProjectSpec
    settings: RepositorySettings
    clients: AwsClients
    region: str
    account_id: str
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def aws_credentials(self) -> AwsCredentials:
        access_key, secret_key, token = self.clients.credentials()
        return AwsCredentials(access_key, secret_key, token)

    def signed_endpoint(self, url: str, *, region: str, credentials_from: str) -> GitEndpoint:
        """``url`` reached with a git-http password the Lambda role's credentials sign (SigV4)."""
        parts = urlsplit(url)
        credentials = self.aws_credentials()
        return GitEndpoint(
            url=url,
            username=git_username(credentials),
            password=git_password(
                credentials,
                host=parts.hostname or "",
                path=parts.path,
                region=region,
                when=self.now(),
            ),
            http=self.clients.http,
            credentials_from=credentials_from,
        )


@dataclass
class Repository:
    """A project's repository as a provider found or made it."""

    provider: str
    name: str
    clone_url: str  # HTTPS, without credentials: what CodeBuild and people clone
    endpoint: GitEndpoint  # how the Lambda reaches it
    ours: bool  # made for this project by the platform: Delete may tag or delete it
    created_now: bool = False
    web_url: str = ""
    source_type: str = ""  # CodeBuild source type; empty when no training project is made
    handle: dict[str, Any] = field(default_factory=dict)  # provider's own ids


class RepositoryProvider(Protocol):
    # False: the provider only pushes to a repository someone else made, and never tags or
    # deletes it; Delete then leaves the repository alone without a call (nor credentials).
    manages_repositories: bool

    def prepare(self) -> None:
        """Read credentials and check the provider's settings; makes nothing."""

    def ensure(self) -> Repository:
        """Find the project's repository, or make it where the provider can."""

    def find(self) -> Repository | None:
        """The project's repository if it exists (or cannot be told apart from existing)."""

    def delete(self, repository: Repository) -> bool:
        """Delete the repository; False where the provider offers no way to."""

    def mark_deleted(self, repository: Repository) -> bool:
        """Tag the repository as left by a deleted project; False where there are no tags."""
