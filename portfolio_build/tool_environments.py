"""A pinned tool in a virtualenv of its own, made by the command that needs it when missing.

Some checkers pin libraries this project pins differently (checkov pins its own boto3), so
each gets a virtualenv beside the project's: ``.venv-<tool>/``, installed from a list that
pins every package (``pip install --no-deps``: no resolution, the same packages on every
machine). The list's digest is written into the virtualenv last; a virtualenv without it,
or with another list's digest (a half-made one, an upgrade), is made again. Once made, the
tool runs offline. Concurrent builds (parallel tests) take turns through a lock file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

from portfolio_build.errors import BuildError

REPO_ROOT = Path(__file__).resolve().parent.parent
DIGEST_FILE = "requirements.sha256"
PIP_TAIL_LINES = 5


class ToolEnvironmentError(BuildError):
    """A tool's virtualenv could not be made; the message says which and why."""


@dataclass(frozen=True)
class ToolEnvironment:
    """``name``'s virtualenv at ``directory``, installed from the pinned list ``requirements``."""

    name: str
    requirements: Path
    directory: Path

    @classmethod
    def beside_project(cls, name: str, requirements: Path) -> ToolEnvironment:
        return cls(name, requirements, REPO_ROOT / f".venv-{name}")

    @property
    def python(self) -> Path:
        return self.directory / "bin" / "python"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.requirements.read_bytes()).hexdigest()

    def is_ready(self) -> bool:
        marker = self.directory / DIGEST_FILE
        return self.python.exists() and marker.is_file() and marker.read_text() == self.digest

    def ensure(self) -> Path:
        """The virtualenv's python; makes the virtualenv first when it is missing or stale."""
        if self.is_ready():
            return self.python
        lock_path = self.directory.with_name(self.directory.name + ".lock")
        with lock_path.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.is_ready():  # another build may have made it meanwhile
                self._make()
        return self.python

    def _make(self) -> None:
        print(
            f"Making {self.directory.name}/ for {self.name} from {self.requirements.name} "
            "(once; a few minutes) ...",
            file=sys.stderr,
            flush=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(self.directory)
        result = subprocess.run(
            [
                str(self.python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--requirement",
                str(self.requirements),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines()
            errors = [line for line in lines if line.startswith("ERROR")] or lines
            tail = " | ".join(errors[-PIP_TAIL_LINES:])
            raise ToolEnvironmentError(
                f"could not install {self.name} into {self.directory} from "
                f"{self.requirements} (pip exit {result.returncode}): {tail}"
            )
        (self.directory / DIGEST_FILE).write_text(self.digest)
