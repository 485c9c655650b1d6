"""CodeCommit's git endpoint: HTTPS with the run's CA, SigV4 passwords, push events."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lambda_project_lifecycle.http_pool import new_pool_manager
from lambda_project_lifecycle.repositories.git_transport import GitEndpoint, list_branches
from lambda_project_lifecycle.repositories.sigv4 import AwsCredentials, git_password, git_username
from sandbox.codecommit_git import CodeCommitGitEndpoint
from sandbox.emulator import FAKE_CREDENTIALS, Emulator
from sandbox.event_delivery import EventBus
from sandbox.lambda_runtime import LambdaRuntime
from sandbox.tls import CertificateAuthority
from tests.sandbox.conftest import git_environment

EVENTS_DIR = Path(__file__).parents[1] / "events"


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def endpoint(
    emulator: Emulator, authority: CertificateAuthority, tmp_path_factory: pytest.TempPathFactory
) -> CodeCommitGitEndpoint:
    bus = EventBus(emulator, LambdaRuntime(emulator))
    return CodeCommitGitEndpoint(
        emulator, authority, events=bus, root=tmp_path_factory.mktemp("git")
    )


def git(*args: str, cwd: Path, authority: CertificateAuthority, check: bool = True) -> Any:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=git_environment(cwd, authority),
        capture_output=True,
        text=True,
        check=check,
    )


def commit(work: Path, authority: CertificateAuthority, name: str) -> str:
    (work / name).write_text(name)
    git("add", name, cwd=work, authority=authority)
    git("commit", "-qm", f"add {name}", cwd=work, authority=authority)
    return str(git("rev-parse", "HEAD", cwd=work, authority=authority).stdout.strip())


def test_clone_urls_point_at_the_local_https_endpoint(
    emulator: Emulator, endpoint: CodeCommitGitEndpoint
) -> None:
    codecommit = emulator.client("codecommit")

    created = codecommit.create_repository(repositoryName="sagemaker-urls")["repositoryMetadata"]
    read = codecommit.get_repository(repositoryName="sagemaker-urls")["repositoryMetadata"]

    expected = f"https://127.0.0.1:{endpoint.server.port}/v1/repos/sagemaker-urls"
    assert created["cloneUrlHttp"] == read["cloneUrlHttp"] == expected


def test_git_pushes_over_verified_tls_with_sigv4_credentials_only(
    emulator: Emulator,
    endpoint: CodeCommitGitEndpoint,
    authority: CertificateAuthority,
    tmp_path: Path,
) -> None:
    emulator.client("codecommit").create_repository(repositoryName="sagemaker-pushed")
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work, authority=authority)
    sha = commit(work, authority, "README.md")

    pushed = git(
        "push",
        endpoint.authenticated_url("sagemaker-pushed"),
        "main",
        cwd=work,
        authority=authority,
    )
    wrong = endpoint.authenticated_url("sagemaker-pushed").replace("Z", "Z0", 1)
    refused = git("ls-remote", wrong, cwd=work, authority=authority, check=False)
    untrusted = subprocess.run(
        ["git", "ls-remote", endpoint.authenticated_url("sagemaker-pushed")],
        cwd=work,
        env={"PATH": os.environ["PATH"], "HOME": str(work), "GIT_TERMINAL_PROMPT": "0"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert pushed.returncode == 0
    listed = git(
        "ls-remote", endpoint.authenticated_url("sagemaker-pushed"), cwd=work, authority=authority
    )
    assert f"{sha}\trefs/heads/main" in listed.stdout
    assert refused.returncode != 0 and "Authentication failed" in refused.stderr
    assert untrusted.returncode != 0 and "certificate" in untrusted.stderr.lower()


def test_the_products_sigv4_password_and_tls_verification_reach_the_endpoint(
    emulator: Emulator,
    endpoint: CodeCommitGitEndpoint,
    authority: CertificateAuthority,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the lifecycle Lambda does with its role's credentials, trusting the CA through
    # SSL_CERT_FILE as the Lambda runtime's environment sets it.
    for name, value in authority.environment().items():
        monkeypatch.setenv(name, value)
    metadata = emulator.client("codecommit").create_repository(repositoryName="sagemaker-product")[
        "repositoryMetadata"
    ]
    credentials = AwsCredentials(
        FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
    )
    url = metadata["cloneUrlHttp"]
    git_endpoint = GitEndpoint(
        url=url,
        username=git_username(credentials),
        password=git_password(
            credentials,
            host="127.0.0.1",
            path="/v1/repos/sagemaker-product",
            region=emulator.region,
            when=datetime.now(UTC),
        ),
        http=new_pool_manager(),
    )

    assert list_branches(git_endpoint) == {}


def pushed_events(emulator: Emulator, url: str) -> list[dict[str, Any]]:
    sqs = emulator.client("sqs")
    found = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        found += [json.loads(m["Body"]) for m in batch]
    return found


def test_each_pushed_reference_emits_codecommits_state_change_event(
    emulator: Emulator,
    endpoint: CodeCommitGitEndpoint,
    authority: CertificateAuthority,
    tmp_path: Path,
) -> None:
    sqs, events = emulator.client("sqs"), emulator.client("events")
    queue_url = sqs.create_queue(QueueName="pushes")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    pattern = {"source": ["aws.codecommit"], "detail-type": ["CodeCommit Repository State Change"]}
    events.put_rule(Name="pushes", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="pushes", Targets=[{"Id": "q", "Arn": queue_arn}])
    metadata = emulator.client("codecommit").create_repository(repositoryName="sagemaker-events")[
        "repositoryMetadata"
    ]
    remote = endpoint.authenticated_url("sagemaker-events")
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "dev", cwd=work, authority=authority)
    first = commit(work, authority, "one")
    git("push", "-q", remote, "dev", "dev:feature-x", cwd=work, authority=authority)
    second = commit(work, authority, "two")
    git("push", "-q", remote, "dev", cwd=work, authority=authority)
    git("tag", "-a", "v1", "-m", "v1", cwd=work, authority=authority)
    git("push", "-q", remote, "v1", ":feature-x", cwd=work, authority=authority)

    emitted = pushed_events(emulator, queue_url)

    summary = [
        (e["detail"]["event"], e["detail"]["referenceName"], e["detail"].get("commitId"))
        for e in emitted
    ]
    assert summary == [
        ("referenceCreated", "dev", first),
        ("referenceCreated", "feature-x", first),
        ("referenceUpdated", "dev", second),
        ("referenceDeleted", "feature-x", None),
        ("referenceCreated", "v1", second),  # the tag's commit, not the tag object
    ]
    created, _, updated, deleted, tagged = emitted
    for event, stored in (
        (created, "codecommit-branch-created-feature.json"),
        (updated, "codecommit-branch-updated-dev.json"),
        (deleted, "codecommit-branch-deleted-feature.json"),
        (tagged, "codecommit-tag-created.json"),
    ):
        sample = json.loads((EVENTS_DIR / stored).read_text())
        assert event.keys() == sample.keys()
        assert event["detail"].keys() == sample["detail"].keys()
    assert updated["detail"]["oldCommitId"] == first
    assert deleted["detail"]["oldCommitId"] == first
    assert created["resources"] == [metadata["Arn"]]
    assert created["detail"]["repositoryId"] == metadata["repositoryId"]
    assert tagged["detail"]["referenceType"] == "tag"
