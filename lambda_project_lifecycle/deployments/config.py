"""A project's deployment settings, per stage, as its builds publish them.

Contract: the project's builds on ``dev`` and ``prod`` publish the validated
``deploy/config.yaml`` as JSON to
``s3://<project data bucket>/<prefix>/deploy/<branch>/config.json``.
The production stage reads ``prod``'s, the development stage ``dev``'s; a missing
object means all schema defaults. The platform validates it again (the object
may have been written by hand) against the same schema, with the same rules the
seed code applies, and refuses a config it cannot deploy, naming the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lambda_project_lifecycle.aws_calls import call_unless
from lambda_project_lifecycle.deployments import schema as json_schema
from lambda_project_lifecycle.deployments.errors import DeployConfigError

STAGES = ("development", "production")
# With a staging account, production approvals deploy to staging first: with production's
# settings, payloads and variants.
PRODUCTION_STAGES = ("staging", "production")
SETTINGS_OF_STAGE = {
    "development": "development",
    "staging": "production",
    "production": "production",
}
BRANCH_OF_STAGE = {"development": "dev", "staging": "prod", "production": "prod"}
MAX_ROLLBACK_ALARMS = 10  # SageMaker's limit for AutoRollbackConfiguration.Alarms
# When champion_challenger is absent in an advanced project (the schema gives it no default).
DEFAULT_CHAMPION_CHALLENGER = {"mode": "split", "challenger_weight": 10}
_MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


def config_key(prefix: str, stage: str) -> str:
    return f"{prefix}/deploy/{BRANCH_OF_STAGE[stage]}/config.json"


def payloads_prefix(prefix: str, stage: str) -> str:
    return f"{prefix}/deploy/{BRANCH_OF_STAGE[stage]}/payloads/"


@lru_cache(maxsize=4)
def load_schema(path: Path) -> dict[str, Any]:
    """The deployment-config schema, checked to use only keywords the validator knows."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeployConfigError(
            str(path), "the deployment-config schema is missing from the Lambda package"
        ) from None
    json_schema.check_schema(schema)
    return dict(schema)


@dataclass(frozen=True)
class StageConfig:
    """One stage's settings with every default filled in."""

    stage: str
    settings: dict[str, Any]
    source: str

    @property
    def mode(self) -> str:
        return str(self.settings["mode"])

    @property
    def realtime(self) -> dict[str, Any]:
        return dict(self.settings["realtime"])

    @property
    def serverless(self) -> dict[str, Any]:
        return dict(self.settings["serverless"])

    @property
    def deployment(self) -> dict[str, Any]:
        return dict(self.settings["deployment"])

    @property
    def latency_budget_ms(self) -> int:
        return int(self.settings["tests"]["latency_budget_ms"])

    @property
    def ttl_hours(self) -> int | None:
        ttl = self.settings.get("ttl_hours")
        return None if ttl is None else int(ttl)

    @property
    def champion_challenger(self) -> dict[str, Any]:
        return dict(self.settings.get("champion_challenger") or DEFAULT_CHAMPION_CHALLENGER)

    def key(self, *parts: str) -> str:
        """``production.realtime.instance_type``: how errors name a setting of this stage."""
        return ".".join((self.stage, *parts))


def parse_stage_config(
    document: Any,
    *,
    stage: str,
    scenario: str,
    schema: dict[str, Any],
    source: str,
    hosting_instance_types: frozenset[str] | None = None,
) -> StageConfig:
    """Validate the whole document, fill defaults, apply the rules; return one stage."""
    violations = json_schema.validate(document, schema)
    if violations:
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise DeployConfigError(source, f"{violations[0]}{more}")
    settings = json_schema.apply_defaults(document, schema)
    config = StageConfig(stage, dict(settings[SETTINGS_OF_STAGE[stage]]), source)
    _check_rules(config, scenario, source, hosting_instance_types)
    if scenario == "advanced" and stage in PRODUCTION_STAGES:
        pair_schema = schema["properties"]["production"]["properties"]["champion_challenger"]
        given = document.get("production", {}).get(
            "champion_challenger", DEFAULT_CHAMPION_CHALLENGER
        )
        config.settings["champion_challenger"] = json_schema.apply_defaults(given, pair_schema)
    return config


