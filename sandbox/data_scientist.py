"""A data scientist's clone of a project repository, worked with the ``git`` command.

Clones, commits, merges and pushes run the real ``git`` binary against CodeCommit's
git endpoint (HTTPS with the run's CA, CodeCommit's SigV4 password in the URL, as
its credential helper would give it), in a home of its own: nothing of this
machine's git configuration is read.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sandbox.codecommit_git import CodeCommitGitEndpoint
from sandbox.tls import CertificateAuthority

AUTHOR = {"name": "Ada Lovelace", "email": "ada@example.com"}


class GitCommandError(Exception):
    """A git command failed; the message is its command line and what it printed."""


def git_environment(home: Path, authority: CertificateAuthority) -> dict[str, str]:
    """A home, a name and the run's CA: what the git command needs here, and nothing else."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": AUTHOR["name"],
        "GIT_AUTHOR_EMAIL": AUTHOR["email"],
        "GIT_COMMITTER_NAME": AUTHOR["name"],
        "GIT_COMMITTER_EMAIL": AUTHOR["email"],
        **authority.environment(),
    }


class Clone:
    """One working copy of ``repository`` in ``directory``."""

    def __init__(
        self,
        endpoint: CodeCommitGitEndpoint,
        authority: CertificateAuthority,
        repository: str,
        directory: Path,
    ) -> None:
        self.endpoint = endpoint
        self.repository = repository
        self.directory = directory
        self.home = directory.parent / f".home-{directory.name}"
        self.home.mkdir(parents=True, exist_ok=True)
        self.environment = git_environment(self.home, authority)

    @classmethod
    def of(
        cls,
        endpoint: CodeCommitGitEndpoint,
        authority: CertificateAuthority,
        repository: str,
        directory: Path,
    ) -> Clone:
        clone = cls(endpoint, authority, repository, directory)
        clone.run("clone", "--quiet", endpoint.authenticated_url(repository), str(directory))
        return clone

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.directory if self.directory.is_dir() else self.directory.parent,
            env=self.environment,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            shown = " ".join(a for a in args if "@" not in a)
            raise GitCommandError(f"git {shown}: {(done.stderr or done.stdout).strip()}")
        return done.stdout.strip()

    def branches(self) -> list[str]:
        """The remote's branches, as ``git ls-remote`` lists them."""
        listed = self.run("ls-remote", "--heads", self.endpoint.authenticated_url(self.repository))
        return sorted(line.split("refs/heads/", 1)[1] for line in listed.splitlines() if line)

    def commit(self, message: str, files: dict[str, str]) -> str:
        """Write ``files`` (relative path -> text), commit them; the commit id."""
        for name, text in files.items():
            path = self.directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.run("add", *files)
        self.run("commit", "--quiet", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.run("rev-parse", "HEAD")

    def switch(self, branch: str, *, create: bool = False) -> None:
        if create:
            self.run("switch", "--quiet", "-c", branch)
        else:
            self.run("switch", "--quiet", branch)
            self.run("pull", "--quiet", "--ff-only", "origin", branch)

    def merge(self, branch: str) -> str:
        """Merge ``branch`` into the current branch with a merge commit; its id."""
        self.run("merge", "--quiet", "--no-ff", "--no-edit", branch)
        return self.head()

    def push(self, branch: str) -> None:
        self.run("push", "--quiet", self.endpoint.authenticated_url(self.repository), branch)
