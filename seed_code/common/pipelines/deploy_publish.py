"""Publish the deployment settings of ``dev`` and ``prod`` for the platform to read.

When a model is approved, the platform deploys it with the settings of the
branch behind its stage: the production stage uses what ``prod`` holds, the
development stage what ``dev`` holds. Each build of those branches writes them
under the project's prefix in its bucket:

    s3://<bucket>/<prefix>/deploy/<branch>/config.json           (validated, defaults filled in)
    s3://<bucket>/<prefix>/deploy/<branch>/payloads/<name>.json  (the stage's test payloads)

Feature branches publish nothing: their models deploy with ``dev``'s settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.deploy_config import DeployConfig
from pipelines.payloads import load_payloads
from pipelines.project import Project

PUBLISHING_BRANCHES = {"dev": "development", "prod": "production"}


def publish_deploy_settings(
    project: Project, branch: str, config: DeployConfig, repo_dir: Path, s3: Any
) -> list[str]:
    """Write the branch's settings and payloads; returns the S3 URIs written (none for others)."""
    stage = PUBLISHING_BRANCHES.get(branch)
    if stage is None:
        return []
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
    return [f"s3://{project.bucket}/{key}" for key in objects]
