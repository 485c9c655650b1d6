"""Repository providers: one class per way of reaching a repository, behind one interface."""

from __future__ import annotations

from lambda_project_lifecycle.repositories.providers.base import (
    Repository,
    RepositoryContext,
    RepositoryProvider,
)
from lambda_project_lifecycle.repositories.providers.codecommit import CodeCommitRepositories
from lambda_project_lifecycle.repositories.providers.connection import ConnectionRepositories
from lambda_project_lifecycle.repositories.providers.hosted_api import HostedTokenRepositories
from lambda_project_lifecycle.repositories.providers.plain_git import PlainGitRepositories


def provider_for(context: RepositoryContext) -> RepositoryProvider:
    settings = context.settings
    if settings.provider == "codecommit":
        return CodeCommitRepositories(context)
    if settings.provider == "git":
        return PlainGitRepositories(context)
    if settings.uses_connection:
        return ConnectionRepositories(context)
    return HostedTokenRepositories(context)


__all__ = ["Repository", "RepositoryContext", "RepositoryProvider", "provider_for"]
