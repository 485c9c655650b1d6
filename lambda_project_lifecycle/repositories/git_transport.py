"""Git over HTTPS with dulwich: list branches, read one commit, push, delete branches.

The Lambda runtime has no git binary, so this speaks the smart-HTTP protocol
from Python. Every failure becomes a :class:`RepositoryError` that says what
was tried on which repository (never with the credentials in it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dulwich.objects import ObjectID

from lambda_project_lifecycle.repositories.errors import (
    RepositoryAccessError,
    RepositoryError,
)

if TYPE_CHECKING:
    from dulwich.objects import Commit

logger = logging.getLogger(__name__)

ZERO_SHA = b"0" * 40
BRANCH_PREFIX = b"refs/heads/"


@dataclass(frozen=True)
class GitEndpoint:
    """Where a repository is reached over HTTPS, and with which basic-auth credentials."""

    url: str  # without credentials
    username: str = field(repr=False)  # CodeCommit's holds the role's STS session token
    password: str = field(repr=False)
    http: Any = field(repr=False, compare=False)  # a urllib3 PoolManager
    credentials_from: str = ""  # what supplied the credentials, for error messages


def list_branches(endpoint: GitEndpoint) -> dict[str, bytes]:
    """Branch name -> commit id (hex, as bytes) of every branch; empty for an empty repository."""
    client = _client(endpoint)
    result = _guard(endpoint, "reading the branches of", lambda: client.get_refs(""))
    return {
        ref[len(BRANCH_PREFIX) :].decode(): sha
        for ref, sha in result.refs.items()
        if sha is not None and ref.startswith(BRANCH_PREFIX)
    }


def read_commit(endpoint: GitEndpoint, commit_id: bytes) -> Commit:
    """Fetch one commit (shallow, depth 1) and return it."""
    from dulwich.objects import Commit
    from dulwich.repo import MemoryRepo

    client = _client(endpoint)
    target = MemoryRepo()

    def wants(refs: Mapping[bytes, bytes], depth: int | None = None) -> list[bytes]:
        return [commit_id]

    _guard(
        endpoint,
        "reading the tip commit of",
        lambda: client.fetch("", target, determine_wants=wants, depth=1),
    )
    commit = target.object_store[ObjectID(commit_id)]
    if not isinstance(commit, Commit):
        raise RepositoryError(f"{endpoint.url}: {commit_id.decode()} is not a commit")
    return commit


PackSource = Callable[[set[bytes], set[bytes]], tuple[int, Iterator[Any]]]


def push(
    endpoint: GitEndpoint,
    updates: Mapping[str, bytes],
    pack_source: PackSource | None,
    *,
    expected_old: Mapping[str, bytes] | None = None,
) -> None:
    """Set each branch of ``updates`` (``ZERO_SHA`` deletes it) in one push.

    ``pack_source(have, want)`` gives the objects to send (None: the server has
    them all). A branch that moved since ``expected_old`` (absent: must not
    exist) makes the push fail rather than overwrite someone's work.
    """
    client = _client(endpoint)
    refs = {BRANCH_PREFIX + name.encode(): sha for name, sha in updates.items()}
    expected = {BRANCH_PREFIX + k.encode(): v for k, v in (expected_old or {}).items()}
    moved: list[str] = []

    def update_refs(remote: dict[bytes, bytes]) -> dict[bytes, bytes]:
        for ref in refs:
            if remote.get(ref) != expected.get(ref):
                moved.append(ref[len(BRANCH_PREFIX) :].decode())
        if moved:
            return remote  # nothing changes: the push is abandoned
        return {**remote, **refs}

    def generate_pack_data(
        have: set[bytes], want: set[bytes], ofs_delta: bool = False, progress: Any = None
    ) -> tuple[int, Iterator[Any]]:
        if pack_source is None:
            return 0, iter(())
        return pack_source(set(have), set(want))

    result = _guard(
        endpoint,
        "pushing to",
        lambda: client.send_pack("", update_refs, generate_pack_data),
    )
    if moved:
        raise RepositoryError(
            f"{endpoint.url}: branches {', '.join(sorted(moved))} changed while the project "
            "was being created; nothing was pushed"
        )
    rejected = {ref.decode(): reason for ref, reason in (result.ref_status or {}).items() if reason}
    if rejected:
        details = "; ".join(f"{ref}: {reason}" for ref, reason in sorted(rejected.items()))
        raise RepositoryError(f"{endpoint.url} rejected the push ({details})")


def _client(endpoint: GitEndpoint) -> Any:
    from dulwich.client import HttpGitClient

    return HttpGitClient(
        endpoint.url.rstrip("/") + "/",
        pool_manager=endpoint.http,
        username=endpoint.username,
        password=endpoint.password,
    )


def _guard(endpoint: GitEndpoint, action: str, call: Callable[[], Any]) -> Any:
    """Run a dulwich call; turn its failures into errors that name the repository."""
    import urllib3.exceptions
    from dulwich.client import HTTPUnauthorized
    from dulwich.errors import GitProtocolError, HangupException, NotGitRepository

    source = f" from {endpoint.credentials_from}" if endpoint.credentials_from else ""
    try:
        return call()
    except HTTPUnauthorized as exc:
        raise RepositoryAccessError(
            f"{endpoint.url} refused the credentials{source} (HTTP 401) while {action} it"
        ) from exc
    except NotGitRepository as exc:
        raise RepositoryError(
            f"No git repository at {endpoint.url} (HTTP 404) while {action} it; check that "
            "it exists and that the credentials may see it"
        ) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise RepositoryError(
            f"Could not reach {endpoint.url} while {action} it: {_root_cause(exc)}"
        ) from exc
    except (GitProtocolError, HangupException) as exc:
        if isinstance(exc.__cause__, (urllib3.exceptions.HTTPError, OSError)):
            raise RepositoryError(
                f"Could not reach {endpoint.url} while {action} it: {_root_cause(exc.__cause__)}"
            ) from exc
        raise RepositoryError(
            f"Git error while {action} {endpoint.url} with the credentials{source}: {exc}"
        ) from exc


def _root_cause(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    while reason is not None and getattr(reason, "reason", None) is not None:
        reason = reason.reason
    return str(reason or exc)
