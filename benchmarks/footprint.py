"""Per-project footprint: what a project creates, what it costs idle, how many fit in a region.

    .venv/bin/python benchmarks/footprint.py            # print docs/footprint.md
    .venv/bin/python benchmarks/footprint.py --write    # rewrite it

Every count comes from the generated templates (rendered in-process, as
``python build.py`` renders them) and from the code that decides what the shared
Lambdas make (scenarios, naming, the deployment plan); prices and default quotas
are the table below, with their sources. ``tests/test_footprint.py`` fails when
docs/footprint.md differs from what this prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks import mlflow_tracking_cost  # noqa: E402 - after the repository is on the path

DOC = REPO / "docs" / "footprint.md"


@dataclass(frozen=True)
class Price:
    """Idle monthly price of one resource, in USD, and why."""

    usd: float
    note: str


@dataclass(frozen=True)
class Quota:
    """A default AWS quota, its scope, and where it is documented."""

    limit: int
    scope: str
    source: str


# Idle monthly price per resource type (what it costs while nobody trains or calls it).
PRICES: dict[str, Price] = {
    "AWS::CloudFormation::Stack": Price(0.0, "no charge for AWS:: and Custom:: resources"),
    "AWS::ServiceCatalog::ProvisionedProduct": Price(0.0, "no charge per provisioned product"),
    "Custom::ProjectLifecycle": Price(0.0, "a call of the shared Lambda at create/update/delete"),
    "AWS::SageMaker::ModelPackageGroup": Price(0.0, "no charge; artifacts are S3 storage"),
    "registry records (DynamoDB on demand)": Price(
        0.0, "a few hundred bytes at $0.25 per GB-month: under $0.01"
    ),
    "AWS::IAM::Role": Price(0.0, "no charge"),
    "AWS::IAM::Policy": Price(0.0, "no charge"),
    "AWS::CodeBuild::Project": Price(0.0, "billed per build minute only"),
    "AWS::CodeCommit::Repository": Price(0.0, "billed per active user, not per repository"),
    "AWS::Logs::LogGroup": Price(0.0, "storage only"),
    "AWS::Events::Rule": Price(0.0, "no charge for AWS service events"),
    "AWS::SSM::Parameter": Price(0.0, "standard parameters are free"),
    "AWS::S3::Bucket": Price(0.0, "storage only"),
    "AWS::CloudWatch::Alarm": Price(0.10, "standard-resolution metric alarm"),
    "AWS::Events::EventBusPolicy": Price(0.0, "no charge"),
    "project git repository": Price(
        0.0,
        "CodeCommit (the default; the lifecycle Lambda makes it) bills per active user, not per "
        "repository; a GitHub, GitLab or Bitbucket repository is the provider's",
    ),
}
CFN_STACKS = Quota(
    2000,
    "account and Region",
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html",
)
# Default quotas of the resource types a project can create (None: none binds per project).
QUOTAS: dict[str, Quota] = {
    "AWS::CloudFormation::Stack": CFN_STACKS,
    "AWS::IAM::Role": Quota(
        1000,
        "account (all Regions)",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
    ),
    "AWS::CodeBuild::Project": Quota(
        5000,
        "account and Region",
        "https://docs.aws.amazon.com/codebuild/latest/userguide/limits.html",
    ),
    "AWS::Events::Rule": Quota(
        300,
        "event bus",
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html",
    ),
}
# Stacks every account and Region with the portfolio holds besides projects.
PLATFORM_STACKS = ("bootstrap", "platform")


def render() -> dict[str, dict[str, Any]]:
    from portfolio_build.render import render_templates
    from template_common.settings import TemplateSettings

    return {
        name: json.loads(json.dumps(template.to_dict()))
        for _, name, template, _ in render_templates(TemplateSettings())
    }


def template_resources(body: dict[str, Any]) -> Counter[str]:
    """Resource type -> count, as the template deploys with its defaults (the MLflow
    tracking-server options, off by default, are counted in their own section)."""
    return Counter(
        str(resource["Type"])
        for resource in body.get("Resources", {}).values()
        if isinstance(resource, dict) and not mlflow_tracking_cost.is_option_resource(resource)
    )


def lambda_made(scenario: str, registry: str) -> Counter[str]:
    """What the lifecycle Lambda makes for a project that never deploys (from its code)."""
    from lambda_project_lifecycle.scenarios import SCENARIOS

    groups = len(SCENARIOS[scenario].model_group_kinds) if registry == "sagemaker" else 0
    made: Counter[str] = Counter()
    if groups:
        made["AWS::SageMaker::ModelPackageGroup"] = groups
    # project#, model-group# (one per group) and repository# records.
    made["registry records (DynamoDB on demand)"] = 1 + groups + 1
    made["project git repository"] = 1
    return made


def per_running_endpoint(scenario: str) -> list[tuple[str, str, str]]:
    """(stage, what exists while its endpoint runs, idle cost) from the deployment plan."""
    from lambda_project_lifecycle.deployments.config import load_schema, parse_stage_config
    from lambda_project_lifecycle.deployments.plan import plan_endpoint
    from lambda_project_lifecycle.deployments.records import VariantState
    from lambda_project_lifecycle.deployments.settings import default_schema_path
    from lambda_project_lifecycle.naming import ProjectNames

    schema = load_schema(default_schema_path())
    names = ProjectNames("example", "p-example00000")
    rows = []
    for stage, kinds in (
        ("development", ("dev",)),
        ("production", ("champion", "challenger") if scenario == "advanced" else ("prod",)),
    ):
        config = parse_stage_config(
            {"schema_version": 1}, stage=stage, scenario=scenario, schema=schema, source="-"
        )
        desired = {
            ("AllTraffic" if len(kinds) == 1 else kind): VariantState(
                kind, f"arn:aws:sagemaker:r:1:model-package/{kind}/1", "2026-01-01T00:00:00+00:00"
            )
            for kind in kinds
        }
        plan = plan_endpoint(names, scenario, config, desired).plan
        assert plan is not None
        alarms = len(plan.own_alarms)
        scaled = sum(1 for v in plan.variants if v.autoscaling)
        what = (
            f"1 endpoint, 1 endpoint config, {len(plan.variants)} model(s), "
            f"{alarms} rollback alarm(s), {scaled} scaling target(s), 1 registry record"
        )
        if config.mode == "serverless":
            compute = (
                f"serverless ({config.serverless['memory_mb']} MB): $0 idle, billed per request"
            )
        else:
            instances = ", ".join(
                f"{v.request['InitialInstanceCount']} x {v.request['InstanceType']}"
                for v in plan.variants
            )
            compute = f"real-time {instances}: on-demand price x 730 h (runs until deleted)"
        alarm_cost = alarms * PRICES["AWS::CloudWatch::Alarm"].usd
        ttl = f"; deleted after {config.ttl_hours} h" if stage == "development" else ""
        rows.append((stage, what, f"{compute}; alarms ${alarm_cost:.2f}/month{ttl}"))
    return rows


def build_doc() -> str:
    from template_common.catalog import PRODUCTS

    bodies = render()
    platform = template_resources(bodies["platform"])
    lines = [
        "# Per-project footprint",
        "",
        "Generated by `python benchmarks/footprint.py --write` from the rendered templates and",
        "the code of the shared Lambdas; `tests/test_footprint.py` fails when this page is stale.",
        "",
        "A project is a Service Catalog provisioned product: one CloudFormation stack made from",
        "its product template, plus what the shared Lambdas make for it. Nothing it owns has an",
        "idle price; endpoints exist only while an approved model is deployed, and development",
        "endpoints expire.",
        "",
        "## What each project creates while idle",
        "",
        "| product | resource | count | idle $/month | why |",
        "|---|---|---:|---:|---|",
    ]
    fits: dict[str, tuple[int, str]] = {}
    for product in PRODUCTS:
        made: Counter[str] = Counter(
            {"AWS::ServiceCatalog::ProvisionedProduct": 1, "AWS::CloudFormation::Stack": 1}
        )
        made.update(template_resources(bodies[product.name]))
        made.update(lambda_made(product.scenario.name, product.registry))
        total = 0.0
        for kind, count in sorted(made.items()):
            price = PRICES.get(kind)
            if price is None:
                raise SystemExit(
                    f"{product.name}: resource type {kind} has no idle price in "
                    "benchmarks/footprint.py; add it"
                )
            total += price.usd * count
            lines.append(
                f"| {product.name} | `{kind}` | {count} | {price.usd * count:.2f} | {price.note} |"
            )
        lines.append(f"| {product.name} | **total** | | **{total:.2f}** | |")
        fits[product.name] = _fits(made, platform)
    lines += [
        "",
        "## When a model is deployed",
        "",
        "Per stage with its default settings (deploy/config.yaml changes them); superseded",
        "endpoint configs and models are deleted once a new deployment is InService. The",
        "models run as a model role (model archives, image pulls and endpoint logs only),",
        "never as the project's training role: the platform's one `ModelExecutionRole`, or",
        'with `model_role_isolation = "per-project"` the project\'s own (see below); no IAM',
        "role per deployment.",
        "",
        "| scenario | stage | exists while the endpoint runs | cost |",
        "|---|---|---|---|",
    ]
    for scenario in ("baseline", "advanced"):
        for stage, what, cost in per_running_endpoint(scenario):
            lines.append(f"| {scenario} | {stage} | {what} | {cost} |")
    lines += [
        "",
        "## How many projects fit in an account and Region",
        "",
        "Default quotas of what projects consume; the platform's own use is subtracted.",
        "",
        "| product | projects before a default quota binds | binding quota |",
        "|---|---:|---|",
    ]
    for name, (count, why) in fits.items():
        lines.append(f"| {name} | {count:,} | {why} |")
    roles = QUOTAS["AWS::IAM::Role"]
    lines += [
        "",
        f"The IAM role quota ({roles.limit:,}) is per account, across all Regions: the counts "
        f"above subtract the {platform.get('AWS::IAM::Role', 0)} roles of one Region's platform "
        "stack. Each further Region with the platform uses as many again, and the projects of "
        "every Region share what is left.",
        "",
        *_model_role_choices(platform.get("AWS::IAM::Role", 0)),
    ]
    rules = platform.get("AWS::Events::Rule", 0)
    shared = ("AWS::IAM::Role", "AWS::Lambda::Function", "AWS::Events::Rule")
    per_project = sorted(
        {kind for p in PRODUCTS for kind in template_resources(bodies[p.name]) if kind in shared}
    )
    lines += [
        "",
        f"The platform stack uses {rules} EventBridge rules of the default bus's "
        f"{QUOTAS['AWS::Events::Rule'].limit} (one per event kind, matched by name prefix) and "
        f"{platform.get('AWS::Lambda::Function', 0)} Lambdas for all projects. Product templates "
        + (
            "hold no IAM role, Lambda or EventBridge rule."
            if not per_project
            else f"hold {', '.join(per_project)} per project."
        ),
        "",
        "Quota sources:",
        "",
    ]
    for kind, quota in sorted(QUOTAS.items()):
        lines.append(f"- `{kind}`: {quota.limit:,} per {quota.scope}: {quota.source}")
    lines += multi_account_lines(bodies["target-account"], platform)
    lines += mlflow_tracking_cost.lines(bodies["platform"])
    return "\n".join(lines) + "\n"


# The example of the multi-account section: three stage accounts.
EXAMPLE_ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}


def multi_account_lines(target: dict[str, Any], platform: Counter[str]) -> list[str]:
    """What each account holds and costs when stages have accounts of their own."""
    from lambda_project_lifecycle.stage_accounts import StageAccountIds
    from portfolio.platform import build
    from template_common.settings import TemplateSettings

    accounts = StageAccountIds(
        development=EXAMPLE_ACCOUNTS["dev"],
        production=EXAMPLE_ACCOUNTS["prod"],
        staging=EXAMPLE_ACCOUNTS["staging"],
    )
    with_accounts = template_resources(
        json.loads(json.dumps(build(TemplateSettings(stage_accounts=accounts)).to_dict()))
    )
    added = with_accounts - platform
    lines = [
        "",
        "## Multi-account: what each account holds",
        "",
        "With `stage_accounts` configured (here dev, staging and prod in three accounts), per",
        "Region. The platform account keeps repositories, training and the registry; each stage",
        "account holds the target-account stack and the endpoints of its stage.",
        "",
        "| account | holds | count | idle $/month | why |",
        "|---|---|---:|---:|---|",
    ]
    for kind, count in sorted(added.items()):
        price = PRICES[kind]
        lines.append(
            f"| platform | `{kind}` (added) | {count} | {price.usd * count:.2f} | {price.note} |"
        )
    lines.append(
        "| platform | model package group resource policies | 1 per group | 0.00 | no charge |"
    )
    for kind, count in sorted(template_resources(target).items()):
        price = PRICES[kind]
        lines.append(
            f"| each stage account | `{kind}` | {count} | {price.usd * count:.2f} | {price.note} |"
        )
    lines += [
        "| each stage account | endpoints of its stage | see above | as above | they exist "
        "only while a model is deployed; staging has production's settings |",
        "",
        "Endpoint state changes of a stage account reach the platform's bus as cross-account",
        "events (billed as custom events, per million); model archives are read from the",
        "platform's bucket (S3 requests and transfer within the Region). Rolled out with",
        "`python build.py publish` (one command: platform first, then each stage account's",
        "target-account stack with its profile from `target_profiles`, or, for stages in",
        "`stage_organizational_units`, one service-managed StackSet per Region in the",
        "platform account with automatic deployment to those units: $0, the same stack in",
        "each account). Organizations: nothing is billed; accounts outside the platform's",
        "organization are refused at publish and at deployment.",
    ]
    return lines


RAISED_ROLE_QUOTA = 5000  # IAM's adjustable role quota, raised through Service Quotas


def _project_roles(settings: Any) -> int:
    """IAM roles a project's stack holds under ``settings`` (the most of any product)."""
    from products.template import build
    from template_common.catalog import PRODUCTS

    return max(
        template_resources(json.loads(json.dumps(build(p, settings).to_dict())))["AWS::IAM::Role"]
        for p in PRODUCTS
    )


