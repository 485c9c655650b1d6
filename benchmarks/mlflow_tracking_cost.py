"""The idle price of each MLflow tracking-server option of the platform (docs/footprint.md).

What each option adds is counted from the platform template (its resources under the
option's condition); prices are the table below, us-east-1 on-demand, with their sources.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class OptionPrice:
    what: str
    usd_per_month: float
    source: str


def _fargate_task() -> OptionPrice:
    from portfolio.mlflow_self_hosted import TASK_CPU, TASK_MEMORY_MB

    vcpu, memory_gb = int(TASK_CPU) / 1024, int(TASK_MEMORY_MB) / 1024
    hourly = vcpu * 0.04048 + memory_gb * 0.004445
    return OptionPrice(
        f"Fargate task ({vcpu:g} vCPU, {memory_gb:g} GB, Linux/x86, always on)",
        round(hourly * HOURS_PER_MONTH, 2),
        "aws.amazon.com/fargate/pricing: $0.04048 per vCPU-hour, $0.004445 per GB-hour",
    )


def _database_floor() -> OptionPrice:
    from portfolio.mlflow_self_hosted import DATABASE_MIN_ACU, DATABASE_PAUSE_AFTER_SECONDS

    return OptionPrice(
        f"Aurora PostgreSQL Serverless v2 at {DATABASE_MIN_ACU} ACU (paused after "
        f"{DATABASE_PAUSE_AFTER_SECONDS} s without connections; the server holds none: NullPool)"
        ", storage of a small tracking database (1 GB)",
        0.10,
        "aws.amazon.com/rds/aurora/pricing: $0.12 per ACU-hour (0 while paused), $0.10 per "
        "GB-month of storage; backups up to the database's size are free",
    )


def option_prices() -> dict[str, list[OptionPrice]]:
    secrets = 4  # admin, the platform's user, the database, the auth app's CSRF key
    return {
        "external": [OptionPrice("nothing (the team's server)", 0.0, "-")],
        "managed": [
            OptionPrice(
                "SageMaker serverless MLflow App (no instance; scales with requests)",
                0.0,
                "AWS What's New, 2 Dec 2025, 'Amazon SageMaker AI announces serverless MLflow': "
                "offered at no additional charge (assumption to check on the SageMaker pricing "
                "page before relying on it); artifacts are S3 storage of the data bucket",
            )
        ],
        "self-hosted": [
            _fargate_task(),
            OptionPrice(
                "internal Application Load Balancer (idle: no LCUs)",
                round(0.0225 * HOURS_PER_MONTH, 2),
                "aws.amazon.com/elasticloadbalancing/pricing: $0.0225 per ALB-hour, $0.008 per "
                "LCU-hour",
            ),
            _database_floor(),
            OptionPrice(
                f"{secrets} Secrets Manager secrets",
                round(0.40 * secrets, 2),
                "aws.amazon.com/secrets-manager/pricing: $0.40 per secret per month",
            ),
        ],
    }


def added_resources(platform: dict[str, Any]) -> dict[str, Counter[str]]:
    """Resource type -> count that each option adds to the platform stack."""
    from portfolio.mlflow_self_hosted import SELF_HOSTED
    from portfolio.mlflow_tracking import MANAGED, MANAGED_CONDITION, SELF_HOSTED_OPTION

    by_condition = {MANAGED_CONDITION: MANAGED, SELF_HOSTED: SELF_HOSTED_OPTION}
    added: dict[str, Counter[str]] = {option: Counter() for option in by_condition.values()}
    for resource in platform.get("Resources", {}).values():
        if isinstance(resource, dict) and resource.get("Condition") in by_condition:
            added[by_condition[resource["Condition"]]][str(resource["Type"])] += 1
    return added


def is_option_resource(resource: dict[str, Any]) -> bool:
    from portfolio.mlflow_self_hosted import SELF_HOSTED
    from portfolio.mlflow_tracking import MANAGED_CONDITION

    return resource.get("Condition") in (MANAGED_CONDITION, SELF_HOSTED)


def lines(platform: dict[str, Any]) -> list[str]:
    added = added_resources(platform)
    out = [
        "",
        "## The MLflow tracking server: idle price of each option",
        "",
        "The platform parameter `MlflowTrackingServer` (the MLflow products' server); one per",
        "platform stack, shared by every project. The counts above are the default (`external`);",
        "the options add to the platform stack only. us-east-1 on-demand prices; the team's VPC,",
        "subnets and their NAT or endpoints are not counted (self-hosted runs in them).",
        "",
        "| option | what idles | $/month | source |",
        "|---|---|---:|---|",
    ]
    for option, prices in option_prices().items():
        for price in prices:
            out.append(f"| {option} | {price.what} | {price.usd_per_month:.2f} | {price.source} |")
        if len(prices) > 1:
            total = sum(p.usd_per_month for p in prices)
            out.append(f"| {option} | all of the above | **{total:.2f}** | |")
    out += ["", "| option | adds to the platform stack |", "|---|---|"]
    for option, counts in added.items():
        listed = ", ".join(f"{kind} x{n}" for kind, n in sorted(counts.items()))
        out.append(f"| {option} | {listed} |")
    return out
