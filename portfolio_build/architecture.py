"""The architecture picture, drawn from the built templates so it never drifts.

A Mermaid flowchart (GitHub and most Markdown viewers draw it): the platform
stack's functions, registry, topic and buckets; a project's stack; and the event
flows between them, each edge read from the templates:

- an EventBridge rule: from the service its pattern listens to, to its target;
- a custom resource: to the function its ``ServiceToken`` resolves to (through the
  SSM parameter the platform publishes);
- a function's environment: to the table, topic or bucket it names;
- a role's actions (the function's, or the training build's): to the service they
  act on, for the few actions that make the flow (start a build, create an
  endpoint, register a model).

``python -m portfolio_build.architecture --write`` regenerates ``docs/architecture.md``
and the picture in README.md from ``dist/templates``; ``python build.py`` writes the
same page to ``dist/docs/architecture.md``, and a test fails when the committed copies
are stale.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
PAGE = Path("docs") / "architecture.md"
README_BEGIN = "<!-- architecture picture: generated, do not edit -->"
README_END = "<!-- end of architecture picture -->"
REGENERATE = ".venv/bin/python -m portfolio_build.architecture --write"

# Services a project's flow passes through that no template declares: (node id, label).
GIT = ("git", "project git repository")
REGISTRY = ("registry", "SageMaker Model Registry")
PIPELINE = ("pipeline", "SageMaker pipeline")
ENDPOINTS = ("endpoints", "SageMaker endpoints")
SCHEDULE = ("schedule", "schedule")
STUDIO = ("studio", "SageMaker Studio: Create project")

# Where an event rule's pattern listens: (source, detail-type) -> node.
EVENT_SOURCES: dict[tuple[str, str], tuple[str, str]] = {
    ("aws.codecommit", "CodeCommit Repository State Change"): GIT,
    ("aws.sagemaker", "SageMaker Model Package State Change"): REGISTRY,
    ("aws.sagemaker", "SageMaker Endpoint State Change"): ENDPOINTS,
}
# The actions that make the flow, and the node each acts on.
ACTION_TARGETS: dict[str, tuple[tuple[str, str], str]] = {
    "codecommit:CreateRepository": (GIT, "creates and seeds"),
    "sagemaker:CreateModelPackageGroup": (REGISTRY, "creates model groups"),
    "sagemaker:CreateModelPackage": (REGISTRY, "registers models"),
    "sagemaker:StartPipelineExecution": (PIPELINE, "runs"),
    "sagemaker:CreateEndpoint": (ENDPOINTS, "deploys"),
    "sagemaker:DeleteEndpoint": (ENDPOINTS, "deletes"),
}
# Environment variables whose value is a platform resource: the edge's label.
ENVIRONMENT_LABELS = {
    "PROJECT_REGISTRY_TABLE": "project records",
    "NOTIFICATION_TOPIC_ARN": "notices",
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str
    event: bool = False  # drawn dashed: delivered as an event

    def mermaid(self) -> str:
        arrow = "-.->" if self.event else "-->"
        return f'  {self.source} {arrow}|"{self.label}"| {self.target}'


def render(platform: dict[str, Any], product: dict[str, Any]) -> str:
    """The page: a short text and the flowchart of ``platform`` and one ``product``."""
    return PAGE_TEMPLATE.format(regenerate=REGENERATE, picture=picture(platform, product))


def picture(platform: dict[str, Any], product: dict[str, Any]) -> str:
    """The Mermaid block (with its fences)."""
    platform_resources = resources(platform)
    product_resources = resources(product)
    functions = {
        k: v for k, v in platform_resources.items() if v["Type"] == "AWS::Lambda::Function"
    }
    nodes: dict[str, str] = {}
    edges: list[Edge] = []

    lines = ["```mermaid", "flowchart LR"]
    lines.append(f'  {STUDIO[0]}(["{STUDIO[1]}"])')
    lines.append('  subgraph platform["platform stack: one per account and Region"]')
    for logical_id, resource in sorted(functions.items()):
        lines.append(f'    {logical_id}["{function_label(logical_id, resource)}"]')
    for logical_id, resource in sorted(platform_resources.items()):
        label = SHARED_LABELS.get(resource["Type"])
        if label:
            lines.append(f'    {logical_id}[("{label}: {logical_id}")]')
    lines.append("  end")
    lines.append('  subgraph project["project stack: one per SageMaker project"]')
    for logical_id, resource in sorted(product_resources.items()):
        if resource["Type"] in PROJECT_LABELS:
            lines.append(f'    {logical_id}["{PROJECT_LABELS[resource["Type"]]}"]')
    lines.append("  end")

    edges.append(Edge(STUDIO[0], "project", "Service Catalog or S3 template"))
    edges.extend(custom_resource_edges(platform_resources, product_resources))
    edges.extend(rule_edges(platform, platform_resources, nodes))
    for logical_id, resource in sorted(functions.items()):
        edges.extend(environment_edges(logical_id, resource, platform_resources))
        actions = role_actions(resource["Properties"].get("Role"), platform_resources)
        edges.extend(action_edges(logical_id, actions, nodes))
    for logical_id, resource in sorted(product_resources.items()):
        if resource["Type"] == "AWS::CodeBuild::Project":
            nodes.setdefault(*GIT)
            edges.append(Edge(GIT[0], logical_id, "source"))
            edges.extend(
                Edge(trigger, logical_id, "starts build")
                for trigger in trigger_functions(platform_resources)
            )
            actions = role_actions(resource["Properties"].get("ServiceRole"), product_resources)
            edges.extend(action_edges(logical_id, actions, nodes))

    for node_id, label in sorted(nodes.items()):
        lines.append(f'  {node_id}(["{label}"])')
    lines.extend(edge.mermaid() for edge in unique(edges) if edge.source != edge.target)
    lines.append("```")
    return "\n".join(lines)


SHARED_LABELS = {
    "AWS::DynamoDB::Table": "DynamoDB",
    "AWS::SNS::Topic": "SNS",
    "AWS::S3::Bucket": "S3",
}
PROJECT_LABELS = {
    "Custom::ProjectLifecycle": "Custom::ProjectLifecycle",
    "AWS::CodeBuild::Project": "CodeBuild: training on every push",
    "AWS::IAM::Role": "IAM role: training",
}


def resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's resources (an ``Fn::ForEach`` block is not a resource)."""
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if isinstance(resource, dict) and "Type" in resource
    }


