"""CodeBuild runs: the buildspec from the CodeCommit source, with CodeBuild's environment."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from sandbox.codebuild_runs import CodeBuildRuns
from sandbox.codecommit_git import CodeCommitGitEndpoint
from sandbox.emulator import Emulator
from sandbox.tls import CertificateAuthority
from tests.sandbox.conftest import commit_files, git, git_environment

REPORT = """\
python -c 'import json, os, boto3; boto3.client("s3").put_object(Bucket="build-results", \
Key=os.environ["CODEBUILD_BUILD_ID"], Body=json.dumps({**dict(os.environ), "CWD": os.getcwd()}))'
"""

BUILDSPEC = f"""\
version: 0.2
env:
  variables:
    FROM_BUILDSPEC: spec
    OVERRIDDEN: spec
  parameter-store:
    FROM_SSM: /build/greeting
phases:
  install:
    commands:
      - touch installed
  pre_build:
    commands:
      - export CARRIED=over
      - mkdir -p out && cd out
      - test "$FAIL_IN" != pre_build
  build:
    commands:
      - |
        {REPORT.strip()}
      - test "$FAIL_IN" != build
      - sleep "${{SLEEP:-0}}"
    finally:
      - echo finally ran
  post_build:
    commands:
      - echo "post build succeeding=$CODEBUILD_BUILD_SUCCEEDING"
