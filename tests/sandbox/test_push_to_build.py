"""The pieces together: a push to the git endpoint reaches the platform's training trigger (the
real Lambda zip, through the platform's own rule), whose StartBuild runs the pushed buildspec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.environment import REGISTRY_TABLE_ENV
from portfolio import platform
from portfolio_build.render import package_lambda
from sandbox.codebuild_runs import CodeBuildRuns
from sandbox.codecommit_git import CodeCommitGitEndpoint
from sandbox.emulator import Emulator
from sandbox.event_delivery import EventBus
from sandbox.lambda_runtime import LambdaRuntime
from sandbox.tls import CertificateAuthority
from template_common.settings import TemplateSettings
from tests.sandbox.conftest import commit_files, deploy, git, git_environment

REPOSITORY = "sagemaker-churn-model-p-7gxpyr2wsl2k"
TABLE = "project-registry"
BUILDSPEC = """\
version: 0.2
phases:
  build:
    commands:
      - echo "training $SOURCE_BRANCH ($BRANCH_KIND) into $MODEL_GROUPS"
      - echo "at $CODEBUILD_RESOLVED_SOURCE_VERSION"
"""


@pytest.fixture(scope="module")
def world(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    authority = CertificateAuthority.create(tmp_path_factory.mktemp("ca"))
    runtime = LambdaRuntime(emulator, environment=authority.environment())
    bus = EventBus(emulator, runtime)
    git = CodeCommitGitEndpoint(emulator, authority, events=bus)
    builds = CodeBuildRuns(emulator, environment=authority.environment())
    zip_path = package_lambda(tmp_path_factory.mktemp("dist")).path
    trigger = deploy(
        emulator,
        "training-trigger",
        "lambda_project_lifecycle.training_trigger.handler",
        zip_path.read_bytes(),
        Timeout=30,
        Environment={"Variables": {REGISTRY_TABLE_ENV: TABLE}},
    )
    rule = platform.build(TemplateSettings()).to_dict()["Resources"]["CodeCommitPushRule"]
    events = emulator.client("events")
    events.put_rule(Name="pushes", EventPattern=json.dumps(rule["Properties"]["EventPattern"]))
    events.put_targets(Rule="pushes", Targets=[{"Id": "trigger", "Arn": trigger["FunctionArn"]}])
    clone_url = emulator.client("codecommit").create_repository(repositoryName=REPOSITORY)[
        "repositoryMetadata"
    ]["cloneUrlHttp"]
    emulator.client("codebuild").create_project(
        name=f"{REPOSITORY}-training",
        source={"type": "CODECOMMIT", "location": clone_url},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole="arn:aws:iam::123456789012:role/training",
    )
    dynamodb = emulator.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    project_registry.save_repository(
        dynamodb,
        TABLE,
        {
            "pk": project_registry.repository_key(REPOSITORY),
            "ProjectName": "churn-model",
            "ProjectId": "p-7gxpyr2wsl2k",
            "Scenario": "baseline",
            "TrainingProject": f"{REPOSITORY}-training",
            "SeedCommit": "0" * 40,
        },
    )
    return {"runtime": runtime, "git": git, "builds": builds, "authority": authority}


def push_branch(world: dict[str, Any], work: Path, branch: str) -> str:
    environment = git_environment(work, world["authority"])
    commit = commit_files(work, environment, branch, {"buildspec.yml": BUILDSPEC})
    git(work, environment, "push", "-q", world["git"].authenticated_url(REPOSITORY), branch)
    return commit


def test_a_feature_push_starts_the_projects_build_on_the_pushed_commit(
    emulator: Emulator, world: dict[str, Any], tmp_path: Path
) -> None:
    commit = push_branch(world, tmp_path, "feature-better-trees")

    assert world["runtime"].wait_for_async(120)
    (build_id,) = emulator.client("codebuild").list_builds_for_project(
        projectName=f"{REPOSITORY}-training"
    )["ids"]
    build = world["builds"].wait(build_id, 120)

    assert build.status == "SUCCEEDED", "\n".join(build.lines)
    assert f"training feature-better-trees (feature) into {REPOSITORY}-feature" in build.lines
    assert f"at {commit}" in build.lines
    started = [line for line in world["runtime"].logs("training-trigger") if "Started" in line]
    assert started and build_id in started[0]
