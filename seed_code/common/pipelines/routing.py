"""Which branch this build is for, and what a push to it does.

| branch      | build                                                            |
|-------------|------------------------------------------------------------------|
| feature-*   | train, register into the ``feature`` group                       |
| dev         | train, register into the ``dev`` group                           |
| prod        | no training: promote the dev model of the merged commit into the |
|             | production groups (baseline ``prod``; advanced ``champion`` and  |
|             | ``challenger``)                                                  |
| any other   | nothing                                                          |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pipelines.errors import BuildEnvironmentError
from pipelines.project import TRAINING_KINDS, Project

FEATURE_PREFIX = "feature-"
HEAD_REF_PREFIX = "refs/heads/"

Action = Literal["train", "promote", "skip"]


def branch_kind(branch: str) -> str | None:
    """``prod``, ``dev`` or ``feature`` for the branches that build; None for any other."""
    if branch in ("prod", "dev"):
        return branch
    if branch.startswith(FEATURE_PREFIX) and len(branch) > len(FEATURE_PREFIX):
        return "feature"
    return None


def branch_from_environment(environ: Mapping[str, str]) -> str:
    """The branch being built: ``SOURCE_BRANCH`` (set by the platform's training trigger),
    else the branch of ``CODEBUILD_WEBHOOK_HEAD_REF`` (``refs/heads/<branch>``)."""
    branch = environ.get("SOURCE_BRANCH", "").strip()
    if branch:
        return branch.removeprefix(HEAD_REF_PREFIX)
    head_ref = environ.get("CODEBUILD_WEBHOOK_HEAD_REF", "").strip()
    if head_ref.startswith(HEAD_REF_PREFIX):
        return head_ref[len(HEAD_REF_PREFIX) :]
    raise BuildEnvironmentError(
        "cannot tell which branch to build: set SOURCE_BRANCH=<branch> "
        "(or CODEBUILD_WEBHOOK_HEAD_REF=refs/heads/<branch>)"
    )


def commit_from_environment(environ: Mapping[str, str]) -> str:
    """The commit being built: ``CODEBUILD_RESOLVED_SOURCE_VERSION``."""
    commit = environ.get("CODEBUILD_RESOLVED_SOURCE_VERSION", "").strip()
    if not commit:
        raise BuildEnvironmentError(
            "cannot tell which commit is built: CODEBUILD_RESOLVED_SOURCE_VERSION is not set"
        )
    return commit


@dataclass(frozen=True)
class BuildPlan:
    branch: str
    commit: str
    action: Action
    kind: str | None
    # Training: the one group the pipeline registers into. Promotion: the groups copied into.
    target_groups: tuple[str, ...]
    source_group: str | None = None

    def describe(self) -> str:
        if self.action == "skip":
            return (
                f"branch {self.branch!r} is not prod, dev or feature-*: nothing to build "
                "(push to a feature-<name> branch to train)"
            )
        if self.action == "train":
            return (
                f"branch {self.branch!r} ({self.kind}): train commit {self.commit[:12]} and "
                f"register into {self.target_groups[0]}"
            )
        return (
            f"branch {self.branch!r}: promote the model of commit {self.commit[:12]} (or its "
            f"nearest ancestor) from {self.source_group} into {', '.join(self.target_groups)}; "
            "no training"
        )


def plan_build(project: Project, branch: str, commit: str) -> BuildPlan:
    kind = branch_kind(branch)
    if kind is None:
        return BuildPlan(branch, commit, "skip", None, ())
    if kind in TRAINING_KINDS:
        return BuildPlan(branch, commit, "train", kind, (project.model_group(kind),))
    return BuildPlan(
        branch,
        commit,
        "promote",
        kind,
        tuple(project.model_group(k) for k in project.production_kinds),
        source_group=project.model_group("dev"),
    )
