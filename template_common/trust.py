"""Trust policies of roles an AWS service assumes."""

from __future__ import annotations

from awacs import sts
from awacs.aws import Allow, PolicyDocument, Principal, Statement


def trust_policy(service: str) -> PolicyDocument:
    """``service`` (``sagemaker.amazonaws.com``, ...) may assume the role."""
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow, Principal=Principal("Service", [service]), Action=[sts.AssumeRole]
            )
        ],
    )
