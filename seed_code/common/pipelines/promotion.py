"""Promotion: a push to ``prod`` copies a dev model into production, without retraining.

1. Read the commits reachable from the pushed ``prod`` commit (itself first,
   then its ancestors, newest first).
2. Pick the model of the ``dev`` group trained from the newest of those
   commits. Several models of that commit: approved before pending, then the
   newest. Rejected models are never promoted.
3. Copy it into each production group (baseline ``prod``; advanced
   ``champion`` and ``challenger``): same artifacts, container, metrics and
   lineage, plus ``promoted_from`` (the source) and ``promoted_commit`` (the
   prod commit), with the production stage's approval status from
   deploy/config.yaml (default ``PendingManualApproval``).

Running it again changes nothing: a production group that already holds a copy
of the chosen model is left alone. When no dev model matches, the error says
which commits dev has models for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines import git_history, lineage
from pipelines.errors import PromotionError
from pipelines.model_registry import PENDING, ModelRegistry, ModelVersion
from pipelines.project import Project


@dataclass(frozen=True)
class Promotion:
    source: ModelVersion
    head_commit: str
    # target group -> reference of the copy made now, or found from an earlier run
    created: dict[str, str] = field(default_factory=dict)
    existing: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [
            f"promoting {self.source.ref} (commit {str(self.source.commit)[:12]}, "
            f"{self.source.approval_status}) for prod commit {self.head_commit[:12]}"
        ]
        lines += [f"  {group}: created {ref}" for group, ref in self.created.items()]
        lines += [
            f"  {group}: already promoted as {ref}, unchanged"
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
    if source is None:
        raise PromotionError(_nothing_to_promote(source_group, head_commit, history, candidates))

    created: dict[str, str] = {}
    existing: dict[str, str] = {}
    for target in targets:
        earlier = [m for m in registry.list_versions(target) if m.promoted_from == source.ref]
        if earlier:
            existing[target] = earlier[0].ref
            continue
        metadata = {
            **source.metadata,
            lineage.PROMOTED_FROM: source.ref,
            lineage.PROMOTED_COMMIT: head_commit,
        }
        description = f"Promoted from {source.ref} for prod commit {head_commit[:12]}"
        created[target] = registry.copy(source, target, metadata, approval_status, description)
    return Promotion(source, head_commit, created, existing)


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
