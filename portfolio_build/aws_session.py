"""AWS sessions for ``publish`` and ``status``: one per region, from one profile.

A profile that does not exist or has no credentials is a one-line error naming it;
the account is read once (STS) so that uploads can check the bucket's owner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from portfolio_build.errors import PublishError

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient  # noqa: F401

# Adaptive retries: CloudFormation and Service Catalog throttle bursts of Describe calls.
CLIENT_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"})
SessionFactory = Callable[[str | None, str], boto3.Session]


def open_session(profile: str | None, region: str) -> boto3.Session:
    """A session of ``profile`` (the default chain when None) in ``region``."""
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        known = ", ".join(sorted(boto3.Session().available_profiles)) or "none"
        raise PublishError(
            f"--profile {profile}: no such profile in the AWS config (known: {known})"
        ) from None


def caller_account(session: boto3.Session, profile: str | None) -> str:
    """The account the session's credentials belong to."""
    label = f"--profile {profile}" if profile else "the default AWS credentials"
    if session.get_credentials() is None:
        raise PublishError(f"{label}: no credentials found (aws configure, or aws sso login)")
    try:
        return str(session.client("sts", config=CLIENT_CONFIG).get_caller_identity()["Account"])
    except (NoCredentialsError, PartialCredentialsError):
        raise PublishError(f"{label}: no usable credentials") from None
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        raise PublishError(f"{label}: the credentials were refused ({code})") from None
    except BotoCoreError as exc:
        raise PublishError(f"{label}: {exc}") from None


def url_suffix(session: boto3.Session, region: str) -> str:
    """``${AWS::URLSuffix}`` of the region's partition (S3 URLs of templates)."""
    partition = session.get_partition_for_region(region)
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
