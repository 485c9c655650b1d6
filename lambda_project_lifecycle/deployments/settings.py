"""What the deployment handlers read from their environment (argument > environment)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lambda_project_lifecycle.environment import (
    MODEL_ROLE_ENV,
    REGISTRY_TABLE_ENV,
    WEBHOOK_SECRET_ENV,
)
from lambda_project_lifecycle.environment import NOTIFICATION_TOPIC_ENV as TOPIC_ENV
from lambda_project_lifecycle.environment import PROJECT_DATA_BUCKET_ENV as DATA_BUCKET_ENV
from lambda_project_lifecycle.errors import LifecycleError

# The schema of deploy/config.yaml: packaged into the Lambda zip next to this module by
# the build (from seed_code/common/deploy/config.schema.json, its one source); in a
# checkout, read from seed_code directly.
PACKAGED_SCHEMA = Path(__file__).with_name("deploy_config.schema.json")
SEED_CODE_SCHEMA_PATH = ("common", "deploy", "config.schema.json")
REPOSITORY_SCHEMA = (
    Path(__file__).resolve().parents[2].joinpath("seed_code", *SEED_CODE_SCHEMA_PATH)
)


def default_schema_path() -> Path:
    return PACKAGED_SCHEMA if PACKAGED_SCHEMA.is_file() else REPOSITORY_SCHEMA


@dataclass(frozen=True)
class DeploySettings:
    registry_table: str
    topic_arn: str
    data_bucket: str
    model_role_arn: str = ""
    webhook_secret_arn: str = ""
    schema_path: Path = field(default_factory=default_schema_path)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> DeploySettings:
        environ = os.environ if environ is None else environ
        missing = [
            name
            for name in (REGISTRY_TABLE_ENV, TOPIC_ENV, DATA_BUCKET_ENV)
            if not environ.get(name)
        ]
        if missing:
            raise LifecycleError(
                f"The Lambda environment variable(s) {', '.join(missing)} are not set"
            )
        return cls(
            registry_table=environ[REGISTRY_TABLE_ENV],
            topic_arn=environ[TOPIC_ENV],
            data_bucket=environ[DATA_BUCKET_ENV],
            model_role_arn=environ.get(MODEL_ROLE_ENV, ""),
            webhook_secret_arn=environ.get(WEBHOOK_SECRET_ENV, ""),
        )
