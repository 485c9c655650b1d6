"""docs/footprint.md is what benchmarks/footprint.py derives from the generated templates."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REGENERATE = ".venv/bin/python benchmarks/footprint.py --write"


def load_script() -> object:
    spec = importlib.util.spec_from_file_location("footprint", REPO / "benchmarks" / "footprint.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["footprint"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_footprint_page_matches_the_templates() -> None:
    footprint = load_script()
    expected = footprint.build_doc()  # type: ignore[attr-defined]
    page = REPO / "docs" / "footprint.md"
    assert page.is_file(), f"docs/footprint.md is missing; run: {REGENERATE}"
    assert page.read_text() == expected, (
        f"docs/footprint.md is stale; review, then run: {REGENERATE}"
    )


def test_no_project_resource_has_an_idle_price_and_the_iam_role_quota_binds_first() -> None:
    footprint = load_script()
    page = footprint.build_doc()  # type: ignore[attr-defined]
    totals = [line for line in page.splitlines() if "**total**" in line]
    assert len(totals) == 4
    assert all("**0.00**" in line for line in totals)
    # Each project owns one IAM role (its training role); IAM allows 1,000 per account by
    # default, and the platform stack's own roles come first (as it deploys by default: the
    # MLflow tracking-server options' roles are conditional).
    platform = json.loads((REPO / "tests" / "golden" / "templates" / "platform.json").read_text())
    platform_roles = sum(
        1
        for r in platform["Resources"].values()
        if isinstance(r, dict) and r.get("Type") == "AWS::IAM::Role" and "Condition" not in r
    )
    fits = [
        line
        for line in page.splitlines()
        if line.startswith("| ") and "`AWS::IAM::Role`: 1,000 per account" in line
    ]
    assert len(fits) == 4
    assert all(f"| {1000 - platform_roles} |" in line for line in fits)


def test_the_page_counts_what_the_lambda_makes_and_says_the_role_quota_spans_regions() -> None:
    footprint = load_script()
    page = footprint.build_doc()  # type: ignore[attr-defined]
    # project#, one model-group# per group and repository# records; the project's repository.
    for product, records in (
        ("baseline-sagemaker", 5),
        ("advanced-sagemaker", 6),
        ("baseline-mlflow", 2),
    ):
        assert f"| {product} | `registry records (DynamoDB on demand)` | {records} |" in page
        assert f"| {product} | `project git repository` | 1 |" in page
    assert "The IAM role quota (1,000) is per account, across all Regions" in page
