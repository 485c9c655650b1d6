"""Fixtures of the emulator support tests: function code zipped as Lambda receives it."""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tests.seed_code.conftest  # noqa: F401 - puts the seed's packages (pipelines, steps) on sys.path
from sandbox.emulator import Emulator
from sandbox.tls import CertificateAuthority
from tests.support.network import loopback_only

FUNCTIONS_DIR = Path(__file__).parent / "functions"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """One emulator for a test module, nothing but 127.0.0.1 reachable from this process."""
    with loopback_only(), Emulator() as running:
        yield running


def git_environment(home: Path, authority: CertificateAuthority | None = None) -> dict[str, str]:
    """What the ``git`` command of a data scientist needs here: a home, a name, the CA."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        **(authority.environment() if authority is not None else {}),
    }


def git(work: Path, environment: dict[str, str], *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=work, env=environment, capture_output=True, text=True, check=True
    ).stdout.strip()


def commit_files(
    work: Path, environment: dict[str, str], branch: str, files: dict[str, str]
) -> str:
    """A new repository in ``work`` with ``files`` committed on ``branch``; the commit id."""
    git(work, environment, "init", "-q", "-b", branch)
    for name, text in files.items():
        (work / name).write_text(text)
    git(work, environment, "add", *files)
    git(work, environment, "commit", "-qm", f"add {', '.join(files)}")
    return git(work, environment, "rev-parse", "HEAD")


def zip_of(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def function_code(*names: str, extra: dict[str, str] | None = None) -> bytes:
    """A zip of the named files under tests/sandbox/functions, and ``extra`` files."""
    files: dict[str, str | bytes] = {name: (FUNCTIONS_DIR / name).read_text() for name in names}
    files.update(extra or {})
    return zip_of(files)


def lambda_role(emulator: Emulator) -> str:
    iam = emulator.client("iam")
    try:
        return str(iam.get_role(RoleName="function-role")["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(
            iam.create_role(RoleName="function-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        )


def deploy(
    emulator: Emulator, name: str, handler: str, code: bytes, **options: Any
) -> dict[str, Any]:
    """CreateFunction from a zip in S3, as a stack would make it."""
    s3 = emulator.client("s3")
    bucket = "function-code"
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=f"{name}.zip", Body=code)
    return dict(
        emulator.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=lambda_role(emulator),
            Handler=handler,
            Code={"S3Bucket": bucket, "S3Key": f"{name}.zip"},
            **options,
        )
    )
