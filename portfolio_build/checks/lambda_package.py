"""The Lambda zip carries what its handlers read at run time: the seed code's schemas.

Each schema's one source is the seed code: the deployment config's
(``seed_code/common/deploy/config.schema.json``) and the integration-test
payload's (``seed_code/common/integration_tests/payload.schema.json``); the
build copies them into the zip. Once the seed code ships the files a schema
describes, the zip must hold a byte-identical copy, and the schema may use only
the keywords the Lambda's own validator implements (the runtime has no
``jsonschema``).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from lambda_project_lifecycle.deployments.integration_tests import SEED_CODE_PAYLOAD_SCHEMA_PATH
from lambda_project_lifecycle.deployments.schema import SchemaError, check_schema
from lambda_project_lifecycle.deployments.settings import SEED_CODE_SCHEMA_PATH
from portfolio_build.checks import Finding

CHECK = "lambda-package"


def check_deploy_config_schema(
    artifact: str, zip_path: Path, seed_dir: Path, packaged_name: str
) -> list[Finding]:
    shipped = "*/deploy/config.yaml"
    schema = SEED_CODE_SCHEMA_PATH
    return _check_shipped_schema(artifact, zip_path, seed_dir, schema, packaged_name, shipped)


def check_payload_schema(
    artifact: str, zip_path: Path, seed_dir: Path, packaged_name: str
) -> list[Finding]:
    shipped = "*/integration_tests/payloads/*.json"
    schema = SEED_CODE_PAYLOAD_SCHEMA_PATH
    return _check_shipped_schema(artifact, zip_path, seed_dir, schema, packaged_name, shipped)


def _check_shipped_schema(
    artifact: str,
    zip_path: Path,
    seed_dir: Path,
    schema_path: tuple[str, ...],
    packaged_name: str,
    shipped: str,
) -> list[Finding]:
    """The zip's ``packaged_name`` is the seed code's schema, usable by the Lambda's validator.

    ``shipped`` (a glob under ``seed_dir``) finds the files the schema describes:
    without them, a missing schema is no finding.
    """
    source = seed_dir.joinpath(*schema_path)
    shown = "seed_code/" + "/".join(schema_path)
    if not source.is_file():
        described = next(iter(seed_dir.glob(shipped)), None)
        if described is not None:
            relative = described.relative_to(seed_dir).as_posix().split("/", 1)[-1]
            return [Finding(artifact, CHECK, f"the seed code ships {relative} but not {shown}")]
        return []  # seed code without such files: nothing to validate against
    with zipfile.ZipFile(zip_path) as archive:
        if packaged_name not in archive.namelist():
            return [Finding(artifact, CHECK, f"{packaged_name} is missing (copy of {shown})")]
        packaged = archive.read(packaged_name)
    if packaged != source.read_bytes():
        return [Finding(artifact, CHECK, f"{packaged_name} differs from {shown}")]
    try:
        check_schema(json.loads(packaged))
    except (SchemaError, ValueError) as exc:
        return [Finding(artifact, CHECK, f"{shown}: the Lambda cannot validate with it: {exc}")]
    return []
