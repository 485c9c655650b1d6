"""The platform template once per MLflow tracking-server option, for checkov.

checkov evaluates conditions with the parameters' defaults, so the resources of the
``managed`` and ``self-hosted`` options (off by default) would go unchecked. Each variant
is the built platform template with ``MlflowTrackingServer`` defaulting to one option,
written under ``dist/checks/`` (not an artifact: never published, not in the manifest).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from portfolio.mlflow_tracking import MANAGED, SELF_HOSTED_OPTION, TRACKING_SERVER_PARAMETER

VARIANTS_DIR = "checks"
OPTIONS = (MANAGED, SELF_HOSTED_OPTION)


def write_variants(dist: Path, platform_label: str, body: dict[str, Any]) -> dict[Path, str]:
    """Path -> label (``templates/platform.json [MlflowTrackingServer=managed]``) per option."""
    labels = {}
    for option in OPTIONS:
        variant = copy.deepcopy(body)
        variant["Parameters"][TRACKING_SERVER_PARAMETER]["Default"] = option
        path = dist / VARIANTS_DIR / f"platform-mlflow-{option}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(variant, indent=2, sort_keys=True) + "\n")
        labels[path] = f"{platform_label} [{TRACKING_SERVER_PARAMETER}={option}]"
    return labels
