"""S3's expected-bucket-owner check, which moto ignores (a row of the gaps table).

A request that names ``ExpectedBucketOwner`` (the ``x-amz-expected-bucket-owner``
header) of a bucket another account owns is refused with 403 ``AccessDenied``, as S3
documents ("Verifying bucket ownership with bucket owner condition").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moto.s3.models import s3_backends

from sandbox.emulator import AwsError, Call

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

CHECKED_OPERATIONS = (
    "PutObject",
    "GetObject",
    "HeadObject",
    "DeleteObject",
    "CopyObject",
    "PutObjectTagging",
    "GetObjectTagging",
    "ListObjectsV2",
    "ListObjectVersions",
    "HeadBucket",
    "GetBucketCors",
    "PutBucketCors",
    "GetBucketTagging",
)


def register(emulator: Emulator) -> None:
    for operation in CHECKED_OPERATIONS:
        emulator.before("s3", operation, "ExpectedBucketOwner is not checked")(check_owner)


def check_owner(call: Call) -> None:
    expected = call.params.get("ExpectedBucketOwner")
    if not expected:
        return
    owner = s3_backends.bucket_accounts.get(call.params.get("Bucket", ""))
    if owner is not None and owner[1] != expected:
        raise AwsError("AccessDenied", "Access Denied", status=403)
