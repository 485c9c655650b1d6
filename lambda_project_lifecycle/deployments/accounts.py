"""Which account a stage deploys into: the clients for the stage's account.

The deployment engine reads and writes the project registry, the project data
bucket and the notices with the platform's own clients; it makes a stage's models,
endpoint configs, endpoints, alarms and scaling, runs its integration tests and
finds the role its models run as with the clients :meth:`StageAccounts.clients`
gives for that stage. Every stage is in the platform's own account
(:class:`SameAccount`) unless stage accounts are configured (:class:`AssumedAccounts`:
the target-account stack's deployment role, assumed in the stage's account).

When the platform account is in an organization, a stage account must be in the same
one (each account describes its own organization: no management-account permission is
needed); when Organizations is not in use, that is logged and the stage goes on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from botocore.exceptions import ClientError

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments.errors import StageAccountError
from lambda_project_lifecycle.errors import error_code
from lambda_project_lifecycle.stage_accounts import STAGE_ACCOUNTS_ENV, StageAccountIds

logger = logging.getLogger(__name__)

SESSION_NAME = "mlops-portfolio-deployment"
ORGANIZATIONS_NOT_IN_USE = "AWSOrganizationsNotInUseException"
# Stages whose endpoints the reaper and project delete look for, in every account.
HOSTED_STAGES = ("development", "staging", "production")
OpenClients = Callable[[str, dict[str, Any], str], AwsClients]


class StageAccounts(Protocol):
    def clients(self, stage: str) -> AwsClients:
        """The clients of the account that hosts ``stage``'s endpoint."""
        ...

    def account_of(self, stage: str) -> str | None:
        """The account id of ``stage`` when it is not the platform's own (None)."""
        ...

    def model_role_arn(self, stage: str) -> str | None:
        """The role models of ``stage`` run as when they cannot run as the project's own
        training role (None: the platform's shared model role)."""
        ...

    def gated(self) -> bool:
        """True when production approvals deploy to staging first."""
        ...

    def second_approval(self) -> bool:
        """True when what passed in staging waits for a second approval of production."""
        ...

    def stages(self) -> tuple[str, ...]:
        """The stages that host endpoints."""
        ...

    def hosting_accounts(self) -> tuple[str, ...]:
        """The accounts other than the platform's that host stages (their events count)."""
        ...


@dataclass(frozen=True)
class SameAccount:
    """Every stage is hosted in the platform's own account."""

    platform: AwsClients

    def clients(self, stage: str) -> AwsClients:
        return self.platform

    def account_of(self, stage: str) -> str | None:
        return None

    def model_role_arn(self, stage: str) -> str | None:
        return None

    def gated(self) -> bool:
        return False

    def second_approval(self) -> bool:
        return False

    def stages(self) -> tuple[str, ...]:
        return ("development", "production")

    def hosting_accounts(self) -> tuple[str, ...]:
        return ()


