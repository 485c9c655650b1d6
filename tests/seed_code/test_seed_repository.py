"""The repository a new project starts from: what the zip holds, and that its own tests pass."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import zipfile

import pytest

from portfolio_build import render
from tests.seed_code.conftest import FLAVOURS, SCENARIO_NAMES, SEED_COMMON, SEED_DIR

OUR_PACKAGES = {
    "lambda_project_lifecycle",
    "portfolio",
    "portfolio_build",
    "products",
    "build",
    "tests",
}
REQUIRED_FILES = {
    "README.md", "buildspec.yml", "project.schema.json", "requirements.txt",
    "requirements-mlflow.txt", "requirements-pipeline.txt", "Makefile", ".gitignore",
    "deploy/config.yaml", "deploy/config.schema.json", "integration_tests/payload.schema.json",
    "pipelines/endpoints.py", "pipeline_tests/test_pipeline_definition.py",
    "pipelines/definition.py", "pipelines/ci.py", "pipelines/promotion.py", "pipelines/local.py",
    "steps/preprocess.py", "steps/train.py", "steps/evaluate.py", "steps/inference.py",
    "integration_tests/payloads/single_csv_record.json",
}  # fmt: skip


def seed_python_files():
    for directory in (SEED_COMMON, *(SEED_DIR / s for s in SCENARIO_NAMES)):
        yield from directory.rglob("*.py")


@pytest.mark.parametrize(
    "path", sorted(seed_python_files()), ids=lambda p: str(p.relative_to(SEED_DIR))
)
def test_seed_code_is_plain_python_that_imports_nothing_of_ours(path):
    tree = ast.parse(path.read_text(), filename=str(path))  # valid Python, not a template
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    if path.is_relative_to(SEED_COMMON / "tests") or path.is_relative_to(
        SEED_COMMON / "pipeline_tests"
    ):
        imported.discard("tests")
    assert not imported & OUR_PACKAGES


def test_the_overlays_hold_only_what_differs():
    for scenario in SCENARIO_NAMES:
        for path in (SEED_DIR / scenario).rglob("*"):
            if path.is_file():
                common = SEED_COMMON / path.relative_to(SEED_DIR / scenario)
                assert not common.exists() or common.read_bytes() != path.read_bytes(), path


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_the_seed_code_zip_is_the_complete_repository(tmp_path, scenario):
    artifacts = {a.name: a for a in render.package_seed_code(tmp_path)}
    with zipfile.ZipFile(artifacts[scenario].path) as archive:
        names = set(archive.namelist())
        overlay = (SEED_DIR / scenario / "deploy" / "config.yaml").read_bytes()
        assert archive.read("deploy/config.yaml") == overlay
    assert names >= REQUIRED_FILES
    assert "project.json" not in names  # written by the lifecycle Lambda when it seeds
    assert not any("__pycache__" in n or "local_runs" in n or n.endswith(".pyc") for n in names)


@pytest.mark.parametrize(("scenario", "registry"), FLAVOURS)
def test_the_seeded_repository_passes_its_own_tests(seed_repository, tmp_path, scenario, registry):
    repo = seed_repository(scenario, registry)
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    environment["HOME"] = str(tmp_path)  # no ~/.aws, no ~/.config/sagemaker of this machine
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", "pipeline_tests"],
        cwd=repo,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert " passed" in completed.stdout and "skipped" not in completed.stdout


@pytest.mark.parametrize("requirements", ["requirements-mlflow.txt", "requirements-pipeline.txt"])
def test_every_requirement_is_pinned_once_across_the_sets(requirements):
    """Each set extends the one before it and pins every package exactly: pip never resolves."""
    pins: dict[str, str] = {}
    path = SEED_COMMON / requirements
    while path is not None:
        included = None
        for line in path.read_text().splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("-r "):
                included = SEED_COMMON / line[3:].strip()
            elif line:
                name, separator, version = line.partition("==")
                key = name.lower().replace("_", "-")
                assert separator and version, f"{path.name}: {line} is not pinned with =="
                assert key not in pins, f"{key} is pinned in two sets"
                pins[key] = version
        path = included
    assert {"scikit-learn", "pandas", "pytest", "jsonschema"} <= set(pins)
    if requirements == "requirements-pipeline.txt":
        assert {"sagemaker", "boto3", "mlflow", "s3fs", "moto"} <= set(pins)
    else:
        assert {"mlflow-skinny", "skops"} <= set(pins) and "sagemaker" not in pins


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_the_readme_names_every_file_of_the_repository(tmp_path, scenario):
    files = render.seed_files(SEED_DIR, scenario, tmp_path)
    readme = files["README.md"].read_text()
    layout = readme[readme.index("## What is in this repository") :]
    listed = set(re.findall(r"(?m)^\s*([\w./-]+)", layout.split("```")[1]))
    # Top-level entries by name, the modules of pipelines/ and steps/ one by one.
    for name in [*files, "project.json"]:
        parts = name.split("/")
        if parts[0] in ("pipelines", "steps") and len(parts) == 2 and name.endswith(".py"):
            if parts[1] != "__init__.py":
                assert parts[1] in listed or f"{parts[1]}," in layout, name
        else:
            assert parts[0] in listed or f"{parts[0]}/" in listed or name in listed, name
    assert "### Production: " in readme and "<!-- scenario section -->" not in readme
    assert ("champion" in readme.split("### Production: ")[1][:400]) == (scenario == "advanced")
