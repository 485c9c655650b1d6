"""``python build.py``: what a platform engineer gets in dist/, and how it fails."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from troposphere import Sub
from troposphere.iam import Role

import products.template
from tests.portfolio_build.conftest import run_build

REPO = Path(__file__).resolve().parents[2]


def test_the_manifest_lists_every_artifact_with_size_and_digest(
    built: tuple[Path, dict[str, Any]],
) -> None:
    dist, manifest = built
    kinds = Counter(entry["kind"] for entry in manifest["artifacts"])
    assert kinds == {
        "bootstrap-template": 1,
        "platform-template": 1,
        "target-template": 1,
        "product-template": 4,
        "lambda": 1,
        "seed-code": 2,
    }
    products = {
        (e["scenario"], e["registry"])
        for e in manifest["artifacts"]
        if e["kind"] == "product-template"
    }
    assert products == {(s, r) for s in ("baseline", "advanced") for r in ("sagemaker", "mlflow")}
    for entry in manifest["artifacts"]:
        data = (dist / entry["path"]).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["sha256"][:16] in entry["key"]


def test_the_platform_entry_carries_the_stack_parameters_of_this_build(
    built: tuple[Path, dict[str, Any]],
) -> None:
    dist, manifest = built
    platform = next(e for e in manifest["artifacts"] if e["kind"] == "platform-template")
    declared = json.loads((dist / platform["path"]).read_text())["Parameters"]
    keys = {e["key"] for e in manifest["artifacts"]}
    parameters = dict(platform["parameters"])
    assert set(parameters) <= set(declared)
    assert set(parameters.values()) <= keys
    assert "LifecycleCodeKey" in parameters


def test_a_changed_product_template_gets_a_new_version_name_of_that_product_only() -> None:
    from portfolio_build.catalog_shape import version_name

    assert version_name("1.0", "a" * 64) == version_name("1.0", "a" * 64) == "1.0+aaaaaaaa"
    assert version_name("1.0", "a" * 64) != version_name("1.0", "d" * 64)


def test_two_builds_are_byte_identical(built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    dist, _ = built
    assert run_build(tmp_path) == 0
    first = {p.relative_to(dist): p.read_bytes() for p in dist.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_the_cfn_lint_command_line_prints_nothing(built: tuple[Path, dict[str, Any]]) -> None:
    dist, _ = built
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    templates = sorted(str(p) for p in (dist / "templates").rglob("*.json"))
    assert len(templates) == 7  # bootstrap, platform, target-account, four products
    result = subprocess.run(
        [cfn_lint, "--regions", "us-east-1", "eu-west-1", "ap-southeast-1", "--", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_lambda_zip_holds_the_package_and_imports_from_the_zip(
    built: tuple[Path, dict[str, Any]],
) -> None:
    dist, manifest = built
    entry = next(e for e in manifest["artifacts"] if e["kind"] == "lambda")
    assert entry["bytes"] < 2 * 1024 * 1024
    zip_path = dist / entry["path"]
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert "lambda_project_lifecycle/lifecycle.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    code = (
        f"import sys; sys.path.insert(0, {str(zip_path)!r}); "
        "import lambda_project_lifecycle.lifecycle as m; "
        f"assert m.__file__.startswith({str(zip_path)!r}), m.__file__; "
        "print(m.handler.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False, cwd="/"
    )
    assert result.stdout.strip() == "handler", result.stderr


def test_seed_code_zips_overlay_the_scenario_and_keep_executable_bits(tmp_path: Path) -> None:
    from portfolio_build.render import package_seed_code

    seed = tmp_path / "seed"
    (seed / "common" / "scripts").mkdir(parents=True)
    (seed / "common" / "README.md").write_text("shared\n")
    (seed / "common" / "scripts" / "run.sh").write_text("#!/bin/sh\necho run\n")
    (seed / "common" / "scripts" / "run.sh").chmod(0o755)
    (seed / "advanced").mkdir()
    (seed / "advanced" / "README.md").write_text("advanced\n")

    artifacts = {a.name: a for a in package_seed_code(tmp_path / "dist", seed)}

    with zipfile.ZipFile(artifacts["advanced"].path) as archive:
        assert archive.read("README.md") == b"advanced\n"
        assert archive.getinfo("scripts/run.sh").external_attr >> 16 == 0o100755
        assert archive.getinfo("README.md").external_attr >> 16 == 0o100644
    with zipfile.ZipFile(artifacts["baseline"].path) as archive:
        assert archive.read("README.md") == b"shared\n"


def test_seed_code_zips_leave_out_what_the_seed_gitignore_ignores(tmp_path: Path) -> None:
    """A platform engineer who tried the seed locally must not ship their virtualenv or MLflow
    database into every new project's repository."""
    from portfolio_build.render import package_seed_code

    seed = tmp_path / "seed"
    (seed / "common" / "pipelines").mkdir(parents=True)
    (seed / "common" / ".gitignore").write_text("*.db\nscratch/\n")
    (seed / "common" / "pipelines" / "run.py").write_text("print('run')\n")
    (seed / "common" / "mlflow.db").write_bytes(b"SQLite format 3")
    (seed / "common" / ".venv" / "lib").mkdir(parents=True)
    (seed / "common" / ".venv" / "lib" / "site.py").write_text("")
    (seed / "advanced" / "scratch").mkdir(parents=True)
    (seed / "advanced" / "scratch" / "notes.txt").write_text("mine\n")

    artifacts = {a.name: a for a in package_seed_code(tmp_path / "dist", seed)}

    with zipfile.ZipFile(artifacts["advanced"].path) as archive:
        # common's .gitignore is the repository's: it applies to the overlay too
        assert archive.namelist() == [".gitignore", "pipelines/run.py"]