@dataclass
class AssumedAccounts:
    """Each stage in an account of its own, reached through its deployment role.

    The role is assumed once per account and invocation; before it is used, its trust
    policy is read (the role may read itself): a role that trusts any principal outside
    the platform's account is refused, as is a missing one.
    """

    platform: AwsClients
    ids: StageAccountIds
    # (account, the credentials AssumeRole gave, region) -> the account's clients
    open_clients: OpenClients | None = None
    _by_account: dict[str, AwsClients] = field(default_factory=dict)
    _caller: dict[str, str] = field(default_factory=dict)
    # The platform's organization id, "" when Organizations is not in use (read once).
    _organization: list[str] = field(default_factory=list)

    def clients(self, stage: str) -> AwsClients:
        account = self.ids.account_of(stage)
        if account is None:
            configured = ", ".join(f"{s}={a}" for s, a in sorted(self.ids.by_stage().items()))
            raise StageAccountError(
                stage, "", f"no account is configured for this stage (configured: {configured})"
            )
        if account not in self._by_account:
            self._by_account[account] = self._assume(stage, account)
        return self._by_account[account]

    def account_of(self, stage: str) -> str | None:
        return self.ids.account_of(stage)

    def model_role_arn(self, stage: str) -> str | None:
        account = self.ids.account_of(stage)
        if account is None:
            return None
        return f"arn:{self._partition()}:iam::{account}:role/{self.ids.model_role}"

    def gated(self) -> bool:
        return self.ids.gated

    def second_approval(self) -> bool:
        return self.ids.second_approval

    def stages(self) -> tuple[str, ...]:
        return tuple(s for s in HOSTED_STAGES if s in self.ids.by_stage())

    def hosting_accounts(self) -> tuple[str, ...]:
        return self.ids.accounts

    # --- reaching an account ----------------------------------------------------------

    def _identity(self) -> dict[str, str]:
        if not self._caller:
            reply = self.platform.client("sts").get_caller_identity()
            self._caller.update(account=str(reply["Account"]), arn=str(reply["Arn"]))
        return self._caller

    def _partition(self) -> str:
        return self._identity()["arn"].split(":")[1]

    def _assume(self, stage: str, account: str) -> AwsClients:
        platform_account = self._identity()["account"]
        role_arn = f"arn:{self._partition()}:iam::{account}:role/{self.ids.deployment_role}"
        sts = self.platform.client("sts")
        try:
            credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)[
                "Credentials"
            ]
        except ClientError as exc:
            raise StageAccountError(
                stage,
                account,
                f"cannot assume {role_arn} ({error_code(exc)}): the role is missing or does "
                f"not trust the platform's handler roles of account {platform_account}; "
                "roll the target-account stack out to this account",
            ) from exc
        hosting = (self.open_clients or session_clients)(account, credentials, sts.meta.region_name)
        reached = str(hosting.client("sts").get_caller_identity()["Account"])
        if reached != account:
            raise StageAccountError(
                stage, account, f"assuming {role_arn} gave credentials of account {reached}"
            )
        self._check_organization(stage, account, hosting)
        self._check_trust(stage, account, role_arn, hosting, platform_account)
        logger.info("Stage %s is hosted in account %s through %s", stage, account, role_arn)
        return hosting

    def _platform_organization(self, stage: str, account: str) -> str:
        if not self._organization:
            try:
                found = organization_id(self.platform)
            except ClientError as exc:
                raise StageAccountError(
                    stage,
                    account,
                    f"cannot describe the platform account's organization ({error_code(exc)})",
                ) from exc
            if not found:
                logger.info(
                    "The platform account is in no organization (Organizations is not in "
                    "use): stage accounts are not checked for membership"
                )
            self._organization.append(found)
        return self._organization[0]

    def _check_organization(self, stage: str, account: str, hosting: AwsClients) -> None:
        """Refuses a stage account outside the platform's organization (when it has one)."""
        platform = self._platform_organization(stage, account)
        if not platform:
            return
        try:
            member = organization_id(hosting)
        except ClientError as exc:
            raise StageAccountError(
                stage, account, f"cannot describe its organization ({error_code(exc)})"
            ) from exc
        if member != platform:
            where = f"organization {member}" if member else "no organization"
            raise StageAccountError(
                stage,
                account,
                f"account {account} is not in the platform's organization {platform} "
                f"(it is in {where}); nothing is deployed to it",
            )

    def _check_trust(
        self, stage: str, account: str, role_arn: str, hosting: AwsClients, platform: str
    ) -> None:
        try:
            role = hosting.client("iam").get_role(RoleName=self.ids.deployment_role)["Role"]
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                raise StageAccountError(
                    stage,
                    account,
                    f"{role_arn} does not exist; roll the target-account stack out to this account",
                ) from exc
            raise StageAccountError(
                stage, account, f"cannot read {role_arn} ({error_code(exc)})"
            ) from exc
        strangers = sorted(
            principal
            for principal in trusted_principals(role.get("AssumeRolePolicyDocument"))
            if principal_account(principal) != platform
        )
        if strangers:
            raise StageAccountError(
                stage,
                account,
                f"{role_arn} trusts {', '.join(strangers)}, outside the platform's account "
                f"{platform}; it must trust only the platform's handler roles",
            )


def organization_id(clients: AwsClients) -> str:
    """The id of the organization the clients' account is in; "" when Organizations is not
    in use (other refusals raise ``ClientError``)."""
    try:
        reply = clients.client("organizations").describe_organization()
    except ClientError as exc:
        if error_code(exc) == ORGANIZATIONS_NOT_IN_USE:
            return ""
        raise
    return str(reply["Organization"]["Id"])


def session_clients(account: str, credentials: dict[str, Any], region: str) -> AwsClients:
    """Clients of a session with the credentials AssumeRole gave (created on first use)."""
    import boto3

    return AwsClients(
        boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
    )


def trusted_principals(document: Any) -> list[str]:
    """The AWS principals an ``Allow`` of a trust policy names (a document or its JSON)."""
    if isinstance(document, str):
        document = json.loads(unquote(document))
    statements = (document or {}).get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    found: list[str] = []
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal", {})
        if principal == "*":
            found.append("*")
            continue
        aws = principal.get("AWS", []) if isinstance(principal, dict) else []
        found.extend([aws] if isinstance(aws, str) else aws)
    return found


def principal_account(principal: str) -> str:
    """``123456789012`` of an account id or IAM ARN; ``*`` of anyone."""
    if principal.isdigit():
        return principal
    parts = principal.split(":")
    return parts[4] if len(parts) > 5 else principal


def stage_accounts_from_environment(
    platform: AwsClients, environ: dict[str, str] | Any
) -> StageAccounts:
    """The stage accounts the platform stack configured (``STAGE_ACCOUNTS``), or none."""
    return stage_accounts_for(
        platform, StageAccountIds.from_environment(environ.get(STAGE_ACCOUNTS_ENV))
    )


def stage_accounts_for(
    platform: AwsClients, ids: StageAccountIds | None, open_clients: OpenClients | None = None
) -> StageAccounts:
    """:class:`SameAccount` without stage accounts, :class:`AssumedAccounts` with them."""
    if ids is None:
        return SameAccount(platform)
    return AssumedAccounts(platform, ids, open_clients)
