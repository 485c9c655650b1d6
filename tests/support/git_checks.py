"""Look at a repository with the real ``git`` command, as a data scientist would after Create."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_AUTHOR_NAME": "Data Scientist",
    "GIT_AUTHOR_EMAIL": "ds@example.com",
    "GIT_COMMITTER_NAME": "Data Scientist",
    "GIT_COMMITTER_EMAIL": "ds@example.com",
}


def git(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result


@dataclass
class ClonedRepository:
    path: Path
    branches: dict[str, str]  # remote branch -> commit
    head: str  # the branch a plain clone checks out
    fsck: subprocess.CompletedProcess[str]
    modes: dict[str, str]  # path -> git mode of the checked-out commit
    commit_count: int
    author: str
    message: str

    def read(self, path: str) -> str:
        return (self.path / path).read_text()


def clone(source: str, workdir: Path) -> ClonedRepository:
    """``git clone`` (plain, so the remote's default branch is checked out), then inspect."""
    target = workdir / "clone"
    git("clone", "--quiet", source, str(target))
    remote = git("ls-remote", "--heads", source).stdout.split("\n")
    branches = {
        ref.split("refs/heads/", 1)[1]: sha
        for sha, ref in (line.split("\t") for line in remote if line.strip())
    }
    files = git("ls-files", "--stage", cwd=target).stdout.splitlines()
    return ClonedRepository(
        path=target,
        branches=branches,
        head=git("rev-parse", "--abbrev-ref", "HEAD", cwd=target).stdout.strip(),
        fsck=git("fsck", "--strict", "--no-dangling", cwd=target, check=False),
        modes={line.split("\t", 1)[1]: line.split()[0] for line in files},
        commit_count=int(git("rev-list", "--count", "--all", cwd=target).stdout),
        author=git("log", "-1", "--format=%an <%ae>", cwd=target).stdout.strip(),
        message=git("log", "-1", "--format=%B", cwd=target).stdout,
    )


def push_foreign_commit(url: str, workdir: Path, branch: str = "main") -> str:
    """Make a repository someone else already uses: one commit on ``branch``."""
    work = workdir / "foreign"
    git("init", "--quiet", f"--initial-branch={branch}", str(work))
    (work / "README.md").write_text("somebody else's work\n")
    git("add", "README.md", cwd=work)
    git("commit", "--quiet", "-m", "Their first commit", cwd=work)
    git("push", "--quiet", url, f"{branch}:{branch}", cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()
