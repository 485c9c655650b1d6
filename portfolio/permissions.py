"""IAM statements of the shared Lambdas, one function per capability.

Every ARN is built with ``${AWS::Partition}``, ``${AWS::Region}`` and
``${AWS::AccountId}``; per-project resources are matched by the ``sagemaker-``
name prefix every project name starts with (``naming.NAME_PREFIX``).
"""

from __future__ import annotations

from typing import Any

from awacs import dynamodb as ddb_actions
from awacs import sagemaker as sm_actions
from awacs.aws import Allow, Statement
from troposphere import GetAtt, Sub

from lambda_project_lifecycle.naming import NAME_PREFIX


def sagemaker_arn(resource: str) -> Sub:
    """``arn:<partition>:sagemaker:<region>:<account>:<resource>``."""
    return Sub(f"arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")


def model_group_statements() -> list[Statement]:
    return [
        Statement(
            Sid="ProjectModelGroups",
            Effect=Allow,
            Action=[
                sm_actions.CreateModelPackageGroup,
                sm_actions.DeleteModelPackageGroup,
                sm_actions.AddTags,
                sm_actions.ListTags,
            ],
            Resource=[sagemaker_arn(f"model-package-group/{NAME_PREFIX}-*")],
        ),
        Statement(
            Sid="ProjectModelPackages",
            Effect=Allow,
            Action=[sm_actions.DeleteModelPackage],
            Resource=[sagemaker_arn(f"model-package/{NAME_PREFIX}-*/*")],
        ),
        Statement(
            Sid="ListingHasNoResourceScope",
            Effect=Allow,
            Action=[sm_actions.ListModelPackageGroups, sm_actions.ListModelPackages],
            Resource=["*"],
        ),
    ]


def registry_statements(table: Any, *, write: bool) -> list[Statement]:
    actions = [ddb_actions.GetItem]
    if write:
        actions += [ddb_actions.PutItem, ddb_actions.DeleteItem, ddb_actions.UpdateItem]
    return [
        Statement(
            Sid="ProjectRegistry",
            Effect=Allow,
            Action=actions,
            Resource=[GetAtt(table, "Arn")],
        )
    ]
