"""The two scenarios, the registry flavours and the delete choices.

Everything that says "which model groups does a project have" or "which
branch trains into which group" reads this module, so templates, the Lambda
and the seed code cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

REGISTRIES = ("sagemaker", "mlflow")
ON_DELETE_CHOICES = ("retain-data", "delete-all")
DEFAULT_ON_DELETE = "retain-data"


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    model_group_kinds: tuple[str, ...]
    # The groups that a push to ``prod`` promotes the dev model into (no retraining).
    production_kinds: tuple[str, ...]


SCENARIOS: dict[str, Scenario] = {
    "baseline": Scenario(
        name="baseline",
        title="Baseline: one production endpoint",
        model_group_kinds=("prod", "dev", "feature"),
        production_kinds=("prod",),
    ),
    "advanced": Scenario(
        name="advanced",
        title="Advanced: champion and challenger in production",
        model_group_kinds=("champion", "challenger", "dev", "feature"),
        production_kinds=("champion", "challenger"),
    ),
}

MODEL_GROUP_DESCRIPTIONS: dict[str, str] = {
    "prod": "Models promoted from dev when dev is merged into prod; approval deploys them "
    "to production.",
    "champion": "Champion models promoted from dev; approval deploys the champion variant "
    "in production.",
    "challenger": "Challenger models promoted from dev; approval deploys the challenger variant "
    "in production.",
    "dev": "Models trained from the dev branch; approval deploys them to the development endpoint.",
    "feature": "Models trained from feature-* branches; approval deploys them to the development "
    "endpoint.",
}

# Where an approved package of each group kind is deployed.
STAGE_OF_GROUP: dict[str, str] = {
    "feature": "development",
    "dev": "development",
    "prod": "production",
    "champion": "production",
    "challenger": "production",
}


def branch_kind(branch: str) -> str | None:
    """``prod``, ``dev`` or ``feature`` for the branches that train; None for any other."""
    if branch in ("prod", "dev"):
        return branch
    if branch.startswith("feature-") and len(branch) > len("feature-"):
        return "feature"
    return None
