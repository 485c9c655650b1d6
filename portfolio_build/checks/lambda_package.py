"""The Lambda zip carries what its handlers read at run time: the deployment-config schema.

The schema's one source is the seed code (``seed_code/common/deploy/config.schema.json``);
the build copies it into the zip. Once the seed code ships deployment configs, the zip
must hold a byte-identical copy, and the schema may use only the keywords the Lambda's
own validator implements (the runtime has no ``jsonschema``).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from lambda_project_lifecycle.deployments.schema import SchemaError, check_schema
from lambda_project_lifecycle.deployments.settings import SEED_CODE_SCHEMA_PATH
from portfolio_build.checks import Finding

CHECK = "lambda-package"


def check_deploy_config_schema(
    artifact: str, zip_path: Path, seed_dir: Path, packaged_name: str
) -> list[Finding]:
    source = seed_dir.joinpath(*SEED_CODE_SCHEMA_PATH)
    shown = "seed_code/" + "/".join(SEED_CODE_SCHEMA_PATH)
    ships_configs = any(seed_dir.glob("*/deploy/config.yaml"))
    if not source.is_file():
        if ships_configs:
            return [
                Finding(artifact, CHECK, f"the seed code ships deploy/config.yaml but not {shown}")
            ]
        return []  # seed code without deployment settings: nothing to validate against
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
