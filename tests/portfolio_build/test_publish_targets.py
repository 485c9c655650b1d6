"""``publish`` with stage accounts: the platform, then the target-account stack in each stage
account with that account's profile (on the emulator: credentials of AssumeRole into it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from lambda_project_lifecycle.stage_accounts import StageAccountIds
from portfolio_build.errors import PublishError
from portfolio_build.publish import publish
from portfolio_build.region_publish import PublishOptions
from portfolio_build.target_publish import target_stack_name
from sandbox.emulator import Emulator
from template_common.settings import TemplateSettings
from tests.support.publishing import Lines, config_for, make_release, sessions, snapshot

DEV, PROD = "111111111111", "333333333333"
REGION = "us-east-1"
PROFILES = {DEV: "ml-dev", PROD: "ml-prod"}


def profile_sessions(emulator: Emulator) -> object:
    """What ``target_sessions`` opens for a profile: a session in the profile's account."""

    def open_profile(profile: str | None, region: str) -> boto3.Session:
        account = next(a for a, p in PROFILES.items() if p == profile)
        credentials = emulator.client("sts", region).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/administrator", RoleSessionName="publish"
        )["Credentials"]
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )

    return open_profile


def test_publish_rolls_the_target_stack_out_to_every_stage_account(
    aws: Emulator, tmp_path: Path
) -> None:
    accounts = StageAccountIds(development=DEV, production=PROD)
    release = make_release(tmp_path / "dist", TemplateSettings(stage_accounts=accounts))
    config = config_for(
        release.dist,
        regions=[REGION],
        stage_accounts={"dev": DEV, "prod": PROD},
        target_profiles=PROFILES,
    )
    lines = Lines([])

    status = publish(
        config,
        release,
        PublishOptions(method="s3"),
        sessions,
        output=lines.output(),
        target_sessions=profile_sessions(aws),  # type: ignore[arg-type]
    )

    assert status == 0
    platform = aws.client("cloudformation", REGION).describe_stacks(
        StackName="mlops-portfolio-platform"
    )["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in platform["Outputs"]}
    for account in (DEV, PROD):
        cloudformation = aws.client("cloudformation", REGION, account_id=account)
        (stack,) = cloudformation.describe_stacks(StackName=target_stack_name(config))["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        given = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        assert given["PlatformAccountId"] == "123456789012"
        assert given["ProjectDataBucket"] == outputs["ProjectDataBucketName"]
        # The deployment role trusts exactly the platform's handler roles.
        iam = aws.client("iam", account_id=account)
        role = iam.get_role(RoleName="mlops-portfolio-deployment")["Role"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert sorted(trust["Principal"]["AWS"]) == sorted(
            outputs["DeploymentHandlerRoleArns"].split(",")
        )
        assert iam.get_role(RoleName="mlops-portfolio-model")["Role"]["Arn"] == (
            f"arn:aws:iam::{account}:role/mlops-portfolio-model"
        )
    assert any(f"account {DEV} (stage dev)" in line for line in lines.of(REGION))
    assert "is in no organization (Organizations is not in use)" in lines.text()

    again = Lines([])
    assert (
        publish(
            config,
            release,
            PublishOptions(method="s3"),
            sessions,
            output=again.output(),
            target_sessions=profile_sessions(aws),  # type: ignore[arg-type]
        )
        == 0
    )
    assert f"target-account stack mlops-portfolio-target in account {PROD} is current" in (
        again.of(REGION)
    )


def test_a_stage_account_without_a_profile_stops_publish_before_any_change(
    aws: Emulator, tmp_path: Path
) -> None:
    accounts = StageAccountIds(development=DEV, production=PROD)
    release = make_release(tmp_path / "dist", TemplateSettings(stage_accounts=accounts))
    config = config_for(
        release.dist,
        regions=[REGION],
        stage_accounts={"dev": DEV, "prod": PROD},
        target_profiles={DEV: "ml-dev"},
    )
    message = refused(config, release, aws)

    assert f"stage_accounts.prod: account {PROD} has no profile in target_profiles" in message


def test_a_profile_account_outside_the_platforms_organization_stops_publish(
    aws: Emulator, tmp_path: Path
) -> None:
    aws.client("organizations", REGION).create_organization(FeatureSet="ALL")
    accounts = StageAccountIds(development=DEV, production=PROD)
    release = make_release(tmp_path / "dist", TemplateSettings(stage_accounts=accounts))
    config = config_for(
        release.dist,
        regions=[REGION],
        stage_accounts={"dev": DEV, "prod": PROD},
        target_profiles=PROFILES,
    )
    message = refused(config, release, aws)

    assert f"stage_accounts.dev: account {DEV} is not in the platform's organization o-" in message
    assert "(it is in no organization)" in message


def refused(config: Any, release: Any, aws: Emulator) -> str:
    """The message of the publish that stops; it changed nothing."""
    before = snapshot(config, aws)
    with pytest.raises(PublishError) as raised:
        publish(
            config,
            release,
            PublishOptions(method="s3"),
            sessions,
            output=Lines([]).output(),
            target_sessions=profile_sessions(aws),  # type: ignore[arg-type]
        )
    assert snapshot(config, aws) == before
    return str(raised.value)