def function_label(logical_id: str, resource: dict[str, Any]) -> str:
    handler = str(resource["Properties"].get("Handler", ""))
    module = handler.rsplit(".", 2)[-2] if handler.count(".") >= 1 else logical_id
    return f"λ {module.replace('_', ' ')}"


def trigger_functions(platform_resources: dict[str, dict[str, Any]]) -> Iterator[str]:
    """Functions allowed to start CodeBuild builds."""
    for logical_id, resource in sorted(platform_resources.items()):
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        if "codebuild:StartBuild" in role_actions(
            resource["Properties"].get("Role"), platform_resources
        ):
            yield logical_id


def custom_resource_edges(
    platform_resources: dict[str, dict[str, Any]], product_resources: dict[str, dict[str, Any]]
) -> Iterator[Edge]:
    parameters = {
        str(resource["Properties"].get("Name")): resource["Properties"].get("Value")
        for resource in platform_resources.values()
        if resource["Type"] == "AWS::SSM::Parameter"
    }
    for logical_id, resource in sorted(product_resources.items()):
        if not resource["Type"].startswith("Custom::"):
            continue
        token = str(resource["Properties"].get("ServiceToken", ""))
        found = re.fullmatch(r"\{\{resolve:ssm:([^}:]+)(:\d+)?\}\}", token)
        value = parameters.get(found.group(1)) if found else None
        target = referenced(value)
        if target:
            yield Edge(logical_id, target, "create, update, delete")


def rule_edges(
    platform: dict[str, Any],
    platform_resources: dict[str, dict[str, Any]],
    nodes: dict[str, str],
) -> Iterator[Edge]:
    defaults = {name: spec.get("Default") for name, spec in platform.get("Parameters", {}).items()}
    for _, resource in sorted(platform_resources.items()):
        if resource["Type"] != "AWS::Events::Rule":
            continue
        properties = resource["Properties"]
        pattern = properties.get("EventPattern")
        if pattern:
            sources = pattern.get("source", [])
            detail_types = pattern.get("detail-type", [])
            origin = next(
                (
                    EVENT_SOURCES[(s, d)]
                    for s in sources
                    for d in detail_types
                    if (s, d) in EVENT_SOURCES
                ),
                None,
            )
            if origin is None:
                continue
            label = detail_types[0]
        else:
            origin = SCHEDULE
            schedule = properties.get("ScheduleExpression")
            if isinstance(schedule, dict) and "Ref" in schedule:
                schedule = defaults.get(schedule["Ref"], schedule["Ref"])
            label = str(schedule)
        nodes.setdefault(*origin)
        for target in properties.get("Targets", []):
            function = referenced(target.get("Arn"))
            if function:
                yield Edge(origin[0], function, label, event=True)


