"""What the publish tests share: a release made without the build's slow checks, a
release with one product template changed, the emulator as a region's AWS, and a
snapshot of everything publish could change (to assert that nothing did)."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from portfolio_build import render
from portfolio_build.config import BuildConfig, load_config
from portfolio_build.manifest import write_manifest
from portfolio_build.plan_text import Output
from portfolio_build.region_publish import stack_names
from portfolio_build.release import Release, load_release, source_digest
from sandbox.cloudformation_models import ResourceModels
from sandbox.emulator import Emulator
from sandbox.endpoint import emulator_with_gaps
from template_common.settings import TemplateSettings
from tests.support.network import loopback_only

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")


def make_release(dist: Path, settings: TemplateSettings | None = None) -> Release:
    """``dist/`` as ``python build.py`` writes it, without cfn-lint and the other checks
    (the build's own tests run those)."""
    settings = settings or TemplateSettings()
    render.clean(dist)
    templates = render.write_templates(dist, render.render_templates(settings))
    artifacts = [*templates, render.package_lambda(dist), *render.package_seed_code(dist)]
    write_manifest(dist, settings.version, artifacts, source_digest(settings))
    release = load_release(dist)
    assert release is not None
    return release


def edited(release: Release, dist: Path, edits: dict[str, Any]) -> Release:
    """A copy of ``release`` in ``dist`` with templates changed: relative path -> a function
    that changes the parsed template in place; the manifest written again."""
    import shutil

    shutil.copytree(release.dist, dist, dirs_exist_ok=True)
    for relative, edit in edits.items():
        path = dist / relative
        body = json.loads(path.read_text())
        edit(body)
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    artifacts = [
        render.Artifact(a.kind, a.name, dist / a.path.relative_to(release.dist), a.meta)
        for a in release.artifacts
    ]
    write_manifest(dist, release.version, artifacts, release.source_sha256)
    rewritten = load_release(dist)
    assert rewritten is not None
    return rewritten


def with_changed_product(release: Release, dist: Path, product: str) -> Release:
    """A copy of ``release`` in ``dist`` whose ``product`` template has one more output."""

    def add_output(body: dict[str, Any]) -> None:
        body["Outputs"]["PublishedBy"] = {"Description": "a changed template", "Value": "publish"}

    return edited(release, dist, {f"templates/products/{product}.json": add_output})


def config_for(dist: Path, **overrides: Any) -> BuildConfig:
    return load_config(
        environ={},
        cwd=dist,
        overrides={"dist": str(dist), "regions": list(REGIONS), **overrides},
    )


@dataclass
class Lines:
    lines: list[str]

    def output(self) -> Output:
        return Output(self.lines.append)

    def of(self, region: str) -> list[str]:
        return [
            line.removeprefix(f"[{region}] ")
            for line in self.lines
            if line.startswith(f"[{region}] ")
        ]

    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def embedded_aws() -> Iterator[Emulator]:
    """The emulator with every gap filled, as the process's AWS (endpoint and credentials)."""
    emulator = emulator_with_gaps().start()
    ResourceModels(emulator)  # the resource types moto's CloudFormation skips (function URLs...)
    saved = dict(os.environ)
    os.environ.update(emulator.environment())
    try:
        with loopback_only():
            yield emulator
    finally:
        os.environ.clear()
        os.environ.update(saved)
        emulator.stop()


def sessions(region: str) -> boto3.Session:
    """One session of the process's AWS (the emulator) for every region, as the CLI makes
    (clients name their region; service models load once)."""
    return _session(os.environ.get("AWS_ENDPOINT_URL", ""))


@functools.cache
def _session(endpoint: str) -> boto3.Session:
    del endpoint  # the cache key: each emulator gets its own session
    return boto3.Session(region_name=REGIONS[0])


def snapshot(config: BuildConfig, emulator: Emulator) -> dict[str, Any]:
    """Everything publish can change, per region: stacks and their change sets, objects
    (every version), products and their versions with guidance."""
    state: dict[str, Any] = {}
    for region in config.regions:
        cloudformation = emulator.client("cloudformation", region)
        stacks = {
            s["StackName"]: s["StackStatus"] for s in cloudformation.list_stacks()["StackSummaries"]
        }
        change_sets = {
            name: sorted(
                c["ChangeSetName"]
                for c in cloudformation.list_change_sets(StackName=name)["Summaries"]
            )
            for name in stack_names(config)
            if name in stacks
        }
        s3 = emulator.client("s3", region)
        objects: list[tuple[str, str]] = []
        for bucket in s3.list_buckets()["Buckets"]:
            versions = s3.list_object_versions(Bucket=bucket["Name"]).get("Versions", [])
            objects += sorted((bucket["Name"] + "/" + v["Key"], v["VersionId"]) for v in versions)
        catalog = emulator.client("servicecatalog", region)
        products = {}
        for view in catalog.search_products_as_admin(PageSize=100)["ProductViewDetails"]:
            product_id = view["ProductViewSummary"]["ProductId"]
            details = catalog.list_provisioning_artifacts(ProductId=product_id)
            products[product_id] = sorted(
                (d["Name"], d["Guidance"], d["Active"])
                for d in details["ProvisioningArtifactDetails"]
            )
        state[region] = {
            "stacks": stacks,
            "change_sets": change_sets,
            "objects": objects,
            "products": products,
        }
    return state
