"""The seed commit: the scenario's seed code plus ``project.json``, built in memory.

The seed code comes from the seed-code zip the build made (its entries carry
the file modes, so scripts stay executable). ``project.json`` tells the seed
code which project it belongs to; source files are never templated. The commit
says what made it, and carries a ``SageMaker-Project-Id`` trailer by which a
retried Create recognises its own seed.
"""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dulwich.objects import ObjectID

from lambda_project_lifecycle.aws_calls import call
from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.project import ProjectSpec

if TYPE_CHECKING:
    from dulwich.object_store import MemoryObjectStore
    from dulwich.objects import Commit

PROJECT_CONFIG_PATH = "project.json"
PROJECT_CONFIG_SCHEMA_VERSION = 1
PROJECT_ID_TRAILER = "SageMaker-Project-Id"
AUTHOR = b"mlops-portfolio project lifecycle <mlops-portfolio@noreply.invalid>"
BRANCHES = ("prod", "dev")  # prod first: hosts make the first pushed branch the default
MAX_SEED_BYTES = 50 * 1024 * 1024

MODE_FILE = 0o100644
MODE_EXECUTABLE = 0o100755
MODE_SYMLINK = 0o120000


@dataclass(frozen=True)
class SeedFile:
    path: str
    mode: int  # git mode: 100644, 100755 or 120000
    data: bytes


@dataclass(frozen=True)
class SeedCommit:
    commit_id: bytes
    store: MemoryObjectStore
    files: int

    def pack_data(self, have: set[bytes], want: set[bytes]) -> tuple[int, Any]:
        """The objects to send for ``want`` (the remote has nothing when we seed)."""
        known = {ObjectID(sha) for sha in have if self.store.contains_loose(ObjectID(sha))}
        wanted = {ObjectID(sha) for sha in want}
        count, records = self.store.generate_pack_data(known, wanted, ofs_delta=True)
        return count, records


def load_seed_code(s3: Any, bucket: str, key: str) -> list[SeedFile]:
    """The files of the seed-code zip at ``s3://bucket/key``."""
    reply = call(
        f"Reading the seed code s3://{bucket}/{key}", s3.get_object, Bucket=bucket, Key=key
    )
    data = reply["Body"].read(MAX_SEED_BYTES + 1)
    if len(data) > MAX_SEED_BYTES:
        raise LifecycleError(f"The seed code s3://{bucket}/{key} is over {MAX_SEED_BYTES} bytes")
    return read_seed_zip(data, f"s3://{bucket}/{key}")


def read_seed_zip(data: bytes, origin: str = "the seed-code zip") -> list[SeedFile]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise LifecycleError(f"{origin} is not a zip file") from exc
    files = []
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            path = info.filename
            if path.startswith("/") or ".." in path.split("/") or path.startswith(".git/"):
                raise LifecycleError(f"{origin} holds an unsafe path: {path!r}")
            files.append(SeedFile(path, _git_mode(info.external_attr >> 16), archive.read(info)))
    return files


def _git_mode(unix_mode: int) -> int:
    if stat.S_ISLNK(unix_mode):
        return MODE_SYMLINK
    return MODE_EXECUTABLE if unix_mode & 0o111 else MODE_FILE


def project_config(
    spec: ProjectSpec,
    *,
    region: str,
    account_id: str,
    bucket: str,
    mlflow_tracking_uri: str = "",
) -> dict[str, Any]:
    """``project.json``: the contract between the platform and the seed code (schema version 1)."""
    config: dict[str, Any] = {
        "schema_version": PROJECT_CONFIG_SCHEMA_VERSION,
        "project_name": spec.project_name,
        "project_id": spec.project_id,
        "scenario": spec.scenario.name,
        "registry": spec.registry,
        "region": region,
        "account_id": account_id,
        "bucket": bucket,
        "prefix": spec.names.prefix,
        "model_groups": {
            kind: spec.names.model_package_group(kind) for kind in spec.scenario.model_group_kinds
        },
    }
    if mlflow_tracking_uri:
        config["mlflow_tracking_uri"] = mlflow_tracking_uri
    return config


def build_seed_commit(
    files: list[SeedFile],
    config: Mapping[str, Any],
    spec: ProjectSpec,
    *,
    version: str,
    when: datetime | None = None,
) -> SeedCommit:
    """One root commit holding ``files`` and ``project.json``, in an in-memory object store."""
    from dulwich.index import commit_tree
    from dulwich.object_store import MemoryObjectStore
    from dulwich.objects import Blob, Commit

    store = MemoryObjectStore()
    entries: dict[bytes, tuple[bytes, int]] = {}
    config_file = SeedFile(
        PROJECT_CONFIG_PATH, MODE_FILE, (json.dumps(config, indent=2) + "\n").encode()
    )
    for item in [*files, config_file]:
        blob = Blob.from_string(item.data)
        store.add_object(blob)
        entries[item.path.encode()] = (blob.id, item.mode)
    rows = [(path, ObjectID(sha), mode) for path, (sha, mode) in sorted(entries.items())]
    tree_id = commit_tree(store, rows)

    moment = int((when or datetime.now(UTC)).timestamp())
    commit = Commit()
    commit.tree = tree_id
    commit.author = commit.committer = AUTHOR
    commit.author_time = commit.commit_time = moment
    commit.author_timezone = commit.commit_timezone = 0
    commit.encoding = b"UTF-8"
    commit.message = seed_message(spec, version).encode()
    store.add_object(commit)
    return SeedCommit(commit.id, store, len(entries))


def seed_message(spec: ProjectSpec, version: str) -> str:
    return (
        f"Seed SageMaker project {spec.project_name} ({spec.scenario.name}, "
        f"{spec.registry} registry)\n\n"
        f"Made by the mlops-portfolio {version} project lifecycle Lambda when the project was\n"
        f"created: the {spec.scenario.name} seed code and {PROJECT_CONFIG_PATH}. The same commit\n"
        f"starts the branches {' and '.join(BRANCHES)}.\n\n"
        f"{PROJECT_ID_TRAILER}: {spec.project_id}\n"
    )


def is_seed_of(commit: Commit, project_id: str) -> bool:
    """Whether ``commit`` is the seed commit this platform made for ``project_id``."""
    message = commit.message.decode("utf-8", errors="replace")
    trailer = re.search(rf"^{re.escape(PROJECT_ID_TRAILER)}: (\S+)\s*$", message, re.MULTILINE)
    return (
        commit.author == AUTHOR
        and not commit.parents
        and trailer is not None
        and trailer.group(1) == project_id
    )