def load_stage_config(
    s3: Any,
    bucket: str,
    prefix: str,
    *,
    stage: str,
    scenario: str,
    schema: dict[str, Any],
    hosting_instance_types: frozenset[str] | None = None,
) -> StageConfig:
    """The stage's config from the project's published ``config.json``, or all defaults."""
    key = config_key(prefix, stage)
    source = f"s3://{bucket}/{key}"
    reply = call_unless(
        _MISSING_OBJECT_CODES,
        f"Reading the deployment config {source}",
        s3.get_object,
        Bucket=bucket,
        Key=key,
    )
    if reply is None:
        document: Any = {"schema_version": 1}
        source = f"schema defaults ({source} not published)"
    else:
        try:
            document = json.loads(reply["Body"].read())
        except ValueError as exc:
            raise DeployConfigError(source, f"not valid JSON: {exc}") from exc
    return parse_stage_config(
        document,
        stage=stage,
        scenario=scenario,
        schema=schema,
        source=source,
        hosting_instance_types=hosting_instance_types,
    )


def hosting_instance_types(sagemaker: Any) -> frozenset[str] | None:
    """Instance types SageMaker offers for real-time hosting, from the SDK's service model.

    The enum ``ProductionVariantInstanceType`` is what CreateEndpointConfig accepts; it
    ships with botocore, so no API call is needed. None when the client has no model.
    The list is that of the Lambda runtime's botocore (the zip does not vendor it): a
    type SageMaker added after that botocore was released is refused here (a FAILED
    notice naming the key, at approval time, since the build cannot know the runtime's
    list) until AWS updates the runtime; a type listed but not offered in the Region
    passes here and CreateEndpointConfig refuses it (the approval fails and is retried).
    """
    try:
        shape = sagemaker.meta.service_model.shape_for("ProductionVariantInstanceType")
    except (AttributeError, KeyError):
        return None
    return frozenset(shape.enum) if getattr(shape, "enum", None) else None


def _check_rules(
    config: StageConfig,
    scenario: str,
    source: str,
    instance_types: frozenset[str] | None,
) -> None:
    """What a schema cannot say (the same rules as the seed code's deploy_config.py)."""
    if scenario != "advanced" and "champion_challenger" in config.settings:
        raise DeployConfigError(
            source,
            f"key {config.key('champion_challenger')!r} is for the advanced scenario only; "
            f"this project is {scenario}",
        )
    if scenario == "advanced" and config.stage in PRODUCTION_STAGES and config.mode == "serverless":
        raise DeployConfigError(
            source,
            f"key {config.key('mode')!r}: serverless is not available in the advanced "
            "scenario: champion and challenger are two production variants (or a shadow "
            "variant), which SageMaker Serverless Inference does not support; use realtime",
        )
    realtime = config.realtime
    scaling = realtime["autoscaling"]
    if scaling["min"] > scaling["max"]:
        raise DeployConfigError(
            source,
            f"key {config.key('realtime', 'autoscaling')!r}: min {scaling['min']} is above "
            f"max {scaling['max']}",
        )
    count = realtime["initial_instance_count"]
    if not scaling["min"] <= count <= scaling["max"]:
        raise DeployConfigError(
            source,
            f"key {config.key('realtime', 'initial_instance_count')!r}: {count} is outside "
            f"autoscaling min..max ({scaling['min']}..{scaling['max']})",
        )
    alarms = config.deployment["rollback_alarms"]
    if len(alarms) > MAX_ROLLBACK_ALARMS:
        raise DeployConfigError(
            source,
            f"key {config.key('deployment', 'rollback_alarms')!r}: {len(alarms)} alarms, "
            f"SageMaker allows at most {MAX_ROLLBACK_ALARMS}",
        )
    instance_type = realtime["instance_type"]
    if instance_types is not None and instance_type not in instance_types:
        raise DeployConfigError(
            source,
            f"key {config.key('realtime', 'instance_type')!r}: {instance_type!r} is not an "
            "instance type SageMaker offers for hosting endpoints",
        )
