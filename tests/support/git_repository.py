"""A real git repository in a temporary directory, driven with the ``git`` binary."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitRepository:
    """Commits get strictly increasing dates, so "newest first" is well defined."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._clock = 1_700_000_000
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", "--initial-branch=prod")

    def git(self, *args: str) -> str:
        self._clock += 60
        stamp = f"{self._clock} +0000"
        environment = {
            **os.environ,
            "GIT_AUTHOR_NAME": "Data Scientist",
            "GIT_AUTHOR_EMAIL": "ds@example.com",
            "GIT_COMMITTER_NAME": "Data Scientist",
            "GIT_COMMITTER_EMAIL": "ds@example.com",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.path),
        }
        completed = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        return completed.stdout.strip()

    def commit(self, message: str) -> str:
        marker = self.path / "CHANGES.md"
        with marker.open("a") as changes:
            changes.write(message + "\n")
        self.git("add", "-A")
        self.git("commit", "--quiet", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def checkout(self, branch: str, create: bool = False) -> None:
        self.git("checkout", "--quiet", *(["-b"] if create else []), branch)

    def merge(self, branch: str, message: str) -> str:
        self.git("merge", "--quiet", "--no-ff", "-m", message, branch)
        return self.head()
