"""cfn-lint, in-process, over every template in one call (its rule set is built once)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from portfolio_build.checks import Finding

CHECK = "cfn-lint"


def lint_templates(
    paths: Sequence[Path], regions: Sequence[str], names: dict[Path, str]
) -> list[Finding]:
    """Errors and warnings of cfn-lint for every template and region, as findings."""
    from cfnlint.api import ManualArgs, lint_by_config

    matches = lint_by_config(ManualArgs(templates=[str(p) for p in paths], regions=list(regions)))
    findings = []
    for match in matches:
        artifact = names.get(Path(str(match.filename)), str(match.filename))
        findings.append(
            Finding(
                artifact,
                f"{CHECK} {match.rule.id}",
                f"line {match.linenumber}: {match.message}",
            )
        )
    return findings
