"""Publish the deployment settings of ``dev`` and ``prod`` for the platform to read.

When a model is approved, the platform deploys it with the settings of the
branch behind its stage: the production stage uses what ``prod`` holds, the
development stage what ``dev`` holds. Each build of those branches writes them
under the project's prefix in its bucket:

    s3://<bucket>/<prefix>/deploy/<branch>/config.json           (validated, defaults filled in)
    s3://<bucket>/<prefix>/deploy/<branch>/payloads/<name>.json  (the stage's test payloads)

Feature branches publish nothing: their models deploy with ``dev``'s settings.

The platform tests every object under ``payloads/``, so a payload renamed or
removed from the repository is removed there too (after the new ones are
written, so the stage is never left without its payloads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.deploy_config import DeployConfig
from pipelines.payloads import load_payloads
from pipelines.project import Project

PUBLISHING_BRANCHES = {"dev": "development", "prod": "production"}


@dataclass(frozen=True)
class Published:
    """S3 URIs written, and those removed because the repository no longer has them."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def publish_deploy_settings(
    project: Project, branch: str, config: DeployConfig, repo_dir: Path, s3: Any
) -> Published:
    """Write the branch's settings and payloads, drop stale payloads (nothing for others)."""
    stage = PUBLISHING_BRANCHES.get(branch)
    if stage is None:
        return Published()
    base = f"{project.prefix}/deploy/{branch}"
    payloads_dir = repo_dir / config.stage(stage)["tests"]["payloads_dir"]
    objects = {f"{base}/config.json": json.dumps(config.settings, indent=2, sort_keys=True)}
    for payload in load_payloads(payloads_dir):
        source = payloads_dir / f"{payload.name}.json"
        objects[f"{base}/payloads/{payload.name}.json"] = source.read_text(encoding="utf-8")
    for key, body in objects.items():
        s3.put_object(
            Bucket=project.bucket, Key=key, Body=body.encode(), ContentType="application/json"
        )
    stale = [key for key in _keys(s3, project.bucket, f"{base}/payloads/") if key not in objects]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(
            Bucket=project.bucket,
            Delete={
                "Objects": [{"Key": key} for key in stale[start : start + 1000]],
                "Quiet": True,
            },
        )
    return Published(
        written=[f"s3://{project.bucket}/{key}" for key in objects],
        removed=[f"s3://{project.bucket}/{key}" for key in stale],
    )


def _keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys
