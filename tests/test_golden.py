"""Every generated template is checked in under tests/golden/; any difference fails.

Accept an intended change with:
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from portfolio_build.render import render_templates, template_path
from template_common.settings import TemplateSettings

GOLDEN = Path(__file__).resolve().parent / "golden"
REGENERATE = "UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py"
RENDERED = {
    template_path(kind, name): json.dumps(template.to_dict(), indent=2, sort_keys=True) + "\n"
    for kind, name, template, _ in render_templates(TemplateSettings())
}


@pytest.mark.parametrize("path", sorted(RENDERED))
def test_template_matches_its_golden_file(path: str) -> None:
    golden = GOLDEN / path
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(RENDERED[path])
    assert golden.is_file(), f"no golden file for {path}; run: {REGENERATE}"
    assert RENDERED[path] == golden.read_text(), (
        f"{path} differs from its golden file; review, then run: {REGENERATE}"
    )


def test_no_golden_file_is_left_without_a_template() -> None:
    stale = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.json"))
    assert [p for p in stale if p not in RENDERED] == [], (
        f"remove stale golden files, then run: {REGENERATE}"
    )
