"""Fixtures for the seed-code tests: a seed repository per scenario, AWS under moto.

The seed repository is standalone: its packages (``pipelines``, ``steps``) are
imported here from ``seed_code/common`` (the overlays hold only configuration),
and every project value comes from a ``project.json`` built with the platform's
own naming, never written by hand.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.scenarios import REGISTRIES, SCENARIOS
from portfolio_build import render
from tests.support import sagemaker_sdk

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_DIR = REPO_ROOT / "seed_code"
SEED_COMMON = SEED_DIR / "common"
if str(SEED_COMMON) not in sys.path:
    sys.path.append(str(SEED_COMMON))

PROJECT_NAME = "churn-model"
PROJECT_ID = "p-7cyo2dk1xyz0"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
BUCKET = f"mlops-portfolio-artifacts-{ACCOUNT_ID}-{REGION}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{PROJECT_NAME}-pipeline"
MLFLOW_TRACKING_URI = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:mlflow-tracking-server/platform"
SCENARIO_NAMES = tuple(SCENARIOS)
FLAVOURS = [(scenario, registry) for scenario in SCENARIOS for registry in REGISTRIES]


def project_document(
    scenario: str,
    registry: str = "sagemaker",
    name: str = PROJECT_NAME,
    project_id: str = PROJECT_ID,
    **overrides: Any,
) -> dict[str, Any]:
    """``project.json`` as the lifecycle Lambda writes it, names from the platform's naming."""
    names = ProjectNames(name, project_id)
    document: dict[str, Any] = {
        "schema_version": 1,
        "project_name": name,
        "project_id": project_id,
        "scenario": scenario,
        "registry": registry,
        "region": REGION,
        "account_id": ACCOUNT_ID,
        "bucket": BUCKET,
        "prefix": names.prefix,
        "model_groups": {
            kind: names.model_package_group(kind) for kind in SCENARIOS[scenario].model_group_kinds
        },
    }
    if registry == "mlflow":
        document["mlflow_tracking_uri"] = MLFLOW_TRACKING_URI
    document.update(overrides)
    return document


def materialise(scenario: str, registry: str, destination: Path) -> Path:
    """The repository a new project of ``scenario`` starts from: the seed zip's files and
    project.json, as the lifecycle Lambda seeds it."""
    destination.mkdir(parents=True, exist_ok=True)
    staging = destination.parent / f".{destination.name}-staging"
    for name, source in render.seed_files(SEED_DIR, scenario, staging).items():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    shutil.rmtree(staging, ignore_errors=True)
    (destination / "project.json").write_text(
        json.dumps(project_document(scenario, registry), indent=2)
    )
    return destination


@pytest.fixture
def seed_repository(tmp_path: Path) -> Callable[[str, str], Path]:
    def make(scenario: str, registry: str = "sagemaker") -> Path:
        return materialise(scenario, registry, tmp_path / f"{scenario}-{registry}")

    return make


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A boto3 session against moto, with the project's bucket; no credentials, no network."""
    from moto import mock_aws

    sagemaker_sdk.prepare(monkeypatch, tmp_path_factory.mktemp("sdk"), REGION)
    with mock_aws():
        import boto3

        session = boto3.Session(region_name=REGION)
        session.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield session


def create_groups(session: Any, document: dict[str, Any]) -> None:
    """What the lifecycle Lambda does at project creation (SageMaker flavour)."""
    sagemaker = session.client("sagemaker")
    for name in document["model_groups"].values():
        sagemaker.create_model_package_group(ModelPackageGroupName=name)
