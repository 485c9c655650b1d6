"""Promotion: a push to ``prod`` copies a dev model into production, without retraining.

1. Read the commits reachable from the pushed ``prod`` commit (itself first,
   then its ancestors, newest first).
2. Pick the model of the ``dev`` group trained from the newest of those
   commits. Several models of that commit: approved before pending, then the
   newest. Rejected models are skipped.
3. For each production group (baseline ``prod``; advanced ``champion`` and
   ``challenger``): if it already holds a model trained from that commit or a
   newer one of the history, leave it alone ("already promoted"). Rejecting
   the promoted model in ``dev`` therefore never brings back an older one, and
   a retried build never adds a second copy of the same commit, whichever of
   its dev models it picks.
4. Otherwise copy it: same artifacts, container, metrics and lineage, plus
   ``promoted_from`` (the source) and ``promoted_commit`` (the prod commit),
   as ``PendingManualApproval``. Then read the group again: when a build
   running at the same time copied the same commit first (a lower version),
   delete this copy and report that one. Only the copy that stays gets the
   production stage's approval status from deploy/config.yaml, so a second
   copy is never approved (and never deployed).

When no dev model matches and production holds nothing of the history, the
error says which commits dev has models for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipelines import git_history, lineage
from pipelines.errors import PromotionError
from pipelines.model_registry import PENDING, ModelRegistry, ModelVersion
from pipelines.project import Project


@dataclass(frozen=True)
class Promotion:
    source: ModelVersion | None  # None: no usable dev model, production already up to date
    head_commit: str
    # target group -> reference of the copy made now, or the one production already holds
    created: dict[str, str] = field(default_factory=dict)
    existing: dict[str, str] = field(default_factory=dict)
    # target group -> commit of the model production already holds
    existing_commits: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        head = self.head_commit[:12]
        if self.source is None:
            lines = [f"no usable dev model for prod commit {head}"]
        else:
            verb = "promoting" if self.created else "newest dev model"
            lines = [
                f"{verb} {self.source.ref} (commit {str(self.source.commit)[:12]}, "
                f"{self.source.approval_status}) for prod commit {head}"
            ]
        lines += [f"  {group}: created {ref}" for group, ref in self.created.items()]
        lines += [
            f"  {group}: already promoted as {ref} "
            f"(commit {self.existing_commits.get(group, '')[:12]}), unchanged"
            for group, ref in self.existing.items()
        ]
        return "\n".join(lines)


def choose_source(candidates: list[ModelVersion], history: list[str]) -> ModelVersion | None:
    """The model of the newest commit in ``history``; approved first, then newest."""
    by_commit: dict[str, list[ModelVersion]] = {}
    for candidate in candidates:
        if candidate.commit and not candidate.rejected:
            by_commit.setdefault(candidate.commit, []).append(candidate)
    for commit in history:
        options = by_commit.get(commit)
        if options:
            return min(options, key=lambda m: (not m.approved, -m.created.timestamp(), -m.version))
    return None


def held_copy(
    versions: Sequence[ModelVersion], history: list[str], oldest: int
) -> ModelVersion | None:
    """The model of ``versions`` trained from the newest commit of ``history[: oldest + 1]``.

    ``history`` is newest first, so these are ``history[oldest]`` and every
    newer commit. Several models of that commit: the first one (lowest
    version), which a concurrent build's copy gives way to. None when there is
    no model of those commits.
    """
    rank = {commit: index for index, commit in enumerate(history)}
    held = [v for v in versions if v.commit in rank and rank[str(v.commit)] <= oldest]
    if not held:
        return None
    return min(held, key=lambda v: (rank[str(v.commit)], v.version))


def promote(
    project: Project,
    head_commit: str,
    registry: ModelRegistry,
    repo_dir: Path | str,
    approval_status: str = PENDING,
    max_commits: int = git_history.DEFAULT_MAX_COMMITS,
) -> Promotion:
    source_group = project.model_group("dev")
    targets = [project.model_group(kind) for kind in project.production_kinds]
    history = git_history.ancestors(head_commit, repo_dir, max_commits)
    candidates = registry.list_versions(source_group)
    source = choose_source(candidates, history)
    # A production group holding a model of this commit or a newer one is up to date.
    oldest = history.index(str(source.commit)) if source else len(history) - 1
    held = {
        target: held_copy(registry.list_versions(target), history, oldest) for target in targets
    }
    if source is None and not all(held.values()):
        raise PromotionError(_nothing_to_promote(source_group, head_commit, history, candidates))

    created: dict[str, str] = {}
    existing: dict[str, str] = {}
    existing_commits: dict[str, str] = {}
    for target in targets:
        found = held[target]
        if found is None:
            assert source is not None  # checked above: otherwise every group holds a model
            ref, found = _copy_once(registry, source, target, head_commit, history, approval_status)
            if found is None:
                created[target] = ref
                continue
        existing[target] = found.ref
        existing_commits[target] = str(found.commit)
    return Promotion(source, head_commit, created, existing, existing_commits)


def _copy_once(
    registry: ModelRegistry,
    source: ModelVersion,
    target: str,
    head_commit: str,
    history: list[str],
    approval_status: str,
) -> tuple[str, ModelVersion | None]:
    """Copy ``source`` into ``target``: (the copy, None), or (the copy, the one it gave way to).

    Two builds of ``prod`` at once both find the group without the model and
    both copy it; the copy with the lower version stays, the other build
    deletes its own while it is still pending, so it is never deployed.
    """
    metadata = {
        **source.metadata,
        lineage.PROMOTED_FROM: source.ref,
        lineage.PROMOTED_COMMIT: head_commit,
    }
    description = f"Promoted from {source.ref} for prod commit {head_commit[:12]}"
    ref = registry.copy(source, target, metadata, PENDING, description)
    first = held_copy(registry.list_versions(target), history, history.index(str(source.commit)))
    if first is not None and first.ref != ref:
        try:
            registry.delete(ref)
        except PromotionError as exc:
            raise PromotionError(
                f"a build running at the same time promoted commit {str(first.commit)[:12]} "
                f"into {target} first ({first.ref}); the second copy {ref} made by this build "
                f"could not be deleted, delete it by hand ({exc})"
            ) from exc
        return ref, first
    if approval_status != PENDING:
        registry.set_approval_status(ref, approval_status)
    return ref, None


def _nothing_to_promote(
    group: str, head_commit: str, history: list[str], candidates: list[ModelVersion]
) -> str:
    usable = [c for c in candidates if c.commit and not c.rejected]
    known = sorted({str(c.commit)[:12] for c in usable})
    found = f"it has models of commits {', '.join(known)}" if known else "it has no usable model"
    return (
        f"nothing to promote: no model in {group} was trained from prod commit {head_commit[:12]} "
        f"or any of its {max(len(history) - 1, 0)} ancestors ({found}). Merge into dev first, "
        "let the dev pipeline register a model, then merge dev into prod."
    )
