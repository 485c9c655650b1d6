"""One CloudFormation stack as ``publish`` drives it: always through a change set.

A stack whose template (GetTemplate, ``Original`` stage) and parameters already are
the release's gets no change set. Otherwise a change set is made and its changes become
the plan; executing it streams the stack's events with the elapsed time, and a failed
update names the first failed event's reason and the rollback's outcome. States that
need a person (``ROLLBACK_COMPLETE``, ``UPDATE_ROLLBACK_FAILED``, ...) are one line with
the command that recovers; a stack still busy is waited for, so a rerun continues.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from botocore.exceptions import ClientError

from portfolio_build.errors import PublishError
from portfolio_build.resource_schemas import create_only_properties

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
else:
    CloudFormationClient = Any

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
CHANGE_SET_PREFIX = "publish-"
NO_CHANGES = "didn't contain changes"  # CloudFormation's reason for an empty change set
POLL_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
WAIT_LIMIT_SECONDS = 3 * 3600
# States a rerun cannot continue from: what happened, and the command that recovers.
RECOVERY = {
    "ROLLBACK_COMPLETE": (
        "its creation failed and was rolled back; it can only be deleted",
        "aws cloudformation delete-stack --stack-name {stack} --region {region}",
    ),
    "ROLLBACK_FAILED": (
        "its creation failed and so did the rollback",
        "aws cloudformation delete-stack --stack-name {stack} --region {region}",
    ),
    "UPDATE_ROLLBACK_FAILED": (
        "an update failed and its rollback could not finish",
        "aws cloudformation continue-update-rollback --stack-name {stack} --region {region}",
    ),
    "DELETE_FAILED": (
        "a deletion failed",
        "aws cloudformation delete-stack --stack-name {stack} --region {region}",
    ),
}
Log = Callable[[str], None]


@dataclass(frozen=True)
class ResourceChange:
    action: str  # Add, Modify, Remove
    logical_id: str
    resource_type: str
    replacement: str = ""  # True, Conditional, False (Modify only)
    properties: tuple[str, ...] = ()

    @property
    def replaces(self) -> bool:
        return self.action == "Modify" and self.replacement in ("True", "Conditional")


@dataclass
class StackPlan:
    stack: str
    creates: bool
    changes: list[ResourceChange] = field(default_factory=list)
    change_set: str | None = None
    estimated: bool = False  # worked out from the templates, not by CloudFormation

    @property
    def risky(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.replaces or c.action == "Remove"]


@dataclass
class Desired:
    """What the stack should be: a template (by URL, or as a body) and its parameters."""

    template: dict[str, Any]
    parameters: dict[str, str]
    url: str | None = None
    body: str | None = None

    def source(self) -> dict[str, str]:
        return {"TemplateURL": self.url} if self.url else {"TemplateBody": self.body or ""}


class Stack:
    def __init__(
        self, cloudformation: CloudFormationClient, name: str, region: str, log: Log
    ) -> None:
        self.cloudformation = cloudformation
        self.name = name
        self.region = region
        self.log = log

    # -- reading --------------------------------------------------------------------------

    def describe(self) -> dict[str, Any] | None:
        """The stack, or None when there is none (or only a change set never executed)."""
        try:
            stacks = self.cloudformation.describe_stacks(StackName=self.name)["Stacks"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ValidationError":
                return None
            raise
        return dict(stacks[0]) if stacks else None

    def ready(self) -> dict[str, Any] | None:
        """The stack once no operation runs on it; a state a rerun cannot continue from is
        an error with the command that recovers."""
        started = time.monotonic()
        for attempt in range(10_000):
            stack = self.describe()
            status = stack["StackStatus"] if stack else ""
            if stack is None or status == "REVIEW_IN_PROGRESS":
                return None
            if status in RECOVERY:
                happened, command = RECOVERY[status]
                raise PublishError(
                    f"{self.region}: stack {self.name} is {status}: {happened}. Recover with "
                    f"`{command.format(stack=self.name, region=self.region)}`, then publish again"
                )
            if not status.endswith("_IN_PROGRESS"):
                return stack
            if attempt == 0:
                self.log(f"stack {self.name} is {status}: waiting for it")
            _pause(attempt, started)
        raise PublishError(f"{self.region}: stack {self.name} stayed busy")

    def outputs(self, stack: dict[str, Any]) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def is_current(self, stack: dict[str, Any], desired: Desired) -> bool:
        deployed = self.cloudformation.get_template(StackName=self.name, TemplateStage="Original")
        if parse_template(deployed["TemplateBody"]) != desired.template:
            return False
        given = {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])
        }
        return all(given.get(k) == v for k, v in desired.parameters.items())

    def deployed_template(self) -> dict[str, Any]:
        deployed = self.cloudformation.get_template(StackName=self.name, TemplateStage="Original")
        return parse_template(deployed["TemplateBody"])

    # -- change sets ----------------------------------------------------------------------

    def plan(self, desired: Desired, *, creates: bool, token: str) -> StackPlan:
        """A change set of the desired template; its changes, or none when nothing changes."""
        self._delete_stale_change_sets()
        name = f"{CHANGE_SET_PREFIX}{token}"
        created = self.cloudformation.create_change_set(
            StackName=self.name,
            ChangeSetName=name,
            ChangeSetType="CREATE" if creates else "UPDATE",
            Parameters=[
                {"ParameterKey": k, "ParameterValue": v} for k, v in desired.parameters.items()
            ],
            Capabilities=CAPABILITIES,
            Description="mlops-portfolio publish",
            **desired.source(),  # type: ignore[arg-type]
        )
        change_set = created["Id"]
        described = self._wait_for_change_set(change_set)
        if described["Status"] == "FAILED":
            reason = described.get("StatusReason", "")
            if NO_CHANGES in reason:
                self.cloudformation.delete_change_set(ChangeSetName=change_set)
                return StackPlan(self.name, creates)
            raise PublishError(f"{self.region}: change set of {self.name} failed: {reason}")
        return StackPlan(self.name, creates, self._changes(change_set, described), change_set)

    def _wait_for_change_set(self, change_set: str) -> dict[str, Any]:
        started = time.monotonic()
        for attempt in range(10_000):
            described = dict(self.cloudformation.describe_change_set(ChangeSetName=change_set))
            if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
                return described
            _pause(attempt, started)
        raise PublishError(f"{self.region}: change set of {self.name} never completed")

    def _changes(self, change_set: str, described: dict[str, Any]) -> list[ResourceChange]:
        changes = []
        page: dict[str, Any] = described
        while True:
            for change in page.get("Changes", []):
                resource = change.get("ResourceChange", {})
                changes.append(
                    ResourceChange(
                        action=resource.get("Action", ""),
                        logical_id=resource.get("LogicalResourceId", ""),
                        resource_type=resource.get("ResourceType", ""),
                        replacement=resource.get("Replacement", ""),
                        properties=tuple(
                            d["Target"]["Name"]
                            for d in resource.get("Details", [])
                            if d.get("Target", {}).get("Name")
                        ),
                    )
                )
            token = page.get("NextToken")
            if not token:
                return sorted(changes, key=lambda c: (c.action, c.logical_id))
            page = dict(
                self.cloudformation.describe_change_set(ChangeSetName=change_set, NextToken=token)
            )

    def discard(self, plan: StackPlan) -> None:
        if plan.change_set:
            self.cloudformation.delete_change_set(ChangeSetName=plan.change_set)

    def _delete_stale_change_sets(self) -> None:
        """Change sets an interrupted publish left behind (never those of others)."""
        try:
            summaries = self.cloudformation.list_change_sets(StackName=self.name)["Summaries"]
        except ClientError:
            return
        for summary in summaries:
            if summary.get("ChangeSetName", "").startswith(CHANGE_SET_PREFIX):
                self.cloudformation.delete_change_set(ChangeSetName=summary["ChangeSetId"])

    # -- executing ------------------------------------------------------------------------

    def execute(self, plan: StackPlan) -> None:
        """Execute the plan's change set and follow the stack until it settles."""
        if plan.change_set is None:
            return
        seen = {e["EventId"] for e in self._events()}
        started = time.monotonic()
        self.cloudformation.execute_change_set(ChangeSetName=plan.change_set)
        for attempt in range(10_000):
            stack = self.describe()
            for event in reversed([e for e in self._events() if e["EventId"] not in seen]):
                seen.add(event["EventId"])
                reason = (
                    f" ({event['ResourceStatusReason']})"
                    if event.get("ResourceStatusReason")
                    else ""
                )
                self.log(
                    f"  {time.monotonic() - started:6.1f}s {event['LogicalResourceId']} "
                    f"{event['ResourceStatus']}{reason}"
                )
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if not status.endswith("_IN_PROGRESS") or status.endswith("CLEANUP_IN_PROGRESS"):
                break
            _pause(attempt, started)
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"):
            self.log(f"stack {self.name} {status} in {time.monotonic() - started:.1f} s")
            return
        raise PublishError(self._failure(status))

    def _failure(self, status: str) -> str:
        failed = [
            e
            for e in reversed(self._events())
            if str(e.get("ResourceStatus", "")).endswith("FAILED") and e.get("ResourceStatusReason")
        ]
        reason = (
            f"{failed[0]['LogicalResourceId']}: {failed[0]['ResourceStatusReason']}"
            if failed
            else "no failed event"
        )
        outcome = {
            "UPDATE_ROLLBACK_COMPLETE": "rolled back: the stack is as it was before",
            "ROLLBACK_COMPLETE": "rolled back: the stack holds nothing and can only be deleted",
        }.get(status, "the rollback did not finish")
        return (
            f"{self.region}: stack {self.name} ended {status}. First failure: {reason}. {outcome}"
        )

    def _events(self) -> list[dict[str, Any]]:
        try:
            return list(
                self.cloudformation.describe_stack_events(StackName=self.name)["StackEvents"]
            )
        except ClientError:
            return []

    def protect(self, stack: dict[str, Any] | None = None) -> None:
        stack = stack or self.describe()
        if stack is not None and not stack.get("EnableTerminationProtection"):
            self.cloudformation.update_termination_protection(
                StackName=self.name, EnableTerminationProtection=True
            )
            self.log(f"stack {self.name}: termination protection on")

    # -- drift ----------------------------------------------------------------------------

    def drifted_resources(self) -> list[str]:
        """``LogicalId (TYPE, STATUS)`` of every resource that drifted from the template."""
        detection = self.cloudformation.detect_stack_drift(StackName=self.name)
        started = time.monotonic()
        for attempt in range(10_000):
            status = self.cloudformation.describe_stack_drift_detection_status(
                StackDriftDetectionId=detection["StackDriftDetectionId"]
            )
            if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
                break
            _pause(attempt, started)
        if status.get("StackDriftStatus") != "DRIFTED":
            return []
        drifts = self.cloudformation.describe_stack_resource_drifts(
            StackName=self.name, StackResourceDriftStatusFilters=["MODIFIED", "DELETED"]
        )["StackResourceDrifts"]
        return sorted(
            f"{d['LogicalResourceId']} ({d['ResourceType']}, {d['StackResourceDriftStatus']})"
            for d in drifts
        )


