"""Fixtures of the repository's own tests: no AWS account, no network, a small sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipelines.project import Project, load_project
from pipelines.sample_data import write_sample_csv

SMALL_SAMPLE_ROWS = 160  # enough for every split to hold both classes


@pytest.fixture(scope="session")
def project() -> Project:
    return load_project()


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a CSV of the sample's first rows: checks the code, not the data."""
    import pandas as pd

    directory = tmp_path_factory.mktemp("small-sample")
    full = write_sample_csv(directory / "full" / "sample.csv")
    pd.read_csv(full).head(SMALL_SAMPLE_ROWS).to_csv(directory / "sample.csv", index=False)
    full.unlink()
    full.parent.rmdir()
    return directory
