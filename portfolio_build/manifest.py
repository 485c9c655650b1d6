"""``dist/manifest.json``: every artifact with its kind, path, size and sha256.

Publishing uploads each artifact under a content-addressed object key (given
here as ``key``), so a changed artifact never overwrites the one a running
stack uses; the platform entry lists the stack parameters that point at them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from lambda_project_lifecycle.scenarios import SCENARIOS
from portfolio.platform import seed_code_key_parameter, template_key_parameter
from portfolio_build.artifacts import sha256_of
from portfolio_build.render import Artifact
from template_common.catalog import PRODUCTS

MANIFEST_NAME = "manifest.json"
KEY_PREFIX = "mlops-portfolio"


def describe(artifact: Artifact, dist: Path) -> dict[str, Any]:
    digest = sha256_of(artifact.path)
    relative = artifact.path.relative_to(dist).as_posix()
    stem, _, suffix = Path(relative).name.partition(".")
    entry: dict[str, Any] = {
        "kind": artifact.kind,
        "name": artifact.name,
        "path": relative,
        "bytes": artifact.path.stat().st_size,
        "sha256": digest,
        "key": f"{KEY_PREFIX}/{Path(relative).parent.as_posix()}/{stem}-{digest[:16]}.{suffix}",
    }
    entry.update(artifact.meta)
    return entry


def platform_parameters(entries: list[dict[str, Any]]) -> dict[str, str]:
    """The platform stack's artifact parameters for this build (the bucket is the bootstrap's)."""
    by_name = {(e["kind"], e["name"]): e for e in entries}
    parameters = {"LifecycleCodeKey": by_name[("lambda", "project-lifecycle")]["key"]}
    for product in PRODUCTS:
        parameters[template_key_parameter(product)] = by_name[("product-template", product.name)][
            "key"
        ]
    for scenario in SCENARIOS:
        parameters[seed_code_key_parameter(scenario)] = by_name[("seed-code", scenario)]["key"]
    return parameters


def product_version(version: str, entries: list[dict[str, Any]]) -> str:
    """The products' provisioning-artifact name: ``<version>+<hash of the product templates>``.

    Service Catalog tells a product's versions apart by template URL and name, so a build
    that changes a product template must also give its version a new name.
    """
    digests = sorted(e["sha256"] for e in entries if e["kind"] == "product-template")
    combined = hashlib.sha256("".join(digests).encode()).hexdigest()
    return f"{version}+{combined[:8]}"


def write_manifest(dist: Path, version: str, artifacts: list[Artifact]) -> dict[str, Any]:
    entries = [describe(artifact, dist) for artifact in artifacts]
    parameters = platform_parameters(entries)
    parameters["ProductVersion"] = product_version(version, entries)
    for entry in entries:
        if entry["kind"] == "platform-template":
            entry["parameters"] = parameters
    manifest = {"version": version, "artifacts": entries}
    (dist / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
