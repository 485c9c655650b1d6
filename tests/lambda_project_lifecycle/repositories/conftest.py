"""Repository test fixtures: git servers, provider APIs, secrets, and a way to send events."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_project_lifecycle.lifecycle import handle_event
from portfolio_build.render import package_seed_code
from sandbox.cloudformation import LambdaContext, ResponseListener
from sandbox.git_server import GitHttpServer, basic_auth
from tests.lambda_project_lifecycle.conftest import (
    ARTIFACTS_BUCKET,
    SEED_CODE_KEYS,
    Emulated,
)
from tests.support.events import load_event
from tests.support.provider_apis import ProviderApiServer

PROJECT_NAME = "churn-model"
PROJECT_ID = "p-7gxpyr2wsl2k"
PREFIX = f"sagemaker-{PROJECT_NAME}-{PROJECT_ID}"
GIT_USER, GIT_PASSWORD = "ci-robot", "correct horse battery staple"
TOKEN = "ghp_0123456789abcdefTESTTOKEN"


class Lifecycle:
    """Sends CloudFormation requests for one project through the real handler."""

    def __init__(self, aws: Emulated, listener: ResponseListener) -> None:
        self.aws = aws
        self.listener = listener
        self.clients: Any = None

    def properties(self, **overrides: str) -> dict[str, str]:
        props = dict(load_event("cfn-project-lifecycle-create.json")["ResourceProperties"])
        props.update(overrides)
        return props

    def send(
        self,
        request: str,
        props: dict[str, Any],
        *,
        old: dict[str, Any] | None = None,
        physical_id: str | None = None,
    ) -> dict[str, Any]:
        event = load_event(
            f"cfn-project-lifecycle-{request.lower()}.json", ResponseURL=self.listener.url()
        )
        event["ResourceProperties"] = props
        if old is not None:
            event["OldResourceProperties"] = old
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        before = len(self.listener.answers)
        handle_event(
            event,
            LambdaContext(),
            clients=self.clients or self.aws.clients,
            settings=self.aws.settings,
        )
        return self.listener.wait_for(before + 1)[before]

    def create(self, **overrides: str) -> dict[str, Any]:
        return self.send("Create", self.properties(**overrides))

    def delete(self, answer: dict[str, Any] | None = None, **overrides: str) -> dict[str, Any]:
        physical = answer["PhysicalResourceId"] if answer else PREFIX
        return self.send("Delete", self.properties(**overrides), physical_id=physical)


@pytest.fixture
def lifecycle(aws: Emulated, cfn_listener: ResponseListener) -> Lifecycle:
    return Lifecycle(aws, cfn_listener)


@pytest.fixture
def git_home(aws: Emulated, tmp_path: Path) -> Iterator[GitHttpServer]:
    """A plain git server (any HTTPS git host) with one user."""
    root = tmp_path / "git-home"
    root.mkdir()
    tls = aws.authority.server_context()
    server = GitHttpServer(root, basic_auth(GIT_USER, GIT_PASSWORD), tls=tls).start()
    yield server
    server.stop()


@pytest.fixture
def hosted(aws: Emulated, tmp_path: Path) -> Iterator[ProviderApiServer]:
    """GitHub, GitLab and Bitbucket APIs over HTTPS, and the git server behind their clone
    URLs."""
    root = tmp_path / "hosted-git"
    root.mkdir()
    git = GitHttpServer(root, basic_auth("", ""), tls=aws.authority.server_context()).start()
    api = ProviderApiServer(git, TOKEN, tls=aws.authority.server_context()).start()
    yield api
    api.stop()
    git.stop()


def put_secret(aws: Emulated, name: str, value: Any) -> str:
    """A secret under the platform's prefix; dicts are stored as JSON."""
    text = value if isinstance(value, str) else json.dumps(value)
    return str(
        aws.secretsmanager.create_secret(Name=f"mlops-portfolio/{name}", SecretString=text)["ARN"]
    )


def use_seed_code(aws: Emulated, files: dict[str, tuple[str, bool]]) -> None:
    """Replace the baseline seed code with ``files`` (path -> (text, executable)), zipped by
    the build's own packaging."""
    with tempfile.TemporaryDirectory() as scratch:
        seed_dir = Path(scratch) / "seed_code"
        for path, (text, executable) in files.items():
            target = seed_dir / "common" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            target.chmod(0o755 if executable else 0o644)
        (seed_dir / "baseline").mkdir()
        artifacts = package_seed_code(Path(scratch) / "dist", seed_dir)
        baseline = next(a for a in artifacts if a.name == "baseline")
        aws.s3.put_object(
            Bucket=ARTIFACTS_BUCKET, Key=SEED_CODE_KEYS["baseline"], Body=baseline.path.read_bytes()
        )
