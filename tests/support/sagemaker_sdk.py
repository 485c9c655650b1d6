"""Running the SageMaker Python SDK v3 in tests: offline, quiet and fast.

The SDK re-validates its defaults config on every lookup with
``jsonschema.validate``, which also re-checks the SDK's own large schema each
time (about 0.25 s per lookup, ~50 lookups per pipeline definition). Tests
validate the same way with the schema checked once; what is accepted or
rejected does not change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.embedded_aws import sdk_environment


def offline_environment(config_dir: Path, region: str) -> dict[str, str]:
    """Fake credentials, the region, SDK telemetry off and no config from this machine."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        **sdk_environment(config_dir),
    }


def validate_config_with_checked_schema(patch: pytest.MonkeyPatch) -> None:
    import jsonschema
    from sagemaker.core.config.config_manager import SageMakerConfig
    from sagemaker.core.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

    validator_class = jsonschema.validators.validator_for(SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)
    validator_class.check_schema(SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)
    validator = validator_class(SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA)

    def validate(sagemaker_config: dict | None = None) -> None:
        validator.validate(sagemaker_config)

    patch.setattr(SageMakerConfig, "validate_sagemaker_config", staticmethod(validate))


def prepare(patch: pytest.MonkeyPatch, config_dir: Path, region: str) -> None:
    for name, value in offline_environment(config_dir, region).items():
        patch.setenv(name, value)
    patch.delenv("AWS_PROFILE", raising=False)
    validate_config_with_checked_schema(patch)
