"""``publish`` to organizational units: the target-account stack as a service-managed StackSet.

A stage configured with ``stage_organizational_units`` gets its target-account stack from
the StackSet ``<name base>-target`` of the platform account, in every publish region (one
StackSet per region, with that region's platform outputs as parameters), with automatic
deployment on: an account that joins the unit later gets the stack, one that leaves it
loses it. Its instances are those of the configured units in the StackSet's region.

Checked before anything changes (with the platform's inspection): the platform is in an
organization and every such stage's account is in it, under its unit (see
:mod:`portfolio_build.organization`); a StackSet operation still running from an
interrupted publish is waited for. A publish with nothing changed starts no operation.
Calls are made as the management account (``CallAs=SELF``) or, from a delegated
administrator, ``CallAs=DELEGATED_ADMIN``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from lambda_project_lifecycle.stage_accounts import CONFIG_STAGES
from portfolio_build.aws_session import CLIENT_CONFIG
from portfolio_build.config import BuildConfig
from portfolio_build.errors import PublishError
from portfolio_build.organization import Organization, check_under_unit
from portfolio_build.plan_text import Output
from portfolio_build.release import Release
from portfolio_build.target_publish import target_parameters

if TYPE_CHECKING:
    from portfolio_build.region_publish import RegionPublish

AUTO_DEPLOYMENT = {"Enabled": True, "RetainStacksOnAccountRemoval": False}
RUNNING = ("RUNNING", "QUEUED", "STOPPING")
POLL_SECONDS = 5.0
OPERATION_TIMEOUT_SECONDS = 1800.0


@dataclass(frozen=True)
class UnitStage:
    stage: str  # the configuration's name: dev, staging, prod
    account: str
    unit: str


@dataclass
class RegionStackSet:
    region: str
    client: Any  # CloudFormationClient
    existing: dict[str, Any] | None = None
    accounts: set[str] = field(default_factory=set)  # accounts with an instance here


class StackSetRollout:
    def __init__(
        self,
        config: BuildConfig,
        release: Release,
        platform_account: str,
        platform_session: boto3.Session,
        output: Output,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.release = release
        self.platform_account = platform_account
        self.session = platform_session
        self.output = output
        self.sleep = sleep
        self.name = f"{config.settings.name_base}-target"
        self.stages = _unit_stages(config)
        self.call_as = "SELF"
        self.regions: list[RegionStackSet] = []

    @property
    def accounts(self) -> frozenset[str]:
        """The stage accounts this StackSet reaches (no profile needed for them)."""
        return frozenset(s.account for s in self.stages)

    @property
    def units(self) -> list[str]:
        return sorted({s.unit for s in self.stages})

    # -- inspect (changes nothing; waits for an interrupted operation) ----------------------

    def inspect(self, organization: Organization | None) -> None:
        if not self.stages:
            return
        if organization is None:
            first = self.stages[0]
            raise PublishError(
                f"stage_organizational_units.{first.stage}: the platform account "
                f"{self.platform_account} is in no organization; StackSets to organizational "
                "units need one (give the account a profile in target_profiles instead)"
            )
        if not organization.managed_by(self.platform_account):
            self.call_as = "DELEGATED_ADMIN"
        for stage in self.stages:
            if organization.managed_by(stage.account):
                raise PublishError(
                    f"stage_organizational_units.{stage.stage}: account {stage.account} is the "
                    "organization's management account, to which service-managed StackSets do "
                    "not deploy; give its stage no unit (and a profile, unless it is the "
                    "platform's own account)"
                )
            check_under_unit(self.session, organization, stage.account, stage.unit, stage.stage)
        for region in self.config.regions:
            client = self.session.client("cloudformation", region_name=region, config=CLIENT_CONFIG)
            here = RegionStackSet(region, client, self._describe(client))
            if here.existing is not None:
                self._finish_running(here)
                here.accounts = self._instance_accounts(here)
            self.regions.append(here)

    def plan_lines(self) -> list[str]:
        targets = ", ".join(f"{s.unit} (stage {s.stage}, account {s.account})" for s in self.stages)
        lines = []
        for here in self.regions:
            what = "create" if here.existing is None else "update when changed"
            lines.append(
                f"StackSet {self.name} in {here.region} (service-managed, automatic "
                f"deployment): {what}, instances for {targets}, after the platform stack"
            )
        return lines

    # -- apply ------------------------------------------------------------------------------

    def apply(
        self,
        publishers: Sequence[RegionPublish],
        outputs: Callable[[RegionPublish], dict[str, str]],
    ) -> None:
        """The StackSet and its instances in every region (``outputs``: a region publisher ->
        the platform stack's outputs the target-account stack takes)."""
        if not self.regions:
            return
        body = self.release.one("target-template").path.read_text()
        by_region = {p.region: p for p in publishers}
        for here in self.regions:
            platform_outputs = outputs(by_region[here.region])
            self._apply_region(here, body, _parameters(self.platform_account, platform_outputs))

    def _apply_region(
        self, here: RegionStackSet, body: str, parameters: list[dict[str, str]]
    ) -> None:
        log = self.output.region(here.region)
        changed = False
        shape: dict[str, Any] = {
            "StackSetName": self.name,
            "TemplateBody": body,
            "Parameters": parameters,
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "PermissionModel": "SERVICE_MANAGED",
            "AutoDeployment": AUTO_DEPLOYMENT,
            "CallAs": self.call_as,
        }
        if here.existing is None:
            here.client.create_stack_set(
                Description=f"mlops-portfolio target-account stack for {', '.join(self.units)}",
                **shape,
            )
            log(f"StackSet {self.name} is created")
            changed = True
        elif _differs(here.existing, body, parameters):
            operation = here.client.update_stack_set(**shape)["OperationId"]
            self._wait(here, operation, "update")
            log(f"StackSet {self.name} is updated in its instances")
            changed = True
        missing = sorted(self.accounts - here.accounts)
        if missing:
            operation = here.client.create_stack_instances(
                StackSetName=self.name,
                DeploymentTargets={"OrganizationalUnitIds": self.units},
                Regions=[here.region],
                CallAs=self.call_as,
            )["OperationId"]
            self._wait(here, operation, "instances")
            log(
                f"StackSet {self.name}: instances for {', '.join(self.units)} in {here.region} "
                f"(accounts {', '.join(missing)})"
            )
            changed = True
        if not changed:
            log(f"StackSet {self.name} is current")

    # -- operations -------------------------------------------------------------------------

    def _describe(self, client: Any) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = client.describe_stack_set(
                StackSetName=self.name, CallAs=self.call_as
            )["StackSet"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "StackSetNotFoundException":
                return None
            raise
        return None if found.get("Status") == "DELETED" else found

    def _instance_accounts(self, here: RegionStackSet) -> set[str]:
        pages = here.client.get_paginator("list_stack_instances").paginate(
            StackSetName=self.name, StackInstanceRegion=here.region, CallAs=self.call_as
        )
        return {str(i["Account"]) for page in pages for i in page.get("Summaries", [])}

    def _finish_running(self, here: RegionStackSet) -> None:
        """An operation an interrupted publish left running is waited for (one at a time)."""
        operations = here.client.list_stack_set_operations(
            StackSetName=self.name, CallAs=self.call_as
        ).get("Summaries", [])
        for operation in operations:
            if operation.get("Status") in RUNNING:
                self.output.region(here.region)(
                    f"StackSet {self.name}: operation {operation['OperationId']} "
                    f"({operation.get('Action', '?')}) of an earlier publish is still running; "
                    "waiting for it"
                )
                self._wait(here, str(operation["OperationId"]), "earlier operation")

    def _wait(self, here: RegionStackSet, operation_id: str, what: str) -> None:
        waited = 0.0
        while True:
            operation = here.client.describe_stack_set_operation(
                StackSetName=self.name, OperationId=operation_id, CallAs=self.call_as
            )["StackSetOperation"]
            status = operation.get("Status")
            if status == "SUCCEEDED":
                return
            if status not in RUNNING:
                raise PublishError(
                    f"{here.region}: StackSet {self.name} {what} operation {operation_id} "
                    f"{status}: {self._reasons(here, operation_id)}; publish again once the "
                    "cause is fixed (it continues from what is there)"
                )
            if waited >= OPERATION_TIMEOUT_SECONDS:
                raise PublishError(
                    f"{here.region}: StackSet {self.name} {what} operation {operation_id} is "
                    f"still {status} after {int(waited)} s; publish again to wait for it"
                )
            self.sleep(POLL_SECONDS)
            waited += POLL_SECONDS

    def _reasons(self, here: RegionStackSet, operation_id: str) -> str:
        results = here.client.list_stack_set_operation_results(
            StackSetName=self.name, OperationId=operation_id, CallAs=self.call_as
        ).get("Summaries", [])
        failed = [
            f"account {r.get('Account')}: {r.get('StatusReason', r.get('Status'))}"
            for r in results
            if r.get("Status") not in ("SUCCEEDED", None)
        ]
        return "; ".join(failed) or "no reason given"


def _unit_stages(config: BuildConfig) -> list[UnitStage]:
    accounts = config.settings.stage_accounts
    units = config.publish.organizational_units
    if accounts is None or not units:
        return []
    stages = []
    for name, stage in CONFIG_STAGES.items():
        account = accounts.account_of(stage)
        if name in units and account is not None:
            stages.append(UnitStage(name, account, units[name]))
    return stages


def _parameters(platform_account: str, outputs: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"ParameterKey": key, "ParameterValue": value}
        for key, value in sorted(target_parameters(platform_account, outputs).items())
    ]


def _differs(existing: dict[str, Any], body: str, parameters: list[dict[str, str]]) -> bool:
    given = {p["ParameterKey"]: p.get("ParameterValue") for p in existing.get("Parameters", [])}
    wanted = {p["ParameterKey"]: p["ParameterValue"] for p in parameters}
    auto = existing.get("AutoDeployment") or {}
    return (
        _normal(existing.get("TemplateBody", "")) != _normal(body)
        or given != wanted
        or bool(auto.get("Enabled")) is not True
    )


def _normal(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body
