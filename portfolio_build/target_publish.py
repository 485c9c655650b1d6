"""``publish`` into the stage accounts: the target-account stack in each, in every region.

With ``stage_accounts`` configured, each account that hosts a stage gets the stack of
``dist/templates/target-account.json`` (``<name base>-target``), rolled out with that
account's profile (``target_profiles``; an account that is the platform's own uses the
platform's credentials) after the platform stack, whose outputs it takes: the handler
roles it trusts and the data bucket its models read.

Checked before anything changes anywhere (with the platform's inspection): every stage
account has a profile, the profile's credentials are of that account, and, when the
platform is in an organization, the account is in the same one. A stage with an
organizational unit (``stage_organizational_units``) gets the stack from a StackSet
instead (:mod:`portfolio_build.target_stack_set`) and needs no profile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import boto3

from lambda_project_lifecycle.stage_accounts import CONFIG_STAGES
from portfolio_build.aws_session import CLIENT_CONFIG, SessionFactory, caller_account
from portfolio_build.config import BuildConfig
from portfolio_build.errors import PublishError
from portfolio_build.organization import Organization, check_member, organization_of
from portfolio_build.plan_text import Output
from portfolio_build.region_publish import RegionPublish
from portfolio_build.release import Release
from portfolio_build.stacks import Desired, Stack

HANDLER_ROLES_OUTPUT = "DeploymentHandlerRoleArns"
DATA_BUCKET_OUTPUT = "ProjectDataBucketName"


def target_stack_name(config: BuildConfig) -> str:
    return f"{config.settings.name_base}-target"


def target_parameters(platform_account: str, outputs: dict[str, str]) -> dict[str, str]:
    """The target-account template's parameters, from the platform stack's outputs."""
    return {
        "PlatformAccountId": platform_account,
        "PlatformHandlerRoleArns": outputs[HANDLER_ROLES_OUTPUT],
        "ProjectDataBucket": outputs[DATA_BUCKET_OUTPUT],
    }


def platform_outputs(publisher: RegionPublish) -> dict[str, str]:
    """The platform stack's outputs a target-account stack takes (published with stage
    accounts)."""
    stack = publisher.platform.describe()
    outputs = publisher.platform.outputs(stack) if stack else {}
    for key in (HANDLER_ROLES_OUTPUT, DATA_BUCKET_OUTPUT):
        if not outputs.get(key):
            raise PublishError(
                f"{publisher.region}: stack {publisher.platform.name} has no output {key}; "
                "it must be published with stage_accounts set"
            )
    return outputs


@dataclass(frozen=True)
class TargetAccount:
    account: str
    stages: tuple[str, ...]  # the configuration's names: dev, staging, prod
    profile: str | None
    session: boto3.Session


class TargetRollout:
    def __init__(
        self,
        config: BuildConfig,
        release: Release,
        platform_account: str,
        platform_session: boto3.Session,
        sessions: SessionFactory,
        output: Output,
    ) -> None:
        self.config = config
        self.release = release
        self.platform_account = platform_account
        self.platform_session = platform_session
        self.sessions = sessions
        self.output = output
        self.targets: list[TargetAccount] = []

    @property
    def wanted(self) -> bool:
        return self.config.settings.stage_accounts is not None

    def inspect(
        self, organization: Organization | None, by_stack_set: frozenset[str] = frozenset()
    ) -> None:
        """Every stage account not reached by a StackSet (``by_stack_set``) reachable with its
        profile, as that account, in the platform's ``organization`` when it has one."""
        accounts = self.config.settings.stage_accounts
        if accounts is None:
            return
        by_stage = {name: accounts.account_of(stage) for name, stage in CONFIG_STAGES.items()}
        profiles = self.config.publish.target_profiles
        region = self.config.regions[0]
        if organization is None:
            self.output.region(region)(
                f"the platform account {self.platform_account} is in no organization "
                "(Organizations is not in use): stage accounts are not checked for membership"
            )
        for account in accounts.accounts:
            if account in by_stack_set:
                continue
            stages = tuple(name for name, of in by_stage.items() if of == account)
            profile = profiles.get(account)
            if profile is None and account != self.platform_account:
                raise PublishError(
                    f"stage_accounts.{stages[0]}: account {account} has no profile in "
                    "target_profiles; publish rolls its target-account stack out with one"
                )
            session = (
                self.sessions(profile, region) if profile is not None else self.platform_session
            )
            reached = caller_account(session, profile)
            if reached != account:
                raise PublishError(
                    f"target_profiles.{account}: profile {profile} has credentials of account "
                    f"{reached}, not of account {account} (stage {', '.join(stages)})"
                )
            if account != self.platform_account:
                member = organization_of(session, f"target_profiles.{account}")
                check_member(organization, member, account, f"stage_accounts.{stages[0]}")
            self.targets.append(TargetAccount(account, stages, profile, session))

    def plan_lines(self) -> list[str]:
        name = target_stack_name(self.config)
        return [
            f"target-account stack {name} in account {t.account} (stage {', '.join(t.stages)}), "
            f"every region, after the platform stack"
            for t in self.targets
        ]

    def apply(self, publishers: Sequence[RegionPublish]) -> None:
        """The target-account stack in every target account, in every region."""
        if not self.targets:
            return
        artifact = self.release.one("target-template")
        template = self.release.template(artifact)
        body = artifact.path.read_text()
        for publisher in publishers:
            outputs = platform_outputs(publisher)
            for target in self.targets:
                self._apply_one(publisher.region, target, template, body, outputs)

    def _apply_one(
        self,
        region: str,
        target: TargetAccount,
        template: dict[str, object],
        body: str,
        outputs: dict[str, str],
    ) -> None:
        log = self.output.region(region)
        cloudformation = target.session.client(
            "cloudformation", region_name=region, config=CLIENT_CONFIG
        )
        stack = Stack(cloudformation, target_stack_name(self.config), region, log)
        existing = stack.ready()
        desired = Desired(
            template=dict(template),
            parameters=target_parameters(self.platform_account, outputs),
            body=body,
        )
        where = f"target-account stack {stack.name} in account {target.account}"
        if existing is not None and stack.is_current(existing, desired):
            log(f"{where} is current")
            return
        token = f"{self.release.source_sha256[:12] or 'dist'}-{target.account}"
        plan = stack.plan(desired, creates=existing is None, token=token)
        if plan.change_set is None:
            log(f"{where} is current")
            return
        stack.execute(plan)
        log(f"{where} is published")
