"""The seed commit: files and modes from the seed-code zip, and project.json by the contract."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import jsonschema
import pytest

from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.project import ProjectSpec
from lambda_project_lifecycle.repositories.seed import (
    AUTHOR,
    MODE_EXECUTABLE,
    MODE_FILE,
    MODE_SYMLINK,
    build_seed_commit,
    is_seed_of,
    project_config,
    read_seed_zip,
)
from portfolio_build.render import REPO_ROOT, package_seed_code

BUCKET = "mlops-portfolio-project-data-123456789012-us-east-1"
SCHEMA = REPO_ROOT / "seed_code" / "common" / "project.schema.json"


def spec(
    scenario: str = "baseline",
    registry: str = "sagemaker",
    name: str = "churn-model",
    project_id: str = "p-7gxpyr2wsl2k",
) -> ProjectSpec:
    return ProjectSpec.from_properties(
        {"ProjectName": name, "ProjectId": project_id, "Scenario": scenario, "Registry": registry}
    )


def zip_of(entries: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, (data, mode) in entries.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def test_the_build_s_seed_zip_keeps_executable_bits(tmp_path: Path) -> None:
    seed_dir = tmp_path / "seed_code"
    (seed_dir / "common" / "scripts").mkdir(parents=True)
    (seed_dir / "baseline").mkdir()
    (seed_dir / "common" / "README.md").write_text("# seed\n")
    script = seed_dir / "common" / "scripts" / "run.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    baseline = next(
        a for a in package_seed_code(tmp_path / "dist", seed_dir) if a.name == "baseline"
    )

    files = {f.path: f.mode for f in read_seed_zip(baseline.path.read_bytes())}

    assert files == {"README.md": MODE_FILE, "scripts/run.sh": MODE_EXECUTABLE}


def test_symlinks_stay_symlinks() -> None:
    data = zip_of({"latest": (b"models/v2", stat.S_IFLNK | 0o777), "a.txt": (b"a", 0o100644)})
    assert {f.path: f.mode for f in read_seed_zip(data)} == {
        "latest": MODE_SYMLINK,
        "a.txt": MODE_FILE,
    }


@pytest.mark.parametrize("path", ["../escape.py", "/etc/passwd", ".git/config", "a/../../b"])
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(LifecycleError, match="unsafe path"):
        read_seed_zip(zip_of({path: (b"x", 0o100644)}))


def test_a_broken_zip_is_named() -> None:
    with pytest.raises(LifecycleError, match="s3://b/k is not a zip file"):
        read_seed_zip(b"not a zip", "s3://b/k")


@pytest.mark.parametrize(
    ("scenario", "kinds"),
    [
        ("baseline", ["prod", "dev", "feature"]),
        ("advanced", ["champion", "challenger", "dev", "feature"]),
    ],
)
@pytest.mark.parametrize("registry", ["sagemaker", "mlflow"])
def test_project_json_follows_the_contract(scenario: str, kinds: list[str], registry: str) -> None:
    project = spec(scenario, registry, name="m" * 32, project_id="p-" + "x" * 14)
    extra = {"mlflow_tracking_uri": "https://mlflow.example.com"} if registry == "mlflow" else {}
    config = project_config(
        project, region="eu-west-1", account_id="123456789012", bucket=BUCKET, **extra
    )

    assert config == {
        "schema_version": 1,
        "project_name": "m" * 32,
        "project_id": "p-" + "x" * 14,
        "scenario": scenario,
        "registry": registry,
        "region": "eu-west-1",
        "account_id": "123456789012",
        "bucket": BUCKET,
        "prefix": f"sagemaker-{'m' * 32}-p-{'x' * 14}",
        "model_groups": {kind: project.names.model_package_group(kind) for kind in kinds},
        **extra,
    }
    assert all(len(name) <= 63 for name in config["model_groups"].values())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(config)


def test_the_seed_commit_is_recognised_only_for_its_project() -> None:
    files = read_seed_zip(zip_of({"README.md": (b"# seed\n", 0o100644)}))
    seed = build_seed_commit(files, {"schema_version": 1}, spec(), version="0.1.0")
    commit = seed.store[seed.commit_id]

    assert commit.author == commit.committer == AUTHOR
    assert commit.parents == []
    assert is_seed_of(commit, "p-7gxpyr2wsl2k")
    assert not is_seed_of(commit, "p-other")
    assert seed.files == 2  # README.md and project.json
