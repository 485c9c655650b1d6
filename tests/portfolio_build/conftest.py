from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portfolio_build.cli import main


def run_build(dist: Path, *extra: str) -> int:
    return main(["--dist", str(dist), *extra])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One full build shared by a module's tests: (dist, manifest)."""
    dist = tmp_path_factory.mktemp("dist")
    assert run_build(dist) == 0
    return dist, json.loads((dist / "manifest.json").read_text())
