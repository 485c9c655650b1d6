"""Size and name limits: what AWS would reject only at deploy time, caught at build time.

Names are checked for the worst case: every ``Ref`` to a parameter counts its
longest legal value (``MaxLength``, or the longest allowed value), every pseudo
parameter its longest value. A name built from a parameter with no bound is a
finding too, since nothing then keeps it within the limit.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from portfolio_build.checks import Finding

SIZE_CHECK = "size-limits"
NAME_CHECK = "name-limits"
RUNTIME_CHECK = "lambda-runtime"

# CloudFormation quotas for a template read from S3 (Service Catalog products are).
TEMPLATE_MAX_BYTES = 1_000_000
TEMPLATE_MAX_RESOURCES = 500
TEMPLATE_MAX_PARAMETERS = 200
TEMPLATE_MAX_OUTPUTS = 200
# Our own budgets: a small Lambda deploys and cold-starts fast; seed code stays a starter.
LAMBDA_ZIP_MAX_BYTES = 2 * 1024 * 1024
SEED_CODE_ZIP_MAX_BYTES = 5 * 1024 * 1024
# A runtime this close to its deprecation fails the build: runtimes must not rot in place.
RUNTIME_MIN_DAYS_LEFT = 365

NAME_LIMITS: dict[tuple[str, str], int] = {
    ("AWS::IAM::Role", "RoleName"): 64,
    ("AWS::IAM::Policy", "PolicyName"): 128,
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"): 128,
    ("AWS::CodeBuild::Project", "Name"): 255,
    ("AWS::CodeCommit::Repository", "RepositoryName"): 100,
    ("AWS::SageMaker::ModelPackageGroup", "ModelPackageGroupName"): 63,
    ("AWS::SageMaker::Endpoint", "EndpointName"): 63,
    ("AWS::SageMaker::EndpointConfig", "EndpointConfigName"): 63,
    ("AWS::SageMaker::Model", "ModelName"): 63,
    ("AWS::SageMaker::Pipeline", "PipelineName"): 256,
    ("AWS::Lambda::Function", "FunctionName"): 64,
    ("AWS::Events::Rule", "Name"): 64,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
    ("AWS::S3::Bucket", "BucketName"): 63,
    ("AWS::SNS::Topic", "TopicName"): 256,
    ("AWS::DynamoDB::Table", "TableName"): 255,
    ("AWS::SSM::Parameter", "Name"): 1011,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    ("AWS::ServiceCatalog::Portfolio", "DisplayName"): 100,
}
PSEUDO_PARAMETER_MAX = {
    "AWS::AccountId": 12,
    "AWS::Region": 16,
    "AWS::Partition": 10,
    "AWS::URLSuffix": 17,
    "AWS::StackName": 128,
    "AWS::StackId": 256,
}
UNBOUNDED = float("inf")
_SUB_VARIABLE = re.compile(r"\$\{([^!][^}]*)\}")


def check_template_size(artifact: str, path: Path, body: dict[str, Any]) -> list[Finding]:
    problems = []
    size = path.stat().st_size
    if size > TEMPLATE_MAX_BYTES:
        problems.append(f"template is {size} bytes, over the {TEMPLATE_MAX_BYTES}-byte limit")
    for section, limit in (
        ("Resources", TEMPLATE_MAX_RESOURCES),
        ("Parameters", TEMPLATE_MAX_PARAMETERS),
        ("Outputs", TEMPLATE_MAX_OUTPUTS),
    ):
        count = len(body.get(section, {}))
        if count > limit:
            problems.append(f"{count} {section}, over the limit of {limit}")
    return [Finding(artifact, SIZE_CHECK, p) for p in problems]


def check_zip_size(artifact: str, path: Path, limit: int) -> list[Finding]:
    size = path.stat().st_size
    if size > limit:
        return [Finding(artifact, SIZE_CHECK, f"zip is {size} bytes, over the {limit}-byte budget")]
    return []


def check_names(artifact: str, body: dict[str, Any]) -> list[Finding]:
    parameters = body.get("Parameters", {})
    findings = []
    for logical_id, resource in sorted(body.get("Resources", {}).items()):
        if not isinstance(resource, dict):
            continue
        properties = resource.get("Properties", {})
        for (resource_type, prop), limit in NAME_LIMITS.items():
            if resource.get("Type") != resource_type or prop not in properties:
                continue
            longest = worst_case_length(properties[prop], parameters)
            if longest is None:
                continue  # a value CloudFormation or a service makes; within its limit by design
            where = f"{logical_id}.{prop}"
            if longest == UNBOUNDED:
                findings.append(
                    Finding(
                        artifact, NAME_CHECK, f"{where} is built from a parameter with no MaxLength"
                    )
                )
            elif longest > limit:
                findings.append(
                    Finding(
                        artifact,
                        NAME_CHECK,
                        f"{where} can be {int(longest)} characters, over the limit of {limit} "
                        f"({resource_type}), for the longest legal parameters",
                    )
                )
    return findings


def worst_case_length(value: Any, parameters: dict[str, Any]) -> float | None:
    """Longest value ``value`` can take; None when a service decides it (GetAtt, resource Ref)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (int, float)):
        return len(str(value))
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((function, argument),) = value.items()
    if function == "Ref":
        return _reference_length(str(argument), parameters)
    if function == "Fn::Sub":
        text, variables = (
            (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        )
        total: float = len(_SUB_VARIABLE.sub("", text))
        for name in _SUB_VARIABLE.findall(text):
            if name in variables:
                part = worst_case_length(variables[name], parameters)
            elif "." in name:
                part = None  # ${Resource.Attribute}
            else:
                part = _reference_length(name, parameters)
            if part is None:
                return None
            total += part
        return total
    if function == "Fn::Join":
        delimiter, items = argument
        if not isinstance(items, list):
            return None
        parts = [worst_case_length(item, parameters) for item in items]
        if any(part is None for part in parts):
            return None
        return sum(p for p in parts if p is not None) + len(delimiter) * max(0, len(items) - 1)
    return None


def _reference_length(name: str, parameters: dict[str, Any]) -> float | None:
    if name in PSEUDO_PARAMETER_MAX:
        return PSEUDO_PARAMETER_MAX[name]
    declared = parameters.get(name)
    if declared is None:
        return None  # a resource's Ref: its physical id, chosen by CloudFormation
    if "AllowedValues" in declared:
        return max(len(str(v)) for v in declared["AllowedValues"])
    if "MaxLength" in declared:
        return int(declared["MaxLength"])
    return UNBOUNDED


def check_lambda_runtimes(
    artifact: str, body: dict[str, Any], today: date | None = None
) -> list[Finding]:
    """Every Lambda on a Python runtime that AWS supports for at least another year."""
    lifecycle = _runtime_lifecycle()
    deadline = (today or date.today()) + timedelta(days=RUNTIME_MIN_DAYS_LEFT)
    findings = []
    for logical_id, resource in sorted(body.get("Resources", {}).items()):
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Function":
            continue
        runtime = resource.get("Properties", {}).get("Runtime", "")
        match = re.fullmatch(r"python3\.(\d+)", str(runtime))
        if not match or int(match.group(1)) < 12:
            findings.append(
                Finding(
                    artifact,
                    RUNTIME_CHECK,
                    f"{logical_id}: runtime {runtime!r} is not Python 3.12+",
                )
            )
            continue
        deprecated = lifecycle.get(runtime, {}).get("deprecated")
        if deprecated and date.fromisoformat(deprecated) <= deadline:
            findings.append(
                Finding(
                    artifact,
                    RUNTIME_CHECK,
                    f"{logical_id}: runtime {runtime} is deprecated on {deprecated}, within "
                    f"{RUNTIME_MIN_DAYS_LEFT} days; move to {lifecycle[runtime].get('successor')}",
                )
            )
    return findings


def _runtime_lifecycle() -> dict[str, dict[str, str]]:
    """AWS's published runtime deprecation dates, as cfn-lint ships them."""
    import cfnlint.data.AdditionalSpecs as specs

    path = Path(specs.__file__).parent / "LmbdRuntimeLifecycle.json"
    return dict(json.loads(path.read_text()))
