"""This project's endpoints, build and logs, by name, with commands to copy.

    python -m pipelines.endpoints        # or: make endpoints

Prints the development and production endpoint names (as the platform names
them from project.json), a ready-to-run ``aws sagemaker-runtime
invoke-endpoint`` call with the first integration-test payload, and where the
build and its log are. Needs no AWS access: the names come from project.json.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

from pipelines.errors import SeedError
from pipelines.payloads import load_payloads
from pipelines.project import REPO_ROOT, load_project

STAGES = ("development", "production")
PAYLOADS_DIR = REPO_ROOT / "integration_tests" / "payloads"


def describe() -> str:
    project = load_project()
    payload = load_payloads(PAYLOADS_DIR)[0]
    lines = ["endpoints (they exist once a model of their stage is approved):"]
    for stage in STAGES:
        lines.append(f"  {stage:<12} {project.endpoint_name(stage)}")
    command = [
        "aws", "sagemaker-runtime", "invoke-endpoint",
        "--region", project.region,
        "--endpoint-name", project.endpoint_name("development"),
        "--content-type", payload.content_type,
        "--accept", payload.accept,
        "--cli-binary-format", "raw-in-base64-out",
        "--body", payload.body,
        "response.json",
    ]  # fmt: skip
    lines += [
        f"call the development endpoint with integration_tests/payloads/{payload.name}.json:",
        "  " + shlex.join(command) + " && cat response.json",
        "build (CodeBuild project, one build per push):",
        f"  {project.training_project}",
        f"  log group /aws/codebuild/{project.training_project}",
        "  aws codebuild list-builds-for-project --region "
        f"{project.region} --project-name {project.training_project}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    try:
        print(describe())
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
