"""Build configuration, layered: defaults -> file -> environment -> command line.

The file is TOML (``portfolio.toml`` in the working directory when present, or
``--config PATH``); every layer is validated against one schema, and errors name
where the bad value came from and its key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema

from lambda_project_lifecycle.stage_accounts import (
    ACCOUNT_ID_PATTERN,
    AFTER_TESTS,
    CONFIG_STAGES,
    ORGANIZATIONAL_UNIT_PATTERN,
    PROMOTION_MODES,
    REQUIRED_CONFIG_STAGES,
    SECOND_APPROVAL,
    StageAccountIds,
)
from portfolio_build.errors import ConfigError
from template_common.settings import (
    DEFAULT_SSM_PREFIX,
    MODEL_ROLE_ISOLATION_CHOICES,
    TemplateSettings,
)

DEFAULT_CONFIG_FILE = "portfolio.toml"
DEFAULT_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")
ENV_PREFIX = "MLOPS_PORTFOLIO_"
LAMBDA_FUNCTION_NAME_MAX_LENGTH = 64
# Service Catalog's default quota of versions (provisioning artifacts) per product.
MAX_VERSIONS_QUOTA = 100
DEFAULT_KEEP_VERSIONS = 5
DEFAULT_MAX_VERSIONS = 50

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
        "model_role_isolation": {"enum": list(MODEL_ROLE_ISOLATION_CHOICES)},
        # publish and status
        "profile": {"type": "string", "minLength": 1, "maxLength": 128},
        "keep_versions": {"type": "integer", "minimum": 1, "maximum": MAX_VERSIONS_QUOTA},
        "max_versions": {"type": "integer", "minimum": 1, "maximum": MAX_VERSIONS_QUOTA},
        "studio_domains": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^d-[a-z0-9]{1,62}$"},
        },
        "stack_parameters": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "propertyNames": {"pattern": r"^[A-Za-z0-9]+$"},
        },
        # multi-account: the account of each stage, and publish's profile for each account
        "stage_accounts": {
            "type": "object",
            "additionalProperties": False,
            "required": list(REQUIRED_CONFIG_STAGES),
            "properties": {
                stage: {"type": "string", "pattern": ACCOUNT_ID_PATTERN} for stage in CONFIG_STAGES
            },
        },
        "target_profiles": {
            "type": "object",
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 128},
            "propertyNames": {"pattern": ACCOUNT_ID_PATTERN},
        },
        # or, per stage, the organizational unit a StackSet rolls the target stack out to
        "stage_organizational_units": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                stage: {"type": "string", "pattern": ORGANIZATIONAL_UNIT_PATTERN}
                for stage in CONFIG_STAGES
            },
        },
        "promotion": {"enum": list(PROMOTION_MODES)},
    },
}
# Keys whose environment value is a comma-separated list; keys whose value is an integer;
# keys whose environment value is ``name=value`` pairs, comma-separated.
LIST_KEYS = frozenset({"regions", "studio_domains"})
INTEGER_KEYS = frozenset({"keep_versions", "max_versions"})
PAIR_KEYS = frozenset(
    {"stack_parameters", "stage_accounts", "target_profiles", "stage_organizational_units"}
)


@dataclass(frozen=True)
class PublishConfig:
    """What ``publish`` and ``status`` need beyond the build: where, and how many versions."""

    profile: str | None = None
    keep_versions: int = DEFAULT_KEEP_VERSIONS
    max_versions: int = DEFAULT_MAX_VERSIONS
    studio_domains: tuple[str, ...] = ()
    stack_parameters: dict[str, str] = field(default_factory=dict)
    # Target account id -> the AWS profile publish rolls its target-account stack out with.
    target_profiles: dict[str, str] = field(default_factory=dict)
    # Configuration stage (dev, staging, prod) -> the organizational unit a service-managed
    # StackSet rolls the target-account stack out to (instead of a profile).
    organizational_units: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildConfig:
    regions: tuple[str, ...] = DEFAULT_REGIONS
    dist: Path = Path("dist")
    settings: TemplateSettings = field(default_factory=TemplateSettings)
    sources: dict[str, str] = field(default_factory=dict)
    publish: PublishConfig = field(default_factory=PublishConfig)


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
            from_env[key] = _from_environment(variable, key, raw)
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
        model_role_isolation=values.get(
            "model_role_isolation", TemplateSettings.model_role_isolation
        ),
    )
    settings = replace(settings, stage_accounts=_stage_accounts(values, sources, settings))
    function_name = settings.lifecycle_function_name
    if len(function_name) > LAMBDA_FUNCTION_NAME_MAX_LENGTH:
        raise ConfigError(
            f"{sources.get('ssm_prefix', 'default')}: ssm_prefix gives the lifecycle function "
            f"the name {function_name!r}, {len(function_name)} characters, over Lambda's "
            f"{LAMBDA_FUNCTION_NAME_MAX_LENGTH}-character limit; use a shorter prefix"
        )
    regions = tuple(values.get("regions", DEFAULT_REGIONS))
    unknown = [r for r in regions if r not in DEFAULT_REGIONS and r not in cfnlint_regions()]
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
        publish=_publish_config(values, sources),
    )


def _publish_config(values: dict[str, Any], sources: dict[str, str]) -> PublishConfig:
    keep = values.get("keep_versions", DEFAULT_KEEP_VERSIONS)
    most = values.get("max_versions", DEFAULT_MAX_VERSIONS)
    if keep > most:
        origin = sources.get("keep_versions") or sources.get("max_versions", "default")
        raise ConfigError(
            f"{origin}: keep_versions ({keep}) is over max_versions ({most}): the active "
            "versions are among those kept"
        )
    return PublishConfig(
        profile=values.get("profile"),
        keep_versions=keep,
        max_versions=most,
        studio_domains=tuple(values.get("studio_domains", ())),
        stack_parameters=dict(values.get("stack_parameters", {})),
        target_profiles=_target_profiles(values, sources),
        organizational_units=_organizational_units(values, sources),
    )


def _stage_accounts(
    values: dict[str, Any], sources: dict[str, str], settings: TemplateSettings
) -> StageAccountIds | None:
    accounts = values.get("stage_accounts") or {}
    promotion = values.get("promotion", AFTER_TESTS)
    if promotion == SECOND_APPROVAL and not accounts.get("staging"):
        raise ConfigError(
            f"{sources.get('promotion', 'default')}: promotion: {SECOND_APPROVAL} needs a "
            "staging account (stage_accounts.staging): production's second approval is of "
            "what passed in staging"
        )
    if not accounts:
        return None
    return StageAccountIds(
        development=accounts["dev"],
        production=accounts["prod"],
        staging=accounts.get("staging", ""),
        name_base=settings.name_base,
        promotion=promotion,
    )


def _organizational_units(values: dict[str, Any], sources: dict[str, str]) -> dict[str, str]:
    """Stage -> organizational unit; each stage configured, its account then needs no profile."""
    units = dict(values.get("stage_organizational_units", {}))
    accounts = values.get("stage_accounts", {})
    origin = sources.get("stage_organizational_units", "default")
    for stage in sorted(units):
        if stage not in accounts:
            raise ConfigError(
                f"{origin}: stage_organizational_units.{stage}: stage {stage} has no account "
                "in stage_accounts (the deployment handlers reach a stage by its account id)"
            )
        profiled = values.get("target_profiles", {}).get(accounts[stage])
        if profiled is not None:
            raise ConfigError(
                f"{origin}: stage_organizational_units.{stage}: account {accounts[stage]} "
                f"also has a profile (target_profiles.{accounts[stage]} = {profiled!r}); "
                "roll its target-account stack out one way: a StackSet or the profile"
            )
    return units


def _target_profiles(values: dict[str, Any], sources: dict[str, str]) -> dict[str, str]:
    profiles = dict(values.get("target_profiles", {}))
    configured = set(values.get("stage_accounts", {}).values())
    strangers = sorted(set(profiles) - configured)
    if strangers:
        origin = sources.get("target_profiles", "default")
        known = ", ".join(sorted(configured)) or "none: stage_accounts is not set"
        raise ConfigError(
            f"{origin}: target_profiles.{strangers[0]}: account {strangers[0]} is no stage's "
            f"account (stage_accounts: {known})"
        )
    return profiles


def _from_environment(variable: str, key: str, raw: str) -> Any:
    if key in LIST_KEYS:
        return [p.strip() for p in raw.split(",") if p.strip()]
    if key in INTEGER_KEYS:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"environment: {variable}: {raw!r} is not an integer") from None
    if key in PAIR_KEYS:
        pairs = [p.strip() for p in raw.split(",") if p.strip()]
        if not all("=" in p for p in pairs):
            raise ConfigError(f"environment: {variable}: give Name=value pairs, comma-separated")
        return dict(p.split("=", 1) for p in pairs)
    return raw


def cfnlint_regions() -> frozenset[str]:
    """The regions the installed cfn-lint has resource specifications for. Asked only of
    regions other than the defaults (a test keeps those among them): importing cfn-lint
    loads its rule set, which a command such as ``sandbox`` does not otherwise need."""
    from cfnlint.helpers import REGIONS

    return frozenset(REGIONS)


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
        if error.validator == "additionalProperties" and not error.path:
            unknown = sorted(set(layer) - set(SCHEMA["properties"]))
            raise ConfigError(
                f"{origin}: unknown key {unknown[0]!r} (known: {', '.join(SCHEMA['properties'])})"
            )
        key = str(error.path[0]) if error.path else "?"
        # A nested key is named with its parent: stage_accounts.prod
        inner = "".join(f".{part}" for part in list(error.path)[1:] if isinstance(part, str))
        raise ConfigError(f"{origin}: {key_label(key)}{inner}: {error.message}")
    for key, value in layer.items():
        values[key] = value
        sources[key] = origin
