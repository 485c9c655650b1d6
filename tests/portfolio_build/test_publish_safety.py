"""Bad input and unsafe states stop ``publish`` with one clear line, nothing half-changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto.cloudformation.models import cloudformation_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3.models import s3_backends

from portfolio_build.cli import main
from portfolio_build.config import load_config
from portfolio_build.errors import ConfigError, PublishError
from portfolio_build.publish import publish
from portfolio_build.region_publish import PublishOptions, stack_names
from portfolio_build.release import Release
from sandbox.emulator import Call, Emulator
from tests.support.publishing import (
    Lines,
    config_for,
    edited,
    sessions,
    snapshot,
    with_changed_product,
)

REGION = "us-east-1"
OTHER_ACCOUNT = "210987654321"


def one_region(release: Release, **overrides: Any) -> Any:
    return config_for(release.dist, regions=[REGION], **overrides)


def run(config: Any, release: Release, **options: Any) -> Lines:
    lines = Lines([])
    assert publish(config, release, PublishOptions(**options), sessions, output=lines.output()) == 0
    return lines


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"keep_versions": 10, "max_versions": 5}, "keep_versions (10) is over max_versions (5)"),
        ({"max_versions": 120}, "--max-versions: 120 is greater than the maximum of 100"),
        ({"regions": ["us-east-1", "xx-north-9"]}, "regions: xx-north-9 unknown"),
    ],
)
def test_bad_limits_and_regions_are_refused_naming_the_option(
    overrides: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(environ={}, cwd=tmp_path, overrides=overrides)


def test_a_profile_that_does_not_exist_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "aws-config"
    config_file.write_text("[profile dev]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))

    status = main(["publish", "--profile", "prod", "--dist", str(tmp_path / "dist")])

    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err == ["error: --profile prod: no such profile in the AWS config (known: dev)"]
    assert not (tmp_path / "dist").exists()  # not even built


def test_a_profile_without_credentials_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "aws-config"
    config_file.write_text("[profile dev]\nregion = us-east-1\n")
    for variable in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    status = main(["status", "--profile", "dev", "--dist", str(tmp_path / "dist")])

    assert status == 2
    assert capsys.readouterr().err.strip() == (
        "error: --profile dev: no credentials found (aws configure, or aws sso login)"
    )


def test_a_template_over_one_megabyte_is_refused_before_anything_is_made(
    aws: Emulator, release: Release, tmp_path: Path
) -> None:
    big = with_changed_product(release, tmp_path / "big", "advanced-sagemaker")
    path = big.one("product-template", "advanced-sagemaker").path
    body = json.loads(path.read_text())
    body["Metadata"]["Padding"] = "x" * 1_100_000
    path.write_text(json.dumps(body))
    object.__setattr__(
        big,
        "artifacts",
        tuple(
            type(a)(
                a.kind,
                a.name,
                a.path,
                a.key,
                a.sha256,
                path.stat().st_size if a.path == path else a.size,
                a.meta,
            )
            for a in big.artifacts
        ),
    )
    config = one_region(big)

    with pytest.raises(
        PublishError,
        match=r"advanced-sagemaker.json: 1,1\d\d,\d\d\d bytes, "
        r"over CloudFormation's 1,048,576-byte limit",
    ):
        publish(config, big, PublishOptions(), sessions)
    assert snapshot(config, aws)[REGION]["stacks"] == {}


def test_a_studio_domain_that_does_not_exist_is_refused_naming_the_option(
    aws: Emulator, release: Release
) -> None:
    config = one_region(release, studio_domains=["d-nosuchdomain"])

    with pytest.raises(
        PublishError, match=f"--studio-domain d-nosuchdomain: no such SageMaker domain in {REGION}"
    ):
        publish(config, release, PublishOptions(), sessions)
    assert snapshot(config, aws)[REGION]["stacks"] == {}


def test_a_bucket_owned_by_another_account_gets_nothing(
    aws: Emulator, release: Release, tmp_path: Path
) -> None:
    config = one_region(release)
    run(config, release)
    bootstrap_name, _ = stack_names(config)
    cloudformation = aws.client("cloudformation", REGION)
    outputs = cloudformation.describe_stacks(StackName=bootstrap_name)["Stacks"][0]["Outputs"]
    bucket = next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ArtifactsBucketName")
    # The bucket is deleted and its name taken by another account.
    ours = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    ours.buckets[bucket].keys.clear()
    ours.delete_bucket(bucket)
    s3_backends[OTHER_ACCOUNT]["aws"].create_bucket(bucket, REGION)
    changed = with_changed_product(release, tmp_path / "changed", "baseline-sagemaker")
    before = snapshot(config, aws)

    with pytest.raises(
        PublishError,
        match=f"artifacts bucket {bucket} is not owned by account {DEFAULT_ACCOUNT_ID}",
    ):
        publish(config, changed, PublishOptions(), sessions)
    assert s3_backends[OTHER_ACCOUNT]["aws"].buckets[bucket].keys == {}
    assert snapshot(config, aws) == before


# -- unsafe states --------------------------------------------------------------------------


def test_a_drifted_platform_is_not_updated_unless_accepted(
    aws: Emulator, release: Release, tmp_path: Path
) -> None:
    config = one_region(release)
    run(config, release)
    aws.client("ssm", REGION).put_parameter(
        Name=config.settings.version_parameter,
        Value="edited by hand",
        Overwrite=True,
        Type="String",
    )
    changed = one_region(
        release, stack_parameters={"MlflowTrackingUri": "https://mlflow.example.com"}
    )
    before = snapshot(config, aws)

    with pytest.raises(
        PublishError,
        match=r"drifted from its template: VersionParameter \(AWS::SSM::Parameter, "
        r"MODIFIED\)\. .*--accept-drift",
    ):
        publish(changed, release, PublishOptions(), sessions)
    assert snapshot(config, aws) == before

    lines = run(changed, release, accept_drift=True)
    assert any("LifecycleFunction" in line and "~ Modify" in line for line in lines.of(REGION)), (
        lines.text()
    )


@pytest.mark.parametrize(
    ("state", "command"),
    [
        (
            "ROLLBACK_COMPLETE",
            "aws cloudformation delete-stack --stack-name {stack} --region us-east-1",
        ),
        (
            "UPDATE_ROLLBACK_FAILED",
            "aws cloudformation continue-update-rollback --stack-name {stack} --region us-east-1",
        ),
    ],
)
def test_a_stack_that_needs_a_person_gets_the_command_that_recovers(
    aws: Emulator, release: Release, state: str, command: str
) -> None:
    config = one_region(release)
    run(config, release)
    _, platform_name = stack_names(config)
    cloudformation_backends[DEFAULT_ACCOUNT_ID][REGION].get_stack(platform_name).status = state

    with pytest.raises(PublishError) as raised:
        publish(config, release, PublishOptions(), sessions)
    assert str(raised.value).startswith(f"{REGION}: stack {platform_name} is {state}: ")
    assert f"`{command.format(stack=platform_name)}`" in str(raised.value)


def test_a_failed_update_names_the_first_failure_and_the_rollback(
    aws: Emulator, release: Release
) -> None:
    config = one_region(release)
    run(config, release)
    _, platform_name = stack_names(config)

    @aws.after("cloudformation", "ExecuteChangeSet", "test: CloudFormation fails the update")
    def fail(call: Call, answer: dict[str, Any]) -> None:
        stack = call.backend().get_stack(platform_name)
        stack._add_stack_event(
            "UPDATE_FAILED", resource_status_reason="Resource handler returned message: boom"
        )
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"

    changed = one_region(
        release, stack_parameters={"MlflowTrackingUri": "https://mlflow.example.com"}
    )
    with pytest.raises(PublishError) as raised:
        publish(changed, release, PublishOptions(), sessions, output=Lines([]).output())
    assert str(raised.value) == (
        f"{REGION}: stack {platform_name} ended UPDATE_ROLLBACK_COMPLETE. First failure: "
        f"{platform_name}: Resource handler returned message: boom. rolled back: the stack is "
        "as it was before"
    )


def test_a_removal_asks_first_and_a_no_leaves_no_change_set(
    aws: Emulator, release: Release, tmp_path: Path
) -> None:
    def add_topic(body: dict[str, Any]) -> None:
        body["Resources"]["ExtraTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {}}

    bigger = edited(release, tmp_path / "grown", {"templates/platform.json": add_topic})
    config = one_region(release)
    run(config, bigger)
    _, platform_name = stack_names(config)
    asked: list[str] = []

    with pytest.raises(PublishError, match="the plan was not confirmed"):
        publish(
            config,
            release,
            PublishOptions(),
            sessions,
            output=Lines([]).output(),
            confirm=lambda q: asked.append(q) or False,
        )
    assert asked == ["The plan replaces or removes 1 resource(s). Go on?"]
    cloudformation = aws.client("cloudformation", REGION)
    assert cloudformation.list_change_sets(StackName=platform_name)["Summaries"] == []
    resources = cloudformation.describe_stack_resources(StackName=platform_name)["StackResources"]
    assert "ExtraTopic" in {r.get("LogicalResourceId") for r in resources}

    lines = run(config, release, yes=True)
    assert any(
        "- Remove AWS::SNS::Topic" in line and "ExtraTopic" in line and "REMOVED" in line
        for line in lines.of(REGION)
    )


def test_an_interrupted_publish_is_continued_by_the_next(aws: Emulator, release: Release) -> None:
    config = one_region(release)
    _, platform_name = stack_names(config)
    cloudformation = aws.client("cloudformation", REGION)
    cloudformation.create_change_set(
        StackName=platform_name,
        ChangeSetName="publish-interrupted",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}),
    )

    run(config, release)

    stack = cloudformation.describe_stacks(StackName=platform_name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert cloudformation.list_change_sets(StackName=platform_name)["Summaries"] == []
