"""The Lambda zip carries the seed code's schemas (deploy config, payload), copied as they are."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from portfolio_build import render
from portfolio_build.checks.lambda_package import check_deploy_config_schema, check_payload_schema
from portfolio_build.render import PACKAGED_SCHEMA_NAME, package_lambda
from tests.support.deployments import deploy_config_schema


def seed_dir(tmp_path: Path, schema: bytes | None, configs: bool = True) -> Path:
    seed = tmp_path / "seed_code"
    (seed / "common" / "deploy").mkdir(parents=True)
    if schema is not None:
        (seed / "common" / "deploy" / "config.schema.json").write_bytes(schema)
    if configs:
        (seed / "baseline" / "deploy").mkdir(parents=True)
        (seed / "baseline" / "deploy" / "config.yaml").write_text("schema_version: 1\n")
    return seed


def test_the_zip_holds_the_seed_codes_schema_and_the_handlers_read_it(tmp_path: Path) -> None:
    source = deploy_config_schema()
    artifact = package_lambda(tmp_path / "dist", source)

    with zipfile.ZipFile(artifact.path) as archive:
        assert archive.read(PACKAGED_SCHEMA_NAME) == source.read_bytes()
        archive.extractall(tmp_path / "task")  # what Lambda does with the zip
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path / 'task')!r})\n"
        "from lambda_project_lifecycle.deployments.settings import default_schema_path\n"
        "from lambda_project_lifecycle.deployments.config import load_schema, parse_stage_config\n"
        "path = default_schema_path()\n"
        "print(path)\n"
        "print(parse_stage_config({'schema_version': 1}, stage='production', scenario='baseline',"
        " schema=load_schema(path), source='x').mode)\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    packaged, mode = result.stdout.split()
    assert packaged == str(tmp_path / "task" / PACKAGED_SCHEMA_NAME)
    assert mode == "realtime"


def zipped(tmp_path: Path, schema: bytes | None) -> Path:
    path = tmp_path / "lambda.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lambda_project_lifecycle/__init__.py", "")
        if schema is not None:
            archive.writestr(PACKAGED_SCHEMA_NAME, schema)
    return path


SCHEMA = b'{"type": "object", "properties": {"mode": {"enum": ["a"], "default": "a"}}}'


@pytest.mark.parametrize(
    ("in_seed", "in_zip", "configs", "problem"),
    [
        (SCHEMA, SCHEMA, True, None),
        (None, None, False, None),  # seed code without deployment settings yet
        (
            None,
            None,
            True,
            "ships deploy/config.yaml but not seed_code/common/deploy/config.schema.json",
        ),
        (SCHEMA, None, True, "deploy_config.schema.json is missing"),
        (SCHEMA, b"{}", True, "differs from seed_code/common/deploy/config.schema.json"),
        (
            b'{"oneOf": []}',
            b'{"oneOf": []}',
            True,
            "the Lambda cannot validate with it: schema keyword 'oneOf' at # is not supported",
        ),
    ],
)
def test_the_check_names_what_is_wrong(
    tmp_path: Path, in_seed: bytes | None, in_zip: bytes | None, configs: bool, problem: str | None
) -> None:
    findings = check_deploy_config_schema(
        "lambda/x.zip",
        zipped(tmp_path, in_zip),
        seed_dir(tmp_path, in_seed, configs),
        PACKAGED_SCHEMA_NAME,
    )
    if problem is None:
        assert findings == []
    else:
        (finding,) = findings
        assert finding.check == "lambda-package" and problem in finding.message


def test_the_real_schema_passes_the_check(tmp_path: Path) -> None:
    source = deploy_config_schema()
    seed = seed_dir(tmp_path, source.read_bytes())
    artifact = package_lambda(tmp_path / "dist", seed / "common" / "deploy" / "config.schema.json")
    assert check_deploy_config_schema("z", artifact.path, seed, PACKAGED_SCHEMA_NAME) == []
    assert json.loads(source.read_text())["properties"]["schema_version"]["enum"] == [1]
    shutil.rmtree(tmp_path / "dist")


def test_the_zip_holds_the_seed_codes_payload_schema_and_the_lambda_reads_it(
    tmp_path: Path,
) -> None:
    source = render.PAYLOAD_SCHEMA
    artifact = package_lambda(tmp_path / "dist")
    with zipfile.ZipFile(artifact.path) as archive:
        assert archive.read(render.PACKAGED_PAYLOAD_SCHEMA_NAME) == source.read_bytes()
        archive.extractall(tmp_path / "task")
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path / 'task')!r})\n"
        "from lambda_project_lifecycle.deployments import integration_tests as t\n"
        "print(t.payload_schema_path())\n"
        "try:\n"
        '    t.parse_payload(\'x.json\', b\'{"content_type": "a", "body": "",'
        ' "expect": {"status": "200"}}\')\n'
        "except t.PayloadError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False, cwd="/"
    )
    assert result.returncode == 0, result.stderr
    packaged, refusal = result.stdout.splitlines()
    assert packaged == str(tmp_path / "task" / render.PACKAGED_PAYLOAD_SCHEMA_NAME)
    assert refusal.startswith("payload x.json: key 'expect.status'")


@pytest.mark.parametrize(
    ("in_seed", "in_zip", "problem"),
    [
        (SCHEMA, SCHEMA, None),
        (None, None, "ships integration_tests/payloads/one.json but not seed_code/common/"),
        (SCHEMA, None, "payload.schema.json is missing"),
        (SCHEMA, b"{}", "differs from seed_code/common/integration_tests/payload.schema.json"),
        (b'{"anyOf": []}', b'{"anyOf": []}', "schema keyword 'anyOf' at # is not supported"),
    ],
)
def test_the_payload_schema_check_names_what_is_wrong(
    tmp_path: Path, in_seed: bytes | None, in_zip: bytes | None, problem: str | None
) -> None:
    seed = tmp_path / "seed_code"
    (seed / "common" / "integration_tests" / "payloads").mkdir(parents=True)
    (seed / "common" / "integration_tests" / "payloads" / "one.json").write_text("{}")
    if in_seed is not None:
        (seed / "common" / "integration_tests" / "payload.schema.json").write_bytes(in_seed)
    path = tmp_path / "lambda.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("lambda_project_lifecycle/__init__.py", "")
        if in_zip is not None:
            archive.writestr(render.PACKAGED_PAYLOAD_SCHEMA_NAME, in_zip)
    findings = check_payload_schema("lambda/x.zip", path, seed, render.PACKAGED_PAYLOAD_SCHEMA_NAME)
    if problem is None:
        assert findings == []
    else:
        (finding,) = findings
        assert finding.check == "lambda-package" and problem in finding.message