"""


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def endpoint(emulator: Emulator, authority: CertificateAuthority) -> CodeCommitGitEndpoint:
    return CodeCommitGitEndpoint(emulator, authority)


@pytest.fixture(scope="module")
def builds(emulator: Emulator, authority: CertificateAuthority) -> CodeBuildRuns:
    return CodeBuildRuns(emulator, environment=authority.environment())


@pytest.fixture(scope="module")
def project(
    emulator: Emulator,
    endpoint: CodeCommitGitEndpoint,
    builds: CodeBuildRuns,
    authority: CertificateAuthority,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, str]:
    """A CodeCommit repository with a buildspec on branch dev, and a project building it."""
    codecommit = emulator.client("codecommit")
    clone_url = codecommit.create_repository(repositoryName="sagemaker-built")[
        "repositoryMetadata"
    ]["cloneUrlHttp"]
    emulator.client("s3").create_bucket(Bucket="build-results")
    emulator.client("ssm").put_parameter(Name="/build/greeting", Value="hello", Type="String")
    work = tmp_path_factory.mktemp("work")
    environment = git_environment(work, authority)
    commit = commit_files(work, environment, "dev", {"buildspec.yml": BUILDSPEC})
    git(work, environment, "push", "-q", endpoint.authenticated_url("sagemaker-built"), "dev")
    emulator.client("codebuild").create_project(
        name="training",
        source={"type": "CODECOMMIT", "location": clone_url},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
            "computeType": "BUILD_GENERAL1_SMALL",
            "environmentVariables": [
                {"name": "OVERRIDDEN", "value": "project", "type": "PLAINTEXT"},
                {"name": "FROM_PROJECT", "value": "project", "type": "PLAINTEXT"},
            ],
        },
        serviceRole="arn:aws:iam::123456789012:role/training",
        timeoutInMinutes=30,
    )
    return {"commit": commit, "clone_url": clone_url}


def start(emulator: Emulator, **options: Any) -> str:
    reply = emulator.client("codebuild").start_build(projectName="training", **options)
    return str(reply["build"]["id"])


def described(emulator: Emulator, build_id: str) -> dict[str, Any]:
    (build,) = emulator.client("codebuild").batch_get_builds(ids=[build_id])["builds"]
    return dict(build)


def reported(emulator: Emulator, build_id: str) -> dict[str, str]:
    body = emulator.client("s3").get_object(Bucket="build-results", Key=build_id)["Body"]
    return dict(json.loads(body.read()))


def override(**variables: str) -> list[dict[str, str]]:
    return [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in variables.items()]


def test_a_build_runs_the_buildspec_of_the_source_version_with_codebuilds_environment(
    emulator: Emulator, builds: CodeBuildRuns, project: dict[str, str]
) -> None:
    build_id = start(
        emulator,
        sourceVersion="dev",
        environmentVariablesOverride=override(OVERRIDDEN="override", SOURCE_BRANCH="dev"),
    )

    build = builds.wait(build_id, 120)

    assert build.status == "SUCCEEDED", "\n".join(build.lines)
    seen = reported(emulator, build_id)
    assert seen["CODEBUILD_RESOLVED_SOURCE_VERSION"] == project["commit"]
    assert seen["CODEBUILD_BUILD_ID"] == build_id
    assert seen["CODEBUILD_SOURCE_VERSION"] == "dev"
    assert seen["CODEBUILD_SOURCE_REPO_URL"] == project["clone_url"]
    assert abs(int(seen["CODEBUILD_START_TIME"]) / 1000 - time.time()) < 300
    assert (seen["FROM_BUILDSPEC"], seen["FROM_PROJECT"], seen["OVERRIDDEN"]) == (
        "spec",
        "project",
        "override",
    )
    assert (seen["FROM_SSM"], seen["SOURCE_BRANCH"]) == ("hello", "dev")
    assert seen["CARRIED"] == "over"  # exported in pre_build, seen in build
    assert Path(seen["CWD"]).name == "out"  # the directory pre_build moved to
    assert seen["AWS_ENDPOINT_URL"] == emulator.endpoint_url
    answer = described(emulator, build_id)
    assert answer["buildStatus"] == "SUCCEEDED" and answer["buildComplete"]
    assert answer["resolvedSourceVersion"] == project["commit"]
    phases = {p["phaseType"]: p for p in answer["phases"]}
    assert list(phases)[:4] == ["SUBMITTED", "QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE"]
    assert phases["INSTALL"]["contexts"][0]["statusCode"] == "SKIPPED"
    assert all(p.get("phaseStatus") in ("SUCCEEDED", None) for p in answer["phases"])
    lines = builds.log(build_id)
    assert any("Running command export CARRIED=over" in line for line in lines)
    assert "finally ran" in lines and "post build succeeding=1" in lines


def test_a_failing_build_command_fails_the_build_and_post_build_still_runs(
    emulator: Emulator, builds: CodeBuildRuns, project: dict[str, str]
) -> None:
    build_id = start(
        emulator,
        sourceVersion=project["commit"],
        environmentVariablesOverride=override(FAIL_IN="build"),
    )

    build = builds.wait(build_id, 120)

    assert build.status == "FAILED"
    phases = {p["phaseType"]: p for p in described(emulator, build_id)["phases"]}
    assert phases["BUILD"]["phaseStatus"] == "FAILED"
    assert phases["BUILD"]["contexts"][0]["statusCode"] == "COMMAND_EXECUTION_ERROR"
    assert "exit status 1" in phases["BUILD"]["contexts"][0]["message"]
    assert "post build succeeding=0" in builds.log(build_id)


def test_a_failing_pre_build_skips_the_build_phase(
    emulator: Emulator, builds: CodeBuildRuns, project: dict[str, str]
) -> None:
    build_id = start(
        emulator, sourceVersion="dev", environmentVariablesOverride=override(FAIL_IN="pre_build")
    )

    build = builds.wait(build_id, 120)

    assert build.status == "FAILED"
    with pytest.raises(emulator.client("s3").exceptions.NoSuchKey):
        reported(emulator, build_id)  # the build phase never ran


def test_stop_build_stops_a_running_command(
    emulator: Emulator, builds: CodeBuildRuns, project: dict[str, str]
) -> None:
    build_id = start(
        emulator, sourceVersion="dev", environmentVariablesOverride=override(SLEEP="60")
    )
    deadline = time.monotonic() + 60
    while not any("sleep" in line for line in builds.log(build_id)):
        assert time.monotonic() < deadline
        time.sleep(0.1)

    emulator.client("codebuild").stop_build(id=build_id)
    build = builds.wait(build_id, 30)

    assert build.status == "STOPPED"
    assert described(emulator, build_id)["buildStatus"] == "STOPPED"


def test_an_unknown_source_version_fails_in_download_source(
    emulator: Emulator, builds: CodeBuildRuns, project: dict[str, str]
) -> None:
    build_id = start(emulator, sourceVersion="no-such-branch")

    build = builds.wait(build_id, 60)

    assert build.status == "FAILED"
    phases = {p["phaseType"]: p for p in described(emulator, build_id)["phases"]}
    assert phases["DOWNLOAD_SOURCE"]["phaseStatus"] == "FAILED"
    assert "no-such-branch" in phases["DOWNLOAD_SOURCE"]["contexts"][0]["message"]
