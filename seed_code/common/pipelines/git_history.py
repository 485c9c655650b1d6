"""The commits reachable from a commit, newest first, read with the ``git`` binary."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipelines.errors import PromotionError

DEFAULT_MAX_COMMITS = 500


def ancestors(commit: str, repo_dir: Path | str, max_count: int = DEFAULT_MAX_COMMITS) -> list[str]:
    """``commit`` and its ancestors (full ids), children before parents, newer before older.

    A shallow clone (CodeBuild's default depth is 1) is deepened first; when
    that is impossible the error says how to configure a full clone.
    """
    repo_dir = Path(repo_dir)
    if git_output(repo_dir, "rev-parse", "--is-shallow-repository").strip() == "true":
        try:
            git_output(repo_dir, "fetch", "--quiet", "--unshallow")
        except PromotionError as exc:
            raise PromotionError(
                f"{repo_dir} is a shallow clone and could not be deepened ({exc}); set the "
                "build's git clone depth to full so promotion can see the history of prod"
            ) from exc
    output = git_output(
        repo_dir, "rev-list", "--date-order", f"--max-count={max_count}", f"{commit}^{{commit}}"
    )
    return output.split()


def git_output(repo_dir: Path, *args: str) -> str:
    """What ``git -C repo_dir <args>`` prints; :class:`PromotionError` when it fails."""
    try:
        completed = subprocess.run(
            ["git", "-C", str(repo_dir), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    except FileNotFoundError as exc:
        raise PromotionError(
            "the git binary is not installed; promotion reads the git history"
        ) from exc
    if completed.returncode != 0:
        message = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise PromotionError(f"git {' '.join(args)} failed in {repo_dir}: {message[0]}")
    return completed.stdout