def parse_template(body: Any) -> dict[str, Any]:
    """GetTemplate's body: boto3 hands JSON over parsed, YAML as text."""
    if isinstance(body, dict):
        return json.loads(json.dumps(body))
    try:
        return dict(json.loads(body))
    except ValueError:
        return dict(yaml.safe_load(body))


def estimate_changes(before: dict[str, Any], after: dict[str, Any]) -> list[ResourceChange]:
    """The changes a change set would list, worked out from the two templates (a dry run
    whose new template is not uploaded yet): a Modify replaces when a create-only property
    (the resource type's schema, as cfn-lint ships it) changes."""
    old, new = before.get("Resources", {}), after.get("Resources", {})
    changes = [ResourceChange("Add", k, _type(new[k])) for k in sorted(set(new) - set(old))]
    changes += [ResourceChange("Remove", k, _type(old[k])) for k in sorted(set(old) - set(new))]
    for logical_id in sorted(set(old) & set(new)):
        if old[logical_id] == new[logical_id]:
            continue
        resource_type = _type(new[logical_id])
        old_properties = _properties(old[logical_id])
        new_properties = _properties(new[logical_id])
        changed = tuple(
            sorted(
                k
                for k in set(old_properties) | set(new_properties)
                if old_properties.get(k) != new_properties.get(k)
            )
        )
        replaces = bool(set(changed) & create_only_properties(resource_type))
        changes.append(
            ResourceChange(
                "Modify", logical_id, resource_type, "True" if replaces else "False", changed
            )
        )
    return changes


def _type(resource: Any) -> str:
    return str(resource.get("Type", "Fn::ForEach")) if isinstance(resource, dict) else "Fn::ForEach"


def _properties(resource: Any) -> dict[str, Any]:
    return dict(resource.get("Properties", {})) if isinstance(resource, dict) else {"": resource}


def _pause(attempt: int, started: float) -> None:
    if time.monotonic() - started > WAIT_LIMIT_SECONDS:
        raise PublishError("CloudFormation did not finish within 3 hours")
    time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])
