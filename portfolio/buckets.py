"""Private buckets: encrypted, versioned, no public access, TLS only. Used by both stacks."""

from __future__ import annotations

from collections.abc import Sequence

from awacs import s3 as s3_actions
from awacs.aws import Bool, Condition, Deny, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Join, Ref, Template, s3

from template_common.checkov_skips import BUCKET_ACCESS_AUDITED_BY_CLOUDTRAIL, skip_metadata

NONCURRENT_VERSION_DAYS = 90


def add_private_bucket(
    template: Template,
    logical_id: str,
    *,
    retain: bool = True,
    cors: s3.CorsConfiguration | None = None,
    grants: Sequence[Statement] = (),
) -> s3.Bucket:
    """A bucket no one reaches without credentials or over plain HTTP, with its policy
    (and ``grants``: statements that let principals of other accounts in)."""
    options: dict[str, object] = (
        {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"} if retain else {}
    )
    if cors is not None:
        options["CorsConfiguration"] = cors
    bucket = template.add_resource(
        s3.Bucket(
            logical_id,
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                            SSEAlgorithm="AES256"
                        ),
                        BucketKeyEnabled=True,
                    )
                ]
            ),
            VersioningConfiguration=s3.VersioningConfiguration(Status="Enabled"),
            PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            OwnershipControls=s3.OwnershipControls(
                Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="expire-old-versions",
                        Status="Enabled",
                        NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                            NoncurrentDays=NONCURRENT_VERSION_DAYS
                        ),
                        AbortIncompleteMultipartUpload=s3.AbortIncompleteMultipartUpload(
                            DaysAfterInitiation=7
                        ),
                    )
                ]
            ),
            Metadata=skip_metadata(BUCKET_ACCESS_AUDITED_BY_CLOUDTRAIL),
            **options,
        )
    )
    template.add_resource(
        s3.BucketPolicy(
            f"{logical_id}Policy",
            Bucket=Ref(bucket),
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="TlsOnly",
                        Effect=Deny,
                        Principal=Principal("*"),
                        Action=[s3_actions.Action("*")],
                        Resource=[GetAtt(bucket, "Arn"), Join("", [GetAtt(bucket, "Arn"), "/*"])],
                        Condition=Condition(Bool("aws:SecureTransport", "false")),
                    ),
                    *grants,
                ],
            ),
        )
    )
    return bucket
