"""Errors about a project's repository; each message names the parameter or the repository."""

from __future__ import annotations

from lambda_project_lifecycle.errors import LifecycleError, ProjectConflictError


class RepositoryError(LifecycleError):
    """The repository could not be reached, created, seeded or removed."""


class RepositoryAccessError(RepositoryError):
    """Credentials were missing, unreadable or refused."""


class RepositoryConflictError(ProjectConflictError):
    """A repository exists, holds commits, and they are not this project's seed."""


def left_behind(repository: str, error: BaseException) -> str:
    """The words for a repository a failed request made and could not delete again."""
    return (
        f"the repository {repository} this request made could not be deleted again ({error}); "
        "delete it by hand"
    )
