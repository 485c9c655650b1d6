from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portfolio_build.cli import main
from portfolio_build.release import Release
from sandbox.emulator import Emulator
from tests.support.publishing import embedded_aws, make_release


def run_build(dist: Path, *extra: str) -> int:
    return main(["--dist", str(dist), *extra])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One full build shared by a module's tests: (dist, manifest)."""
    dist = tmp_path_factory.mktemp("dist")
    assert run_build(dist) == 0
    return dist, json.loads((dist / "manifest.json").read_text())


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The release publish tests put into AWS, made without the build's slow checks."""
    return make_release(tmp_path_factory.mktemp("dist"))


@pytest.fixture
def aws() -> Iterator[Emulator]:
    """The emulator with every gap filled, as this process's AWS."""
    with embedded_aws() as emulator:
        yield emulator
