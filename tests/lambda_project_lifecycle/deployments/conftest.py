from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.deployments import DeployWorld, deploy_world


@pytest.fixture
def world() -> Iterator[DeployWorld]:
    with deploy_world() as emulated:
        yield emulated