def environment_edges(
    logical_id: str, resource: dict[str, Any], platform_resources: dict[str, dict[str, Any]]
) -> Iterator[Edge]:
    variables = resource["Properties"].get("Environment", {}).get("Variables", {})
    for name, label in ENVIRONMENT_LABELS.items():
        target = referenced(variables.get(name))
        if target in platform_resources:
            yield Edge(logical_id, target, label)


def action_edges(source: str, actions: set[str], nodes: dict[str, str]) -> Iterator[Edge]:
    for action, (node, label) in ACTION_TARGETS.items():
        if action in actions:
            nodes.setdefault(*node)
            yield Edge(source, node[0], label)


def role_actions(role: Any, template_resources: dict[str, dict[str, Any]]) -> set[str]:
    """Every action the role's inline and attached policies allow."""
    role_id = referenced(role)
    if role_id is None or role_id not in template_resources:
        return set()
    documents = [
        policy.get("PolicyDocument", {})
        for policy in template_resources[role_id]["Properties"].get("Policies", [])
    ]
    for resource in template_resources.values():
        if resource["Type"] == "AWS::IAM::Policy":
            attached = [referenced(r) for r in resource["Properties"].get("Roles", [])]
            if role_id in attached:
                documents.append(resource["Properties"].get("PolicyDocument", {}))
    actions: set[str] = set()
    for document in documents:
        for statement in document.get("Statement", []):
            if statement.get("Effect") == "Allow":
                action = statement.get("Action", [])
                actions.update([action] if isinstance(action, str) else action)
    return actions


def referenced(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` names."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def unique(edges: list[Edge]) -> list[Edge]:
    seen: dict[tuple[str, str, str], Edge] = {}
    for edge in edges:
        seen.setdefault((edge.source, edge.target, edge.label), edge)
    return list(seen.values())


PAGE_TEMPLATE = """\
# Architecture

Generated from the built templates by `{regenerate}`
(`python build.py` writes the same page to `dist/docs/architecture.md`; a test fails when
this copy is stale). Solid arrows are calls and references read from the templates;
dashed arrows are events delivered by EventBridge rules.

{picture}

- **Platform stack** (`dist/templates/platform.json`, one per account and Region): the
  shared Lambdas, the project registry (DynamoDB), the notification topic (SNS), the
  project data bucket, and the EventBridge rules that route every project's events to
  the Lambdas, one rule per event kind.
- **Project stack** (`dist/templates/products/<product>.json`, one per SageMaker
  project): the `Custom::ProjectLifecycle` resource, answered by the lifecycle Lambda
  (which makes the repository, the model groups and the registry records), and the
  training build with its role.
- The deployment handlers follow the model registry and the endpoints; the reaper runs
  on a schedule. See [README.md](../README.md) for what each step does.
"""


def load_templates(templates_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    platform = json.loads((templates_dir / "platform.json").read_text())
    product = json.loads((templates_dir / "products" / "baseline-sagemaker.json").read_text())
    return platform, product


def readme_with_picture(readme: str, block: str) -> str:
    begin, end = readme.find(README_BEGIN), readme.find(README_END)
    if begin < 0 or end < begin:
        raise ValueError(f"README.md has no {README_BEGIN!r} ... {README_END!r} section")
    return readme[: begin + len(README_BEGIN)] + "\n" + block + "\n" + readme[end:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m portfolio_build.architecture",
        description="Draw the architecture picture from the built templates.",
    )
    parser.add_argument("--templates", type=Path, default=REPOSITORY / "dist" / "templates")
    parser.add_argument(
        "--write", action="store_true", help="update docs/architecture.md and README.md"
    )
    args = parser.parse_args(argv)
    if not (args.templates / "platform.json").is_file():
        print(
            f"error: no templates in {args.templates}; run python build.py first", file=sys.stderr
        )
        return 2
    platform, product = load_templates(args.templates)
    page = render(platform, product)
    if not args.write:
        print(page, end="")
        return 0
    (REPOSITORY / PAGE).write_text(page)
    readme = REPOSITORY / "README.md"
    readme.write_text(readme_with_picture(readme.read_text(), picture(platform, product)))
    print(f"wrote {PAGE} and the picture in README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
