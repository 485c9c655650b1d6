"""Errors about a project's repository; each message names the parameter or the repository."""

from __future__ import annotations

from lambda_project_lifecycle.errors import LifecycleError, ProjectConflictError


class RepositoryError(LifecycleError):
    """The repository could not be reached, created, seeded or removed."""


class RepositoryAccessError(RepositoryError):
    """Credentials were missing, unreadable or refused."""


class RepositoryConflictError(ProjectConflictError):
    """A repository exists, holds commits, and they are not this project's seed."""
