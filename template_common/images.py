"""Pulling container images: what every role SageMaker runs jobs or models with holds."""

from __future__ import annotations

from awacs import ecr as ecr_actions
from awacs.aws import Allow, Statement
from troposphere import Sub


def image_pull_statements() -> list[Statement]:
    """Pull the container images of SageMaker jobs and models (AWS's and the account's)."""
    return [
        Statement(
            Sid="PullImages",
            Effect=Allow,
            Action=[
                ecr_actions.BatchGetImage,
                ecr_actions.GetDownloadUrlForLayer,
                ecr_actions.BatchCheckLayerAvailability,
            ],
            # AWS's images are in AWS's accounts: any account of this partition and region.
            Resource=[Sub("arn:${AWS::Partition}:ecr:${AWS::Region}:*:repository/*")],
        ),
        Statement(
            Sid="EcrTokenHasNoResourceScope",
            Effect=Allow,
            Action=[ecr_actions.GetAuthorizationToken],
            Resource=["*"],
        ),
    ]
