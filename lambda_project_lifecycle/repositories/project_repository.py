"""A project's repository through its life: make and seed it, reconcile it, remove it.

Create: read credentials and build the seed commit first (a bad secret or a
missing seed zip fails before anything is made) -> find or make the repository
-> seed it: an empty repository gets one commit on ``prod`` and ``dev`` in one
push; a repository whose ``prod`` is already this project's seed commit is
taken as is (a retried Create); any other repository with commits is left
untouched and the Create fails. If seeding fails, a repository made by this
request is deleted again (so is it when a later step of the Create fails).

Update: a repository with commits is left alone, and the seed code is read only
to seed a missing or empty one; when the provider cannot be asked, the
repository the registry recorded on the last success stands.

Delete: ``delete-all`` deletes a repository the platform made for the project;
``retain-data`` keeps it and tags it as left by a deleted project (where the
provider has tags). Repositories the platform did not make for the project are
never tagged or deleted (an empty one is seeded, though).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from lambda_project_lifecycle.custom_resource import Checkpoint, no_checkpoint
from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.repositories import git_transport
from lambda_project_lifecycle.repositories.errors import (
    RepositoryConflictError,
    RepositoryError,
    left_behind,
)
from lambda_project_lifecycle.repositories.providers import (
    Repository,
    RepositoryContext,
    RepositoryProvider,
    provider_for,
)
from lambda_project_lifecycle.repositories.seed import BRANCHES, SeedCommit, is_seed_of

logger = logging.getLogger(__name__)


@dataclass
class ProjectRepository:
    """The repository a Create or Update ended with, and how to undo what that request did."""

    repository: Repository
    provider: RepositoryProvider
    commit_id: str  # the seed commit (or prod's tip for an existing repository on Update)
    pushed: list[str] = field(default_factory=list)  # branches this request created

    def undo(self) -> str:
        """Delete the repository if this request made it; what was left behind, or "".

        Best effort: a failure is logged and described (for the FAILED answer's reason).
        A repository the request did not make keeps its seed commit: git hosts refuse to
        delete a repository's default branch, and a retried Create of the project takes
        the seed as its own and carries on.
        """
        if not self.repository.created_now:
            return ""
        try:
            self.provider.delete(self.repository)
        except Exception as exc:
            logger.exception(
                "Could not delete repository %s made by this request", self.repository.name
            )
            return left_behind(self.repository.name, exc)
        return ""

    def attributes(self) -> dict[str, str]:
        return {
            "RepositoryProvider": self.repository.provider,
            "RepositoryName": self.repository.name,
            "RepositoryCloneUrl": self.repository.clone_url,
            "RepositoryWebUrl": self.repository.web_url,
            "SeedCommit": self.commit_id,
            "TrainingSourceType": self.repository.source_type,
        }


def ensure_project_repository(
    context: RepositoryContext,
    seed: Callable[[], SeedCommit],
    *,
    reconcile: bool = False,
    recorded: ProjectRepository | None = None,
    checkpoint: Checkpoint = no_checkpoint,
) -> ProjectRepository:
    """Make (or find) and seed the project's repository.

    ``reconcile`` (Update): a repository with commits is left alone whatever
    they are; only a missing or empty one is made and seeded, and only then is
    the seed code read. ``recorded`` is the repository as the registry holds it
    from the last success: when the provider cannot be asked (a deleted or
    rotated secret, a connection no longer AVAILABLE, an unreachable host), the
    Update keeps it rather than fail. ``checkpoint`` runs before each change.
    """
    provider = provider_for(context)
    if reconcile:
        return _reconcile(context, provider, seed, recorded, checkpoint)
    provider.prepare()
    seed_commit = seed()  # a bad secret or seed zip fails before anything is made
    checkpoint("making the repository")
    repository = provider.ensure()
    return _seeded(
        context, provider, repository, lambda: seed_commit, reconcile=False, checkpoint=checkpoint
    )


def _reconcile(
    context: RepositoryContext,
    provider: RepositoryProvider,
    seed: Callable[[], SeedCommit],
    recorded: ProjectRepository | None,
    checkpoint: Checkpoint,
) -> ProjectRepository:
    try:
        provider.prepare()
        checkpoint("making the repository if it is missing")
        repository = provider.ensure()
        branches = (
            {} if repository.created_now else git_transport.list_branches(repository.endpoint)
        )
    except LifecycleError as exc:
        if recorded is None:
            raise
        logger.warning(
            "Keeping repository %s as the registry records it; the provider could not be asked: %s",
            recorded.repository.name,
            exc,
        )
        return recorded
    if branches:
        logger.info("Repository %s has commits; an Update leaves it alone", repository.name)
        seed_commit = recorded.commit_id if recorded else branches.get("prod", b"").decode()
        return ProjectRepository(repository, provider, seed_commit)
    return _seeded(context, provider, repository, seed, reconcile=True, checkpoint=checkpoint)


def _seeded(
    context: RepositoryContext,
    provider: RepositoryProvider,
    repository: Repository,
    seed: Callable[[], SeedCommit],
    *,
    reconcile: bool,
    checkpoint: Checkpoint,
) -> ProjectRepository:
    """Seed ``repository``; a repository this request made is deleted again if that fails
    (also when the request was answered meanwhile)."""
    try:
        commit_id, pushed = _seed(repository, seed, context.spec.project_id, reconcile, checkpoint)
    except Exception as exc:
        if repository.created_now:
            logger.info(
                "Seeding failed: deleting repository %s made by this request", repository.name
            )
            left = ProjectRepository(repository, provider, "").undo()
            if left and isinstance(exc, LifecycleError):
                raise RepositoryError(f"{exc}; {left}") from exc
        raise
    return ProjectRepository(repository, provider, commit_id, pushed)


def _seed(
    repository: Repository,
    seed: Callable[[], SeedCommit],
    project_id: str,
    reconcile: bool,
    checkpoint: Checkpoint,
) -> tuple[str, list[str]]:
    endpoint = repository.endpoint
    branches = git_transport.list_branches(endpoint)
    if not branches:
        commit = seed()
        checkpoint(f"pushing the seed commit to {repository.name}")
        git_transport.push(
            endpoint, dict.fromkeys(BRANCHES, commit.commit_id), commit.pack_data, expected_old={}
        )
        logger.info(
            "Seeded %s with %d files at %s on %s",
            repository.name,
            commit.files,
            commit.commit_id.decode(),
            ", ".join(BRANCHES),
        )
        return commit.commit_id.decode(), list(BRANCHES)
    prod = branches.get("prod")
    if reconcile:
        logger.info("Repository %s has commits; an Update leaves it alone", repository.name)
        return (prod or b"").decode(), []
    if prod is not None and is_seed_of(git_transport.read_commit(endpoint, prod), project_id):
        missing = [branch for branch in BRANCHES if branch not in branches]
        if missing:
            checkpoint(f"pushing {', '.join(missing)} to {repository.name}")
            git_transport.push(endpoint, dict.fromkeys(missing, prod), None, expected_old={})
        logger.info("Repository %s already holds this project's seed commit", repository.name)
        return prod.decode(), missing
    raise RepositoryConflictError(
        f"Repository {repository.clone_url} exists and is not empty (branches: "
        f"{', '.join(sorted(branches)[:10])}), and its prod branch is not this project's seed "
        "commit; it was left untouched. Use an empty repository or another name."
    )


@dataclass(frozen=True)
class RepositoryRemoval:
    outcome: str  # "deleted", "kept", "kept-tagged", "absent", "not-ours"
    name: str = ""


def remove_project_repository(
    context: RepositoryContext, *, delete_all: bool, checkpoint: Checkpoint = no_checkpoint
) -> RepositoryRemoval:
    """Delete or keep (and tag) the project's repository as ``OnDelete`` says."""
    provider = provider_for(context)
    if not provider.manages_repositories:
        # Nothing to delete or tag, so nothing to read: a deleted secret or a connection that
        # is no longer AVAILABLE does not stand in the way of the Delete.
        key = context.settings.registry_key()
        logger.info("Leaving repository %s: the platform did not make it", key)
        return RepositoryRemoval("not-ours", key)
    provider.prepare()
    repository = provider.find()
    if repository is None:
        return RepositoryRemoval("absent")
    if not repository.ours:
        logger.info("Leaving repository %s: the platform did not make it", repository.name)
        return RepositoryRemoval("not-ours", repository.name)
    checkpoint(f"{'deleting' if delete_all else 'tagging'} repository {repository.name}")
    if delete_all and provider.delete(repository):
        return RepositoryRemoval("deleted", repository.name)
    tagged = provider.mark_deleted(repository)
    return RepositoryRemoval("kept-tagged" if tagged else "kept", repository.name)
