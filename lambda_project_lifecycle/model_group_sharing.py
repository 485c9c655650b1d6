"""Model package groups shared with the accounts of the stages they deploy to, and no others.

With stage accounts configured, each of a project's groups gets a resource policy that
lets the deployment role of its stage's accounts (``dev``/``feature`` groups: the
development account; ``prod``/``champion``/``challenger``: the production account, and
staging's when there is one) describe and list its packages and make models of them.
Every statement names its account and that account's one role; without stage accounts
no group has a policy.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from lambda_project_lifecycle.aws_calls import call
from lambda_project_lifecycle.custom_resource import Checkpoint, no_checkpoint
from lambda_project_lifecycle.scenarios import STAGE_OF_GROUP
from lambda_project_lifecycle.stage_accounts import StageAccountIds

logger = logging.getLogger(__name__)


def accounts_of_group(group_kind: str, ids: StageAccountIds) -> list[str]:
    """The accounts whose endpoints serve packages of ``group_kind``."""
    stage = STAGE_OF_GROUP[group_kind]
    stages = ["staging", "production"] if stage == "production" else [stage]
    return sorted({a for s in stages if (a := ids.account_of(s))})


def group_policy(
    group_arn: str, accounts: list[str], ids: StageAccountIds, partition: str
) -> dict[str, Any]:
    """The resource policy of one group: each statement names its account's deployment role."""
    packages_arn = group_arn.replace(":model-package-group/", ":model-package/", 1) + "/*"
    statements: list[dict[str, Any]] = []
    for account in accounts:
        principal = {
            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
            "Condition": {
                "ArnEquals": {
                    "aws:PrincipalArn": f"arn:{partition}:iam::{account}:role/{ids.deployment_role}"
                }
            },
        }
        statements += [
            {
                "Sid": f"Group{account}",
                "Effect": "Allow",
                "Action": ["sagemaker:DescribeModelPackageGroup"],
                "Resource": group_arn,
                **principal,
            },
            {
                "Sid": f"Packages{account}",
                "Effect": "Allow",
                "Action": [
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:ListModelPackages",
                    "sagemaker:CreateModel",
                ],
                "Resource": packages_arn,
                **principal,
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def share_model_groups(
    groups: dict[str, str],
    sagemaker: Any,
    ids: StageAccountIds | None,
    *,
    checkpoint: Checkpoint = no_checkpoint,
) -> dict[str, list[str]]:
    """Put each group's policy (group kind -> name); group name -> the accounts it names."""
    if ids is None:
        return {}
    shared: dict[str, list[str]] = {}
    for kind, name in groups.items():
        accounts = accounts_of_group(kind, ids)
        if not accounts:
            continue
        arn = str(
            call(
                f"Reading model package group {name}",
                sagemaker.describe_model_package_group,
                ModelPackageGroupName=name,
            )["ModelPackageGroupArn"]
        )
        checkpoint(f"sharing model package group {name} with {', '.join(accounts)}")
        call(
            f"Sharing model package group {name} with accounts {', '.join(accounts)}",
            sagemaker.put_model_package_group_policy,
            ModelPackageGroupName=name,
            ResourcePolicy=json.dumps(group_policy(arn, accounts, ids, arn.split(":")[1])),
        )
        logger.info("Model package group %s is shared with %s", name, ", ".join(accounts))
        shared[name] = accounts
    return shared
