"""The bootstrap stack: the artifacts bucket, deployed before the platform stack.

The Lambda zip, the seed-code zips and the product templates are uploaded
here first, so the platform stack can point at them (as ``cdk bootstrap`` does).
"""

from __future__ import annotations

from awacs import s3 as s3_actions
from awacs.aws import Bool, Condition, Deny, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Join, Output, Ref, Sub, Template, s3

from portfolio.settings import TemplateSettings

NONCURRENT_VERSION_DAYS = 90


def build(settings: TemplateSettings) -> Template:
    template = Template(
        Description=f"mlops-portfolio {settings.version}: artifacts bucket for templates, "
        "the Lambda zip and seed-code zips."
    )
    bucket = template.add_resource(
        s3.Bucket(
            "ArtifactsBucket",
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
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
        )
    )
    template.add_resource(
        s3.BucketPolicy(
            "ArtifactsBucketPolicy",
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
                    )
                ],
            ),
        )
    )
    template.add_output(Output("ArtifactsBucketName", Value=Ref(bucket)))
    template.add_output(
        Output("ArtifactsBucketRegionalDomain", Value=GetAtt(bucket, "RegionalDomainName"))
    )
    template.add_output(Output("ArtifactsBucketArn", Value=Sub("${ArtifactsBucket.Arn}")))
    return template
