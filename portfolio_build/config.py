"""Build configuration, layered: defaults -> file -> environment -> command line.

The file is TOML (``portfolio.toml`` in the working directory when present, or
``--config PATH``); every layer is validated against one schema, and errors name
where the bad value came from and its key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from cfnlint.helpers import REGIONS as CFNLINT_REGIONS

from portfolio_build.errors import ConfigError
from template_common.settings import DEFAULT_SSM_PREFIX, TemplateSettings

DEFAULT_CONFIG_FILE = "portfolio.toml"
DEFAULT_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")
ENV_PREFIX = "MLOPS_PORTFOLIO_"
LAMBDA_FUNCTION_NAME_MAX_LENGTH = 64

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "regions": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string", "pattern": r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$"},
        },
        "dist": {"type": "string", "minLength": 1},
        "ssm_prefix": {"type": "string", "pattern": r"^(/[a-zA-Z0-9_.-]+)+$", "maxLength": 200},
        "portfolio_name": {"type": "string", "minLength": 1, "maxLength": 100},
        "provider_name": {"type": "string", "minLength": 1, "maxLength": 50},
        "support_email": {"type": "string", "maxLength": 254},
    },
}
# Keys whose environment value is a comma-separated list.
LIST_KEYS = frozenset({"regions"})


@dataclass(frozen=True)
class BuildConfig:
    regions: tuple[str, ...] = DEFAULT_REGIONS
    dist: Path = Path("dist")
    settings: TemplateSettings = field(default_factory=TemplateSettings)
    sources: dict[str, str] = field(default_factory=dict)


def load_config(
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    cwd: Path | None = None,
) -> BuildConfig:
    """Merge the layers and validate each; ``sources`` tells where every key came from."""
    environ = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file {config_file} does not exist")
    path = config_file or (cwd / DEFAULT_CONFIG_FILE)
    if path.is_file():
        _merge(values, sources, _read_file(path), str(path))

    from_env: dict[str, Any] = {}
    known_variables = {ENV_PREFIX + key.upper(): key for key in SCHEMA["properties"]}
    for variable in sorted(environ):
        if variable.startswith(ENV_PREFIX) and variable not in known_variables:
            raise ConfigError(
                f"environment: unknown variable {variable} "
                f"(known: {', '.join(sorted(known_variables))})"
            )
    for variable, key in known_variables.items():
        raw = environ.get(variable)
        if raw is not None:
            from_env[key] = (
                [p.strip() for p in raw.split(",") if p.strip()] if key in LIST_KEYS else raw
            )
    _merge(values, sources, from_env, "environment", key_label=lambda k: ENV_PREFIX + k.upper())
    _merge(
        values,
        sources,
        {k: v for k, v in (overrides or {}).items() if v is not None},
        "command line",
        key_label=lambda k: "--" + k.replace("_", "-"),
    )

    settings = TemplateSettings(
        ssm_prefix=values.get("ssm_prefix", DEFAULT_SSM_PREFIX),
        portfolio_name=values.get("portfolio_name", TemplateSettings.portfolio_name),
        provider_name=values.get("provider_name", TemplateSettings.provider_name),
        support_email=values.get("support_email", ""),
    )
    function_name = settings.lifecycle_function_name
    if len(function_name) > LAMBDA_FUNCTION_NAME_MAX_LENGTH:
        raise ConfigError(
            f"{sources.get('ssm_prefix', 'default')}: ssm_prefix gives the lifecycle function "
            f"the name {function_name!r}, {len(function_name)} characters, over Lambda's "
            f"{LAMBDA_FUNCTION_NAME_MAX_LENGTH}-character limit; use a shorter prefix"
        )
    regions = tuple(values.get("regions", DEFAULT_REGIONS))
    unknown = [region for region in regions if region not in cfnlint_regions()]
    if unknown:
        raise ConfigError(
            f"{sources.get('regions', 'default')}: regions: {', '.join(unknown)} "
            "unknown to the installed cfn-lint (a typo, or a region newer than it)"
        )
    dist = Path(values.get("dist", "dist"))
    return BuildConfig(
        regions=regions,
        dist=dist if dist.is_absolute() else cwd / dist,
        settings=settings,
        sources=sources,
    )


def cfnlint_regions() -> frozenset[str]:
    """The regions the installed cfn-lint has resource specifications for."""
    return frozenset(CFNLINT_REGIONS)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def _merge(
    values: dict[str, Any],
    sources: dict[str, str],
    layer: Mapping[str, Any],
    origin: str,
    key_label: Any = str,
) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(dict(layer)), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        if error.validator == "additionalProperties":
            unknown = sorted(set(layer) - set(SCHEMA["properties"]))
            raise ConfigError(
                f"{origin}: unknown key {unknown[0]!r} (known: {', '.join(SCHEMA['properties'])})"
            )
        key = str(error.path[0]) if error.path else "?"
        raise ConfigError(f"{origin}: {key_label(key)}: {error.message}")
    for key, value in layer.items():
        values[key] = value
        sources[key] = origin