def _model_role_choices(platform_roles: int) -> list[str]:
    """Projects per account with one shared model role (the platform's) or one per project,
    each counted from the product templates rendered with that setting."""
    from template_common.settings import (
        PER_PROJECT_MODEL_ROLE,
        SHARED_MODEL_ROLE,
        TemplateSettings,
    )

    default = QUOTAS["AWS::IAM::Role"].limit
    rows = []
    for setting, what in (
        (SHARED_MODEL_ROLE, "the platform's shared model role"),
        (PER_PROJECT_MODEL_ROLE, "a model role per project"),
    ):
        roles = _project_roles(TemplateSettings(model_role_isolation=setting))
        marker = " (default)" if setting == TemplateSettings.model_role_isolation else ""
        rows.append(
            f"| `{setting}`{marker}: {what} | {roles} | "
            f"{(default - platform_roles) // roles:,} | "
            f"{(RAISED_ROLE_QUOTA - platform_roles) // roles:,} |"
        )
    return [
        "### The models' role: one shared, or one per project",
        "",
        "The platform setting `model_role_isolation` (README, Configuration; the platform",
        "stack's `ModelRoleIsolation` parameter) chooses; every project role carries the",
        "platform's permissions boundary either way.",
        "",
        "| `model_role_isolation`: models run as | IAM roles per project | projects at the "
        f"default quota ({default:,}) | at a raised quota ({RAISED_ROLE_QUOTA:,}) |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        "Both roles read only model archives, pull images and write endpoint logs: a model",
        "cannot approve packages, run pipelines or read a repository token with either. The",
        "shared role reads the archives of every project (`sagemaker-*/*.tar.gz` of the data",
        "bucket); a project's own role reads only its own (`sagemaker-<name>-<id>/*.tar.gz`)",
        "and writes only its own endpoints' logs. `shared` is the default because the",
        "isolation it gives up is between the models of one platform's projects (one team's",
        "account), while a role per project halves the projects an account holds before IAM's",
        "role quota binds, and the quota is per account across every Region. Choose",
        "`per-project` where projects' models must not read one another's archives (teams",
        "that do not share data), and raise the role quota with it. Projects keep the role",
        "they were created with: a project's own role travels in its stack, so changing the",
        "setting affects the projects created or updated afterwards.",
    ]


def _fits(made: Counter[str], platform: Counter[str]) -> tuple[int, str]:
    best: tuple[int, str] | None = None
    for kind, per_project in made.items():
        quota = QUOTAS.get(kind)
        if quota is None or per_project == 0:
            continue
        used = len(PLATFORM_STACKS) if kind == "AWS::CloudFormation::Stack" else platform[kind]
        count = (quota.limit - used) // per_project
        why = (
            f"`{kind}`: {quota.limit:,} per {quota.scope}, {used} used by the platform, "
            f"{per_project} per project"
        )
        if best is None or count < best[0]:
            best = (count, why)
    assert best is not None, "every project has a CloudFormation stack"
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {DOC.relative_to(REPO)}")
    args = parser.parse_args()
    document = build_doc()
    if args.write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(document)
        print(f"wrote {DOC}")
    else:
        print(document, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
