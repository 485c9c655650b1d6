"""The architecture picture is drawn from the templates, and the committed copies are fresh."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from portfolio_build import architecture

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "templates"


def golden() -> tuple[dict[str, Any], dict[str, Any]]:
    return architecture.load_templates(GOLDEN)


def test_docs_page_and_readme_picture_match_the_golden_templates() -> None:
    platform, product = golden()
    page = (REPO / architecture.PAGE).read_text()
    readme = (REPO / "README.md").read_text()

    assert page == architecture.render(platform, product), (
        f"docs/architecture.md is stale; run python build.py, then {architecture.REGENERATE}"
    )
    assert architecture.readme_with_picture(readme, architecture.picture(platform, product)) == (
        readme
    ), f"the picture in README.md is stale; run python build.py, then {architecture.REGENERATE}"


def test_every_event_rule_of_the_platform_is_an_event_edge_to_its_function() -> None:
    platform, product = golden()
    block = architecture.picture(platform, product)

    rules = [
        r for r in architecture.resources(platform).values() if r["Type"] == "AWS::Events::Rule"
    ]
    assert rules
    for rule in rules:
        for target in rule["Properties"]["Targets"]:
            function = architecture.referenced(target["Arn"])
            assert any(
                "-.->" in line and line.endswith(f"| {function}") for line in block.splitlines()
            )


def test_a_new_rule_in_the_template_appears_in_the_picture() -> None:
    platform, product = golden()
    changed = copy.deepcopy(platform)
    changed["Resources"]["ExtraRule"] = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "EventPattern": {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Endpoint State Change"],
            },
            "Targets": [{"Arn": {"Fn::GetAtt": ["LifecycleFunction", "Arn"]}, "Id": "x"}],
        },
    }

    before = architecture.picture(platform, product)
    after = architecture.picture(changed, product)

    edge = '  endpoints -.->|"SageMaker Endpoint State Change"| LifecycleFunction'
    assert edge not in before.splitlines()
    assert edge in after.splitlines()


def test_the_custom_resource_points_at_the_function_its_service_token_resolves_to() -> None:
    platform, product = golden()
    block = architecture.picture(platform, product).splitlines()

    assert '  ProjectLifecycle -->|"create, update, delete"| LifecycleFunction' in block


def test_the_build_writes_the_page_into_dist(built: tuple[Path, dict[str, Any]]) -> None:
    built_dist, _ = built
    page = built_dist / "docs" / "architecture.md"
    platform = json.loads((built_dist / "templates" / "platform.json").read_text())
    product = json.loads(
        (built_dist / "templates" / "products" / "baseline-sagemaker.json").read_text()
    )
    assert page.read_text() == architecture.render(platform, product)
