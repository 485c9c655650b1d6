"""CloudFormation as AWS documents it, where moto falls short (rows of the gaps table).

- templates are processed before moto sees them (:mod:`sandbox.template_processing`),
  and GetTemplate's ``Original`` stage returns the template as it was sent;
- termination protection: UpdateTerminationProtection, and DeleteStack refused while on;
- drift detection: DetectStackDrift, DescribeStackDriftDetectionStatus,
  DescribeStackResourceDrifts and the stacks' DriftInformation. A resource is checked
  against moto's state where the table below knows how (SSM parameter values, and the
  existence of buckets, tables, topics, functions, roles, rules); others are NOT_CHECKED,
  as CloudFormation answers for types without drift detection;
- a bucket's ``CorsConfiguration`` is applied (moto's S3 resource ignores it);
- change sets: executing one deletes the stack's change sets; a CREATE change set of a
  stack that only ever had change sets reuses it; each Modify change says whether it
  replaces the resource (a change of a create-only property, from the resource type's
  schema as cfn-lint ships it), with its Scope and Details, and resources that refer to a
  changed parameter are listed too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from portfolio_build.resource_schemas import create_only_properties
from sandbox import template_processing
from sandbox.emulator import AwsError, Call

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

StackKey = tuple[str, str, str]  # account, region, stack id


def _exists(service: str, attribute: str) -> Callable[[Call, Any], str]:
    def check(call: Call, resource: Any) -> str:
        found = getattr(call.backend(service), attribute)
        name = resource.physical_resource_id
        return "IN_SYNC" if name in found else "DELETED"

    return check


def _ssm_parameter(call: Call, resource: Any) -> str:
    current = call.backend("ssm").get_parameter(resource.name)
    if current is None:
        return "DELETED"
    return "IN_SYNC" if current.value == resource.value else "MODIFIED"


def _bucket(call: Call, resource: Any) -> str:
    from moto.s3.models import s3_backends

    return "IN_SYNC" if resource.name in s3_backends.bucket_accounts else "DELETED"


def _lambda(call: Call, resource: Any) -> str:
    functions = call.backend("lambda")._lambdas._functions
    return "IN_SYNC" if resource.function_name in functions else "DELETED"


def _role(call: Call, resource: Any) -> str:
    roles = call.emulator.backend("iam", "global", call.account_id).roles
    return "IN_SYNC" if resource.id in roles else "DELETED"


def _topic(call: Call, resource: Any) -> str:
    return "IN_SYNC" if resource.arn in call.backend("sns").topics else "DELETED"


DRIFT_CHECKS: dict[str, Callable[[Call, Any], str]] = {
    "AWS::SSM::Parameter": _ssm_parameter,
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _exists("dynamodb", "tables"),
    "AWS::SNS::Topic": _topic,
    "AWS::Lambda::Function": _lambda,
    "AWS::IAM::Role": _role,
}


class CloudFormationGaps:
    """Registers the CloudFormation rows of the gaps table on an emulator."""

    def __init__(self) -> None:
        self.originals: dict[StackKey, str] = {}
        self._pending: dict[tuple[str, str, str], str] = {}
        self._change_set_originals: dict[str, str] = {}
        self._reused: set[tuple[str, str, str]] = set()
        self.drift: dict[StackKey, dict[str, Any]] = {}
        self.detections: dict[str, dict[str, Any]] = {}

    def register(self, emulator: Emulator) -> None:
        processing = (
            "moto applies no AWS::LanguageExtensions transform, resolves no "
            "{{resolve:ssm:...}} reference, checks no capabilities, reads TemplateURL of "
            "change sets not at all"
        )
        for operation in ("CreateStack", "UpdateStack", "CreateChangeSet"):
            emulator.before("cloudformation", operation, processing)(self._process)
            emulator.after("cloudformation", operation, "keeps the template as sent")(
                self._keep_original
            )
        emulator.after(
            "cloudformation", "ExecuteChangeSet", "keeps the stack's old template and outputs"
        )(self._executed)
        for operation in ("CreateStack", "UpdateStack"):
            emulator.after("cloudformation", operation, "bucket CorsConfiguration ignored")(
                self._apply_cors
            )
        emulator.after(
            "cloudformation", "GetTemplate", "returns the processed template for Original"
        )(self._original_template)
        emulator.answer("cloudformation", "UpdateTerminationProtection", "not implemented in moto")(
            self._termination_protection
        )
        emulator.before(
            "cloudformation", "DeleteStack", "deletes a stack with termination protection"
        )(self._refuse_protected_delete)
        emulator.answer("cloudformation", "DetectStackDrift", "no drift detection in moto")(
            self._detect_drift
        )
        emulator.answer(
            "cloudformation", "DescribeStackDriftDetectionStatus", "no drift detection"
        )(self._detection_status)
        emulator.answer("cloudformation", "DescribeStackResourceDrifts", "no drift detection")(
            self._resource_drifts
        )
        emulator.after("cloudformation", "DescribeStacks", "no DriftInformation")(
            self._drift_information
        )
        emulator.after(
            "cloudformation", "DescribeChangeSet", "Modify changes lack Replacement and Details"
        )(self._change_details)

    # -- templates ------------------------------------------------------------------------

    def _process(self, call: Call) -> dict[str, Any] | None:
        defaulted = call.operation == "CreateChangeSet" and not call.params.get("ChangeSetType")
        if defaulted:  # AWS's default is UPDATE; moto's is CREATE
            call.params = {**call.params, "ChangeSetType": "UPDATE"}
        processed = template_processing.process_request(call)
        if processed is None:
            return call.params if defaulted else None
        params, original = processed
        if call.operation == "CreateChangeSet" and params.get("ChangeSetType") == "CREATE":
            reviewed = self._stack_in_review(call, params["StackName"])
            if reviewed is not None:
                # CloudFormation reuses a stack that only ever had change sets; moto would
                # make a second stack of that name. Made as an UPDATE of it, run as a CREATE.
                params["ChangeSetType"] = "UPDATE"
                reviewed.template = "{}"  # moto keeps a dict here, which it cannot compare
                self._reused.add((call.account_id, call.region, params["StackName"]))
        self._pending[(call.account_id, call.region, call.params["StackName"])] = original
        return params

    def _keep_original(self, call: Call, answer: dict[str, Any]) -> None:
        original = self._pending.pop((call.account_id, call.region, call.params["StackName"]), None)
        if original is None:
            return
        if call.operation == "CreateChangeSet":
            self._change_set_originals[answer["Id"]] = original
            key = (call.account_id, call.region, call.params["StackName"])
            if key in self._reused:
                self._reused.discard(key)
                call.backend().describe_change_set(answer["Id"]).change_set_type = "CREATE"
        else:
            stack = self._stack(call, call.params["StackName"])
            self.originals[(call.account_id, call.region, stack.stack_id)] = original

    def _executed(self, call: Call, answer: dict[str, Any]) -> None:
        """moto applies the change set's resources but keeps the stack's old parsed template,
        parameters and outputs: make the stack what the change set says."""
        backend = call.backend()
        change_set = backend.describe_change_set(call.params["ChangeSetName"])
        stack = change_set.stack
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        if change_set.parameters:
            stack.parameters = dict(change_set.parameters)
        stack.output_map = stack._create_output_map()
        for export in stack.exports:
            backend.exports[export.name] = export
        self._cors(call, stack)
        # "After you execute a change set, CloudFormation deletes all change sets of the stack."
        for change_set_id in [
            k for k, c in backend.change_sets.items() if c.stack_id == stack.stack_id
        ]:
            del backend.change_sets[change_set_id]
        original = self._change_set_originals.pop(change_set.change_set_id, None)
        if original is not None:
            self.originals[(call.account_id, call.region, change_set.stack_id)] = original

    def _apply_cors(self, call: Call, answer: dict[str, Any]) -> None:
        self._cors(call, self._stack(call, call.params["StackName"]))

    def _cors(self, call: Call, stack: Any) -> None:
        from moto.s3.models import s3_backends

        for logical_id, resource in (stack.template_dict.get("Resources") or {}).items():
            cors = (resource.get("Properties") or {}).get("CorsConfiguration")
            if resource.get("Type") != "AWS::S3::Bucket" or not cors:
                continue
            bucket = s3_backends[call.account_id]["aws"].buckets.get(
                getattr(stack.resource_map[logical_id], "name", "")
            )
            if bucket is not None:
                bucket.set_cors([_cors_rule(rule) for rule in cors.get("CorsRules", [])])

    def _original_template(self, call: Call, answer: dict[str, Any]) -> dict[str, Any] | None:
        if call.params.get("TemplateStage", "Original") != "Original":
            return None
        stack = self._stack(call, call.params["StackName"])
        original = self.originals.get((call.account_id, call.region, stack.stack_id))
        return None if original is None else {**answer, "TemplateBody": original}

    # -- termination protection -----------------------------------------------------------

    def _termination_protection(self, call: Call) -> dict[str, Any]:
        stack = self._stack(call, call.params["StackName"])
        stack.enable_termination_protection = bool(call.params["EnableTerminationProtection"])
        return {"StackId": stack.stack_id}

    def _refuse_protected_delete(self, call: Call) -> None:
        backend = call.backend()
        name = call.params["StackName"]
        for stack in backend.stacks.values():
            if name in (stack.name, stack.stack_id) and stack.enable_termination_protection:
                raise AwsError(
                    "ValidationError",
                    f"Stack [{stack.name}] cannot be deleted while TerminationProtection is "
                    "enabled",
                )

    # -- drift ----------------------------------------------------------------------------

    def _detect_drift(self, call: Call) -> dict[str, Any]:
        stack = self._stack(call, call.params["StackName"])
        now = datetime.now(UTC)
        drifts = []
        for logical_id, resource in stack.resource_map.items():
            resource_type = getattr(resource, "cf_resource_type", None)
            if resource_type is None or not hasattr(resource, "physical_resource_id"):
                continue
            check = DRIFT_CHECKS.get(resource_type)
            status = check(call, resource) if check else "NOT_CHECKED"
            drifts.append(
                {
                    "StackId": stack.stack_id,
                    "LogicalResourceId": logical_id,
                    "PhysicalResourceId": str(resource.physical_resource_id),
                    "ResourceType": resource_type,
                    "StackResourceDriftStatus": status,
                    "Timestamp": now,
                }
            )
        drifted = [d for d in drifts if d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED")]
        detection_id = str(uuid.uuid4())
        key = (call.account_id, call.region, stack.stack_id)
        self.drift[key] = {
            "StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC",
            "LastCheckTimestamp": now,
            "resources": drifts,
        }
        self.detections[detection_id] = {
            "StackId": stack.stack_id,
            "StackDriftDetectionId": detection_id,
            "StackDriftStatus": self.drift[key]["StackDriftStatus"],
            "DetectionStatus": "DETECTION_COMPLETE",
            "DriftedStackResourceCount": len(drifted),
            "Timestamp": now,
        }
        return {"StackDriftDetectionId": detection_id}

    def _detection_status(self, call: Call) -> dict[str, Any]:
        found = self.detections.get(call.params["StackDriftDetectionId"])
        if found is None:
            raise AwsError("ValidationError", "Drift detection id not found")
        return found

    def _resource_drifts(self, call: Call) -> dict[str, Any]:
        stack = self._stack(call, call.params["StackName"])
        known = self.drift.get((call.account_id, call.region, stack.stack_id))
        wanted = set(call.params.get("StackResourceDriftStatusFilters") or [])
        drifts = [
            d
            for d in (known or {}).get("resources", [])
            if not wanted or d["StackResourceDriftStatus"] in wanted
        ]
        return {"StackResourceDrifts": drifts}

    def _drift_information(self, call: Call, answer: dict[str, Any]) -> dict[str, Any]:
        for described in answer.get("Stacks", []):
            known = self.drift.get((call.account_id, call.region, described["StackId"]))
            described["DriftInformation"] = (
                {
                    "StackDriftStatus": known["StackDriftStatus"],
                    "LastCheckTimestamp": known["LastCheckTimestamp"],
                }
                if known
                else {"StackDriftStatus": "NOT_CHECKED"}
            )
        return answer

    # -- change sets ----------------------------------------------------------------------

    def _change_details(self, call: Call, answer: dict[str, Any]) -> dict[str, Any]:
        change_set = call.backend().describe_change_set(call.params["ChangeSetName"])
        before = change_set.stack.template_dict.get("Resources") or {}
        after = change_set.template_dict.get("Resources") or {}
        answer.setdefault("Changes", [])
        self._parameter_changes(change_set, before, after, answer["Changes"])
        for change in answer["Changes"]:
            resource_change = change.get("ResourceChange", {})
            if resource_change.get("Action") != "Modify" or "Details" in resource_change:
                continue
            logical_id = resource_change["LogicalResourceId"]
            old = (before.get(logical_id) or {}).get("Properties") or {}
            new = (after.get(logical_id) or {}).get("Properties") or {}
            changed = sorted(
                name
                for name in set(old) | set(new)
                if _canonical(old.get(name)) != _canonical(new.get(name))
            )
            create_only = create_only_properties(resource_change.get("ResourceType", ""))
            replaced = any(name in create_only for name in changed)
            resource_change["Replacement"] = "True" if replaced else "False"
            resource_change["Scope"] = ["Properties"] if changed else []
            resource_change["Details"] = [
                {
                    "Target": {
                        "Attribute": "Properties",
                        "Name": name,
                        "RequiresRecreation": "Always" if name in create_only else "Never",
                    },
                    "Evaluation": "Static",
                    "ChangeSource": "DirectModification",
                }
                for name in changed
            ]
        return answer

    def _parameter_changes(
        self, change_set: Any, before: dict[str, Any], after: dict[str, Any], changes: list[Any]
    ) -> None:
        """moto lists only template changes; CloudFormation also modifies every resource
        whose properties refer to a parameter whose value changed."""
        if change_set.change_set_type != "UPDATE":
            return
        old, new = dict(change_set.stack.parameters or {}), dict(change_set.parameters or {})
        changed = {k for k in set(old) | set(new) if k in new and old.get(k) != new.get(k)}
        listed = {c.get("ResourceChange", {}).get("LogicalResourceId") for c in changes}
        for logical_id, resource in after.items():
            if logical_id in listed or logical_id not in before or not isinstance(resource, dict):
                continue
            properties = resource.get("Properties") or {}
            names = sorted(p for p, value in properties.items() if _refers(value, changed))
            if not names:
                continue
            create_only = create_only_properties(resource.get("Type", ""))
            changes.append(
                {
                    "Type": "Resource",
                    "ResourceChange": {
                        "Action": "Modify",
                        "LogicalResourceId": logical_id,
                        "ResourceType": resource.get("Type", ""),
                        "Replacement": "True" if set(names) & create_only else "False",
                        "Scope": ["Properties"],
                        "Details": [
                            {
                                "Target": {
                                    "Attribute": "Properties",
                                    "Name": name,
                                    "RequiresRecreation": "Always"
                                    if name in create_only
                                    else "Never",
                                },
                                "Evaluation": "Static",
                                "ChangeSource": "ParameterReference",
                            }
                            for name in names
                        ],
                    },
                }
            )

    def _stack_in_review(self, call: Call, name: str) -> Any:
        for stack in call.backend().stacks.values():
            if stack.name == name and stack.status == "REVIEW_IN_PROGRESS":
                return stack
        return None

    def _stack(self, call: Call, name: str) -> Any:
        backend = call.backend()
        for stack in backend.stacks.values():
            if name in (stack.name, stack.stack_id):
                return stack
        raise AwsError("ValidationError", f"Stack with id {name} does not exist")


def _refers(value: Any, parameters: set[str]) -> bool:
    """Whether a template value refers to one of ``parameters`` (Ref, or ${} in Fn::Sub)."""
    if isinstance(value, dict):
        if value.get("Ref") in parameters:
            return True
        sub = value.get("Fn::Sub")
        text = sub if isinstance(sub, str) else (sub[0] if isinstance(sub, list) and sub else "")
        if any("${" + name + "}" in text for name in parameters):
            return True
        return any(_refers(v, parameters) for v in value.values())
    if isinstance(value, list):
        return any(_refers(v, parameters) for v in value)
    return False


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation CorsRule as S3's API (and moto) spells it."""
    converted: dict[str, Any] = {
        "AllowedMethod": rule["AllowedMethods"],
        "AllowedOrigin": rule["AllowedOrigins"],
    }
    for source, target in (("AllowedHeaders", "AllowedHeader"), ("ExposedHeaders", "ExposeHeader")):
        if rule.get(source):
            converted[target] = rule[source]
    if "MaxAge" in rule:
        converted["MaxAgeSeconds"] = str(rule["MaxAge"])
    if rule.get("Id"):
        converted["ID"] = rule["Id"]
    return converted


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
