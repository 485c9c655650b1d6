"""Stage accounts and the platform's organization, checked before ``publish`` changes anything.

When the platform account is in an organization (``organizations:DescribeOrganization``
answers), every stage account must be in the same one: an account reached with a profile
describes its own organization; an account reached by a StackSet (``stage_organizational_
units``) is looked up by the publishing account (``DescribeAccount``, ``ListParents``: the
management account or a delegated administrator may), and must sit under its unit. When
Organizations is not in use, profile accounts are published as they are (said on a line),
and StackSets to organizational units are refused: they need an organization.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from portfolio_build.aws_session import CLIENT_CONFIG
from portfolio_build.errors import PublishError

if TYPE_CHECKING:
    from mypy_boto3_organizations import OrganizationsClient

NOT_IN_USE = "AWSOrganizationsNotInUseException"
# Ancestors of an account up to its organization's root, at most this deep (Organizations
# allows five levels of units under the root).
MAX_DEPTH = 6


@dataclass(frozen=True)
class Organization:
    id: str
    management_account: str

    def managed_by(self, account: str) -> bool:
        return self.management_account == account


def organization_of(session: boto3.Session, who: str) -> Organization | None:
    """The organization the session's account is in; None when Organizations is not in use."""
    client = session.client("organizations", config=CLIENT_CONFIG)
    try:
        found = client.describe_organization()["Organization"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == NOT_IN_USE:
            return None
        code = exc.response["Error"]["Code"]
        raise PublishError(
            f"{who}: cannot describe its organization ({code}); publish checks stage accounts "
            "against it with organizations:DescribeOrganization"
        ) from None
    return Organization(str(found["Id"]), str(found["MasterAccountId"]))


def check_member(
    platform: Organization | None, member: Organization | None, account: str, key: str
) -> None:
    """An account reached with its own credentials is in the platform's organization."""
    if platform is None or (member is not None and member.id == platform.id):
        return
    where = f"organization {member.id}" if member else "no organization"
    raise PublishError(
        f"{key}: account {account} is not in the platform's organization {platform.id} "
        f"(it is in {where}); nothing is published to it"
    )


def check_under_unit(
    session: boto3.Session, organization: Organization, account: str, unit: str, stage: str
) -> None:
    """``account`` is in ``organization`` and under ``unit`` (or ``unit`` is the root)."""
    client = session.client("organizations", config=CLIENT_CONFIG)
    try:
        client.describe_account(AccountId=account)
        ancestors = _ancestors(client, account)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "AccountNotFoundException":
            raise PublishError(
                f"stage_accounts.{stage}: account {account} is not in the platform's "
                f"organization {organization.id}; nothing is published to it"
            ) from None
        raise PublishError(
            f"stage_organizational_units.{stage}: cannot look account {account} up in "
            f"organization {organization.id} ({code}): StackSets to organizational units are "
            "published from the management account or a delegated administrator"
        ) from None
    if unit not in ancestors:
        raise PublishError(
            f"stage_organizational_units.{stage}: account {account} is not under {unit} "
            f"(its units: {', '.join(ancestors)}), so the StackSet would not reach it"
        )


def _ancestors(client: OrganizationsClient, child: str) -> list[str]:
    found: list[str] = []
    for _ in range(MAX_DEPTH):
        parents = client.list_parents(ChildId=child)["Parents"]
        if not parents:
            break
        child = str(parents[0]["Id"])
        found.append(child)
        if parents[0]["Type"] == "ROOT":
            break
    return found
