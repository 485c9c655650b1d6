"""The release ``publish`` puts into AWS: ``dist/`` as its manifest describes it.

``publish`` builds first, unless ``dist/manifest.json`` was written from the same
sources and settings (its ``source_sha256``) and every artifact still has its sha256.
Templates are checked against CloudFormation's size limits before anything is changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from portfolio_build.artifacts import collect_files, sha256_of
from portfolio_build.errors import PublishError
from portfolio_build.manifest import MANIFEST_NAME
from portfolio_build.render import REPO_ROOT
from template_common.settings import TemplateSettings

SOURCE_PACKAGES = (
    "portfolio",
    "products",
    "lambda_project_lifecycle",
    "seed_code",
    "portfolio_build",
)
# CloudFormation: a template read from S3 may have 1 MB; a template body 51,200 bytes.
TEMPLATE_URL_MAX_BYTES = 1_048_576
TEMPLATE_BODY_MAX_BYTES = 51_200


def source_digest(settings: TemplateSettings, root: Path = REPO_ROOT) -> str:
    """sha256 over every source file that goes into ``dist/`` and the template settings."""
    digest = hashlib.sha256(repr(settings).encode())
    for package in SOURCE_PACKAGES:
        for name, path in sorted(collect_files(root / package, f"{package}/").items()):
            digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class Artifact:
    kind: str
    name: str
    path: Path
    key: str
    sha256: str
    size: int
    meta: dict[str, Any]


@dataclass(frozen=True)
class Release:
    dist: Path
    version: str
    artifacts: tuple[Artifact, ...]
    platform_parameters: dict[str, str]
    source_sha256: str

    def one(self, kind: str, name: str | None = None) -> Artifact:
        for artifact in self.artifacts:
            if artifact.kind == kind and (name is None or artifact.name == name):
                return artifact
        raise PublishError(f"dist/{MANIFEST_NAME} has no {kind} {name or ''}; rebuild")

    def of_kind(self, kind: str) -> list[Artifact]:
        return [a for a in self.artifacts if a.kind == kind]

    def template(self, artifact: Artifact) -> dict[str, Any]:
        """The template, parsed once per release (shared: callers do not change it)."""
        return _parsed(artifact.path, artifact.sha256)


@cache
def _parsed(path: Path, sha256: str) -> dict[str, Any]:
    del sha256  # part of the cache key: a rewritten file is parsed again
    return dict(json.loads(path.read_text()))


def load_release(dist: Path) -> Release | None:
    """The release in ``dist``, or None when there is no manifest or an artifact changed."""
    path = dist / MANIFEST_NAME
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text())
    artifacts = []
    parameters: dict[str, str] = {}
    for entry in manifest["artifacts"]:
        file = dist / entry["path"]
        if not file.is_file() or sha256_of(file) != entry["sha256"]:
            return None
        meta = {
            k: v
            for k, v in entry.items()
            if k not in ("kind", "name", "path", "key", "sha256", "bytes", "parameters")
        }
        artifacts.append(
            Artifact(
                entry["kind"],
                entry["name"],
                file,
                entry["key"],
                entry["sha256"],
                entry["bytes"],
                meta,
            )
        )
        parameters.update(entry.get("parameters", {}))
    return Release(
        dist=dist,
        version=manifest["version"],
        artifacts=tuple(artifacts),
        platform_parameters=parameters,
        source_sha256=manifest.get("source_sha256", ""),
    )


def check_template_sizes(release: Release) -> None:
    """Every template within CloudFormation's limits: nothing is changed otherwise."""
    for artifact in release.artifacts:
        if artifact.kind.endswith("-template") and artifact.size > TEMPLATE_URL_MAX_BYTES:
            raise PublishError(
                f"{artifact.path.relative_to(release.dist)}: {artifact.size:,} bytes, over "
                f"CloudFormation's {TEMPLATE_URL_MAX_BYTES:,}-byte limit for a template in S3"
            )
    bootstrap = release.one("bootstrap-template")
    if bootstrap.size > TEMPLATE_BODY_MAX_BYTES:
        raise PublishError(
            f"{bootstrap.path.relative_to(release.dist)}: {bootstrap.size:,} bytes, over the "
            f"{TEMPLATE_BODY_MAX_BYTES:,}-byte limit of a template body (the bootstrap stack "
            "makes the bucket other templates are read from)"
        )
