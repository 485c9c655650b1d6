"""``dist/manifest.json``: every artifact with its kind, path, size and sha256.

Publishing uploads each artifact under a content-addressed object key (given
here as ``key``), so a changed artifact never overwrites the one a running
stack uses; the platform entry lists the stack parameters that point at them.
``source_sha256`` tells ``publish`` whether ``dist/`` was built from the sources
as they are (see :mod:`portfolio_build.release`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambda_project_lifecycle.scenarios import SCENARIOS
from portfolio.platform import seed_code_key_parameter
from portfolio_build.artifacts import sha256_of
from portfolio_build.render import Artifact

MANIFEST_NAME = "manifest.json"
KEY_PREFIX = "mlops-portfolio"


def artifact_key(relative: str, digest: str) -> str:
    """``mlops-portfolio/<dir>/<stem>-<sha256[:16]>.<suffix>``: a changed artifact, a new key."""
    stem, _, suffix = Path(relative).name.partition(".")
    return f"{KEY_PREFIX}/{Path(relative).parent.as_posix()}/{stem}-{digest[:16]}.{suffix}"


def describe(artifact: Artifact, dist: Path) -> dict[str, Any]:
    digest = sha256_of(artifact.path)
    relative = artifact.path.relative_to(dist).as_posix()
    entry: dict[str, Any] = {
        "kind": artifact.kind,
        "name": artifact.name,
        "path": relative,
        "bytes": artifact.path.stat().st_size,
        "sha256": digest,
        "key": artifact_key(relative, digest),
    }
    entry.update(artifact.meta)
    return entry


def platform_parameters(entries: list[dict[str, Any]]) -> dict[str, str]:
    """The platform stack's artifact parameters for this build (the bucket is the bootstrap's)."""
    by_name = {(e["kind"], e["name"]): e for e in entries}
    parameters = {"LifecycleCodeKey": by_name[("lambda", "project-lifecycle")]["key"]}
    for scenario in SCENARIOS:
        parameters[seed_code_key_parameter(scenario)] = by_name[("seed-code", scenario)]["key"]
    return parameters


def write_manifest(
    dist: Path, version: str, artifacts: list[Artifact], source_sha256: str = ""
) -> dict[str, Any]:
    entries = [describe(artifact, dist) for artifact in artifacts]
    parameters = platform_parameters(entries)
    for entry in entries:
        if entry["kind"] == "platform-template":
            entry["parameters"] = parameters
    manifest = {"version": version, "artifacts": entries, "source_sha256": source_sha256}
    (dist / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
