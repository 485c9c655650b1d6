"""Deployment settings per stage: ``deploy/config.yaml``, checked against its schema.

The schema is ``deploy/config.schema.json``.

The schema uses only simple keywords (no $ref, oneOf, if/then), so the
platform validates the same file without a JSON Schema library. Defaults are
the schema's ``default`` values: a missing key takes its default and a missing
object is filled from its properties' defaults. Rules a schema cannot say are
checked here too (and by the platform):

- ``production.champion_challenger`` only in the advanced scenario; when it is
  absent there, it means ``{mode: split, challenger_weight: 10}``;
- ``autoscaling.min <= initial_instance_count <= autoscaling.max``;
- at most 10 ``rollback_alarms`` (SageMaker's limit);
- ``production.mode: serverless`` not in the advanced scenario: champion and
  challenger are two variants (or a shadow variant), which Serverless Inference
  does not support.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipelines import schema_check
from pipelines.errors import DeployConfigError
from pipelines.project import REPO_ROOT, STAGE_OF_KIND

CONFIG_FILE = REPO_ROOT / "deploy" / "config.yaml"
SCHEMA_FILE = REPO_ROOT / "deploy" / "config.schema.json"
STAGES = ("development", "production")
MAX_ROLLBACK_ALARMS = 10


@dataclass(frozen=True)
class DeployConfig:
    """The validated settings with every default filled in."""

    settings: dict[str, Any]

    def stage(self, name: str) -> dict[str, Any]:
        return dict(self.settings[name])

    def approval_status(self, kind: str) -> str:
        """Status a model gets when it is registered into (or promoted into) a group of ``kind``."""
        return str(self.settings[STAGE_OF_KIND[kind]]["approval_status"])


def load_deploy_config(scenario: str, path: Path | str = CONFIG_FILE) -> DeployConfig:
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeployConfigError(f"{path} not found") from None
    except (OSError, yaml.YAMLError) as exc:
        raise DeployConfigError(f"{path}: not readable YAML: {exc}") from exc
    return parse_deploy_config(document, scenario, source=str(path))


def parse_deploy_config(
    document: Any, scenario: str, source: str = "deploy/config.yaml"
) -> DeployConfig:
    schema = load_schema()
    violation = schema_check.first_violation(document, schema, "is not a known setting")
    if violation is not None:
        raise DeployConfigError(f"{source}: {violation}")
    settings = fill_defaults(document, schema)
    _check_rules(settings, scenario, source)
    if scenario == "advanced":
        pair_schema = schema["properties"]["production"]["properties"]["champion_challenger"]
        settings["production"]["champion_challenger"] = fill_defaults(
            document.get("production", {}).get("champion_challenger", {}), pair_schema
        )
    return DeployConfig(settings)


def load_schema() -> dict[str, Any]:
    return copy.deepcopy(schema_check.load_schema(SCHEMA_FILE))


def fill_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` with the schema's defaults filled in, recursively; ``value`` is not changed."""
    if schema.get("type") != "object" or not isinstance(value, dict):
        return copy.deepcopy(value)
    filled = {key: copy.deepcopy(item) for key, item in value.items()}
    for key, child in schema.get("properties", {}).items():
        if key not in filled and "default" in child:
            filled[key] = copy.deepcopy(child["default"])
        if key in filled:
            filled[key] = fill_defaults(filled[key], child)
    return filled


def _check_rules(settings: dict[str, Any], scenario: str, source: str) -> None:
    if scenario != "advanced" and "champion_challenger" in settings["production"]:
        raise DeployConfigError(
            f"{source}: key 'production.champion_challenger' is for the advanced scenario only; "
            f"this project is {scenario}"
        )
    if scenario == "advanced" and settings["production"]["mode"] == "serverless":
        raise DeployConfigError(
            f"{source}: key 'production.mode': serverless is not available in the advanced "
            "scenario: champion and challenger are two production variants (or a shadow "
            "variant), which SageMaker Serverless Inference does not support; use realtime"
        )
    for stage in STAGES:
        realtime = settings[stage]["realtime"]
        scaling = realtime["autoscaling"]
        if scaling["min"] > scaling["max"]:
            raise DeployConfigError(
                f"{source}: key '{stage}.realtime.autoscaling': min {scaling['min']} is above "
                f"max {scaling['max']}"
            )
        count = realtime["initial_instance_count"]
        if not scaling["min"] <= count <= scaling["max"]:
            raise DeployConfigError(
                f"{source}: key '{stage}.realtime.initial_instance_count': {count} is outside "
                f"autoscaling min..max ({scaling['min']}..{scaling['max']})"
            )
        alarms = settings[stage]["deployment"]["rollback_alarms"]
        if len(alarms) > MAX_ROLLBACK_ALARMS:
            raise DeployConfigError(
                f"{source}: key '{stage}.deployment.rollback_alarms': {len(alarms)} alarms, "
                f"SageMaker allows at most {MAX_ROLLBACK_ALARMS}"
            )