def drop_project_id(original: Any) -> Any:
    def build(product: Any, settings: Any) -> Any:
        template = original(product, settings)
        if product.name == "advanced-mlflow":
            del template.parameters["SageMakerProjectId"]
        return template

    return build


def add_long_role_name(original: Any) -> Any:
    def build(product: Any, settings: Any) -> Any:
        template = original(product, settings)
        if product.name == "baseline-sagemaker":
            template.add_resource(
                Role(
                    "HandMadeRole",
                    RoleName=Sub(
                        "sagemaker-${SageMakerProjectName}-${SageMakerProjectId}-training"
                    ),
                    AssumeRolePolicyDocument={"Version": "2012-10-17", "Statement": []},
                    Tags=[
                        {"Key": "sagemaker:project-name", "Value": {"Ref": "SageMakerProjectName"}},
                        {"Key": "sagemaker:project-id", "Value": {"Ref": "SageMakerProjectId"}},
                    ],
                )
            )
        return template

    return build


@pytest.mark.parametrize(
    ("breaker", "template", "check", "detail"),
    [
        (
            drop_project_id,
            "templates/products/advanced-mlflow.json",
            "studio-contract",
            "parameter SageMakerProjectId is missing",
        ),
        (
            add_long_role_name,
            "templates/products/baseline-sagemaker.json",
            "name-limits",
            "HandMadeRole.RoleName can be 68 characters, over the limit of 64",
        ),
    ],
)
def test_a_broken_template_fails_the_build_naming_template_and_check(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    breaker: Any,
    template: str,
    check: str,
    detail: str,
) -> None:
    monkeypatch.setattr(products.template, "build", breaker(products.template.build))

    assert run_build(tmp_path) == 1

    out, err = capsys.readouterr()
    assert f"{template}: [{check}] " in err
    assert detail in err
    assert not (tmp_path / "manifest.json").exists()
    row = next(line for line in out.splitlines() if line.startswith(template))
    assert row.rstrip().endswith("FAIL")


def test_the_build_command_runs_as_a_script(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--dist", str(tmp_path), "--regions", "us-east-1"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "OK: 10 artifacts validated (cfn-lint in us-east-1)" in result.stdout
    assert (tmp_path / "manifest.json").is_file()


def test_bad_configuration_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "portfolio.toml").write_text('regions = ["moon-base-1"]\n')
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--dist", str(tmp_path / "dist")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'portfolio.toml'}: regions: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        ("", "error: command line: --regions: [] should be non-empty"),
        ("eu-west-1, us-east-9", "error: command line: regions: us-east-9 unknown to the"),
    ],
)
def test_bad_regions_stop_the_build_before_the_last_build_is_touched(
    tmp_path: Path, regions: str, message: str
) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "manifest.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--dist", str(dist), "--regions", regions],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr
    assert (dist / "manifest.json").read_text() == "{}"
