"""CodeCommit's git endpoint: the local git server over HTTPS, serving moto's repositories.

moto's CodeCommit keeps repository metadata only. :class:`CodeCommitGitEndpoint`
is the region's git endpoint as CodeCommit runs it:

- a git smart-HTTP server on 127.0.0.1 with TLS (a certificate of the run's CA,
  :mod:`sandbox.tls`), one bare repository per repository moto holds (found on
  each request, gone when moto's is deleted, see ``CodeCommitGitData``);
- ``cloneUrlHttp`` in CreateRepository and GetRepository answers points at it;
- it accepts only CodeCommit's SigV4 git password (user ``<access key>`` or
  ``<access key>%<session token>``, password ``<time>Z<signature>`` of ``GIT
  <path>`` for the endpoint's host name, within 15 minutes), signed with the
  emulator's credentials;
- each push emits one "CodeCommit Repository State Change" per reference it
  created, updated or deleted, in CodeCommit's shape, through the event bus.
"""

from __future__ import annotations

import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sandbox.emulator import FAKE_CREDENTIALS, Call, Emulator
from sandbox.emulator_gaps import CodeCommitGitData
from sandbox.event_delivery import EventBus
from sandbox.git_server import GitHttpServer, GitRequest, RefUpdate
from sandbox.sigv4_check import expected_password, sigv4_auth
from sandbox.tls import CertificateAuthority

HOST = "127.0.0.1"
REPOSITORY_ANSWERS = ("CreateRepository", "GetRepository")


class CodeCommitGitEndpoint:
    """The git endpoint of one region's CodeCommit, on 127.0.0.1 over HTTPS."""

    def __init__(
        self,
        emulator: Emulator,
        authority: CertificateAuthority,
        *,
        events: EventBus | None = None,
        root: Path | None = None,
        region: str | None = None,
    ) -> None:
        self._emulator = emulator
        self.region = region or emulator.region
        self.account_id = emulator.account_id
        self.root = root or Path(tempfile.mkdtemp(prefix="codecommit-"))
        self._events = events
        self.data = CodeCommitGitData(self.root, self.region, self.account_id)
        self.server = GitHttpServer(
            self.root,
            sigv4_auth(
                access_key=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                secret_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                region=self.region,
                hosts=(HOST,),
            ),
            tls=authority.server_context((HOST, "localhost")),
        )
        self.server.resolver = self.data.resolve
        self.server.on_push = self._pushed
        self.server.start()
        for operation in REPOSITORY_ANSWERS:
            emulator.after(
                "codecommit",
                operation,
                "moto's cloneUrlHttp names the public endpoint: it points at the local git "
                "endpoint (HTTPS, the run's CA)",
            )(self._local_clone_urls)
        emulator.on_stop(self.stop)

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self.server.port}"

    def clone_url(self, repository: str) -> str:
        return f"{self.base_url}/v1/repos/{repository}"

    def credentials(self, repository: str) -> tuple[str, str]:
        """The git user and password CodeCommit's credential helper derives (15 minutes)."""
        timestamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        access_key = FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
        password = expected_password(
            FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            access_key,
            HOST,
            f"/v1/repos/{repository}",
            self.region,
            timestamp,
        )
        return f"{access_key}%{FAKE_CREDENTIALS['AWS_SESSION_TOKEN']}", password

    def authenticated_url(self, repository: str) -> str:
        """A clone URL with the credentials in it, for the git command (valid 15 minutes)."""
        user, password = self.credentials(repository)
        return (
            f"https://{quote(user, safe='')}:{quote(password, safe='')}@{HOST}:"
            f"{self.server.port}/v1/repos/{repository}"
        )

    def stop(self) -> None:
        self.server.stop()

    # -- the emulator's answers -------------------------------------------------------------

    def _local_clone_urls(self, call: Call, answer: dict[str, Any]) -> dict[str, Any] | None:
        if call.region != self.region:
            return None
        metadata = answer.get("repositoryMetadata")
        if not metadata or "repositoryName" not in metadata:
            return None
        metadata["cloneUrlHttp"] = self.clone_url(metadata["repositoryName"])
        return answer

    # -- pushes ------------------------------------------------------------------------

    def _pushed(self, request: GitRequest, directory: Path, updates: list[RefUpdate]) -> None:
        if self._events is None:
            return
        name = request.path.split("/v1/repos/", 1)[-1].split("/", 1)[0]
        backend = self._emulator.backend("codecommit", self.region, self.account_id)
        repository = backend.repositories.get(name)
        if repository is None:
            return
        metadata = repository.repository_metadata
        caller = self._caller_arn(request.username.split("%", 1)[0])
        for update in updates:
            detail = reference_change(update, directory)
            if detail is None:
                continue
            self._events.emit(
                source="aws.codecommit",
                detail_type="CodeCommit Repository State Change",
                detail={
                    "callerUserArn": caller,
                    "repositoryName": metadata["repositoryName"],
                    "repositoryId": metadata["repositoryId"],
                    **detail,
                },
                resources=[metadata["Arn"]],
                region=self.region,
                account_id=self.account_id,
            )

    def _caller_arn(self, access_key: str) -> str:
        """Who pushed, as STS identifies the access key (moto's default user otherwise)."""
        sts = self._emulator.backend("sts", "aws", self.account_id)
        return str(sts.get_caller_identity(access_key, self.region)[1])


def reference_change(update: RefUpdate, directory: Path) -> dict[str, str] | None:
    """CodeCommit's detail fields for one changed reference (None: not a branch or a tag)."""
    if update.ref.startswith("refs/heads/"):
        kind, name = "branch", update.ref[len("refs/heads/") :]
    elif update.ref.startswith("refs/tags/"):
        kind, name = "tag", update.ref[len("refs/tags/") :]
    else:
        return None
    detail = {"referenceType": kind, "referenceName": name, "referenceFullName": update.ref}
    if not update.old:
        return {**detail, "event": "referenceCreated", "commitId": _commit(directory, update.new)}
    if not update.new:
        old = _commit(directory, update.old)
        return {**detail, "event": "referenceDeleted", "oldCommitId": old}
    return {
        **detail,
        "event": "referenceUpdated",
        "commitId": _commit(directory, update.new),
        "oldCommitId": _commit(directory, update.old),
    }


def _commit(directory: Path, sha: str) -> str:
    """The commit an object names (an annotated tag is peeled); the id itself if unknown."""
    peeled = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return peeled or sha
