"""Render every template and package every zip into ``dist/``."""

from __future__ import annotations

import importlib.util
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from troposphere import Template

from lambda_project_lifecycle.deployments.integration_tests import (
    PACKAGED_PAYLOAD_SCHEMA,
    SEED_CODE_PAYLOAD_SCHEMA_PATH,
)
from lambda_project_lifecycle.deployments.settings import PACKAGED_SCHEMA, SEED_CODE_SCHEMA_PATH
from lambda_project_lifecycle.scenarios import SCENARIOS
from portfolio import bootstrap, platform, target_account
from portfolio_build.artifacts import collect_files, write_zip
from products import template as product_template
from template_common.catalog import PRODUCTS
from template_common.settings import TemplateSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_PACKAGE = "lambda_project_lifecycle"
# Pure-Python libraries the Lambda runtime lacks, copied into the zip from this environment
# (their compiled extensions are left out: dulwich falls back to its pure-Python code).
# dulwich pushes seed commits over HTTPS; it needs urllib3 >= 2.2.2, newer than the one
# the Lambda runtime may ship next to boto3 (botocore works with urllib3 2 as well).
VENDORED_PACKAGES: tuple[str, ...] = ("dulwich", "urllib3")
# Parts of vendored packages the Lambda never imports: tests, other transports, the CLI.
VENDORED_EXCLUDES: dict[str, tuple[str, ...]] = {
    "dulwich": ("tests/", "contrib/", "cloud/", "aiohttp/", "cli.py", "__main__.py"),
}
SEED_CODE_DIR = REPO_ROOT / "seed_code"
SEED_CODE_COMMON = "common"
# The seed README is common's, with each scenario's own section (README.scenario.md of its
# overlay: one production endpoint, or champion and challenger) in place of the marker.
SEED_README = "README.md"
SEED_README_SECTION = "README.scenario.md"
SEED_README_MARKER = "<!-- scenario section -->"
# The deployment handlers validate each project's deploy config against the schema the
# seed code ships: one source (seed_code/common/deploy/config.schema.json), copied into
# the Lambda zip next to the module that reads it.
DEPLOY_CONFIG_SCHEMA = SEED_CODE_DIR.joinpath(*SEED_CODE_SCHEMA_PATH)
PACKAGED_SCHEMA_NAME = f"{LAMBDA_PACKAGE}/deployments/{PACKAGED_SCHEMA.name}"
# Likewise the integration-test payload schema (seed_code/common/integration_tests/).
PAYLOAD_SCHEMA = SEED_CODE_DIR.joinpath(*SEED_CODE_PAYLOAD_SCHEMA_PATH)
PACKAGED_PAYLOAD_SCHEMA_NAME = f"{LAMBDA_PACKAGE}/deployments/{PACKAGED_PAYLOAD_SCHEMA.name}"


@dataclass
class Artifact:
    kind: str
    name: str
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # the template, for templates


def render_templates(settings: TemplateSettings) -> list[tuple[str, str, Template, dict[str, Any]]]:
    """(kind, name, template, meta) for every template; pure, no disk."""
    rendered: list[tuple[str, str, Template, dict[str, Any]]] = [
        ("bootstrap-template", "bootstrap", bootstrap.build(settings), {}),
        ("platform-template", "platform", platform.build(settings), {}),
        ("target-template", "target-account", target_account.build(settings), {}),
    ]
    for product in PRODUCTS:
        rendered.append(
            (
                "product-template",
                product.name,
                product_template.build(product, settings),
                {
                    "product": product.display_name,
                    "scenario": product.scenario.name,
                    "registry": product.registry,
                },
            )
        )
    return rendered


def template_path(kind: str, name: str) -> str:
    return (
        f"templates/products/{name}.json"
        if kind == "product-template"
        else f"templates/{name}.json"
    )


def write_templates(
    dist: Path, rendered: list[tuple[str, str, Template, dict[str, Any]]]
) -> list[Artifact]:
    artifacts = []
    for kind, name, template, meta in rendered:
        body = template.to_dict()
        path = dist / template_path(kind, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        artifacts.append(Artifact(kind, name, path, meta, body))
    return artifacts


def package_lambda(
    dist: Path,
    deploy_config_schema: Path = DEPLOY_CONFIG_SCHEMA,
    payload_schema: Path = PAYLOAD_SCHEMA,
) -> Artifact:
    files = collect_files(REPO_ROOT / LAMBDA_PACKAGE, f"{LAMBDA_PACKAGE}/")
    for packaged, source in (
        (PACKAGED_SCHEMA_NAME, deploy_config_schema),
        (PACKAGED_PAYLOAD_SCHEMA_NAME, payload_schema),
    ):
        if source.is_file():
            files[packaged] = source
    for package in VENDORED_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(f"vendored package {package} is not installed")
        found = collect_files(Path(next(iter(spec.submodule_search_locations))), f"{package}/")
        excluded = tuple(f"{package}/{part}" for part in VENDORED_EXCLUDES.get(package, ()))
        files.update({name: path for name, path in found.items() if not name.startswith(excluded)})
    path = dist / "lambda" / f"{LAMBDA_PACKAGE}.zip"
    write_zip(path, files)
    return Artifact("lambda", "project-lifecycle", path, {"handler": platform.LIFECYCLE_HANDLER})


def package_seed_code(dist: Path, seed_dir: Path = SEED_CODE_DIR) -> list[Artifact]:
    """One zip per scenario: ``seed_code/common`` overlaid by ``seed_code/<scenario>``."""
    artifacts = []
    for scenario in SCENARIOS:
        files = seed_files(seed_dir, scenario, dist / "seed_code" / scenario)
        path = dist / "seed_code" / f"{scenario}.zip"
        write_zip(path, files)
        artifacts.append(
            Artifact("seed-code", scenario, path, {"scenario": scenario, "files": len(files)})
        )
    return artifacts


def seed_files(seed_dir: Path, scenario: str, staging: Path) -> dict[str, Path]:
    """Repository path -> file of a new ``scenario`` project; the composed README in ``staging``."""
    files: dict[str, Path] = {}
    # The repository's .gitignore is common's: it applies to the overlay too.
    gitignore = seed_dir / SEED_CODE_COMMON / ".gitignore"
    for part in (SEED_CODE_COMMON, scenario):
        if (seed_dir / part).is_dir():
            files.update(collect_files(seed_dir / part, ignore_files=[gitignore]))
    section = files.pop(SEED_README_SECTION, None)
    readme = files.get(SEED_README)
    if readme is not None and section is not None:
        text = readme.read_text(encoding="utf-8")
        if SEED_README_MARKER not in text:
            raise ValueError(f"{readme} has no {SEED_README_MARKER} for {section}")
        staging.mkdir(parents=True, exist_ok=True)
        composed = staging / SEED_README
        composed.write_text(
            text.replace(SEED_README_MARKER, section.read_text(encoding="utf-8").strip()),
            encoding="utf-8",
        )
        files[SEED_README] = composed
    return files


def clean(dist: Path) -> None:
    """Remove what an earlier build wrote (only our own outputs)."""
    for part in ("templates", "lambda", "seed_code", "checks"):
        shutil.rmtree(dist / part, ignore_errors=True)
    (dist / "manifest.json").unlink(missing_ok=True)
