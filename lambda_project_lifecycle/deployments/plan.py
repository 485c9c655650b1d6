"""What a stage's endpoint should look like: a pure function of the desired packages and config.

No AWS calls here. The plan names the endpoint config by a digest of its
content, so the same desired state always gives the same config name: a
retried or duplicated event finds the endpoint already on that config and
changes nothing.

Variants: one ``AllTraffic`` variant for the development endpoint and the
baseline production endpoint; ``champion`` and ``challenger`` on the advanced
production endpoint, split by weight (default 90/10) or with the challenger as
a shadow variant that gets a copy of ``challenger_weight`` percent of requests.
Variant names never change, because blue/green deployments require the new
config to keep the old variant names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambda_project_lifecycle.deployments.config import (
    MAX_ROLLBACK_ALARMS,
    PRODUCTION_STAGES,
    StageConfig,
)
from lambda_project_lifecycle.deployments.errors import DeployConfigError
from lambda_project_lifecycle.deployments.records import VariantState
from lambda_project_lifecycle.naming import PROJECT_ID_TAG, PROJECT_NAME_TAG, ProjectNames

SINGLE_VARIANT = "AllTraffic"
CHAMPION = "champion"
CHALLENGER = "challenger"
TAG_STAGE = "mlops-portfolio:stage"
TAG_PACKAGE_PREFIX = "mlops-portfolio:model-package-arn:"
TAG_EXPIRES_AT = "mlops-portfolio:expires-at"
TAG_DEPLOYMENT = "mlops-portfolio:deployment-id"
TAG_MLFLOW_PREFIX = "mlops-portfolio:mlflow:"


def variant_for(scenario: str, stage: str, group_kind: str) -> str:
    """The variant an approved package of ``group_kind`` goes to."""
    if scenario == "advanced" and stage in PRODUCTION_STAGES:
        return group_kind
    return SINGLE_VARIANT


def package_version(model_package_arn: str) -> str:
    return model_package_arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PlannedVariant:
    name: str
    state: VariantState
    model_name: str
    shadow: bool
    request: dict[str, Any]
    autoscaling: dict[str, int] | None = None

    @property
    def serverless(self) -> bool:
        return "ServerlessConfig" in self.request


@dataclass(frozen=True)
class EndpointPlan:
    endpoint_name: str
    stage: str
    config_name: str
    variants: tuple[PlannedVariant, ...]
    own_alarms: dict[str, str]  # production variant -> its 5xx alarm
    rollback_alarms: tuple[str, ...]
    deployment: dict[str, Any]
    tags: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def production(self) -> list[PlannedVariant]:
        return [v for v in self.variants if not v.shadow]

    @property
    def shadows(self) -> list[PlannedVariant]:
        return [v for v in self.variants if v.shadow]

    def config_request(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "EndpointConfigName": self.config_name,
            "ProductionVariants": [v.request for v in self.production],
            "Tags": self.tag_list(),
        }
        if self.shadows:
            request["ShadowProductionVariants"] = [v.request for v in self.shadows]
        return request

    def tag_list(self) -> list[dict[str, str]]:
        return [{"Key": key, "Value": value} for key, value in self.tags]

    def deployment_config(self) -> dict[str, Any]:
        """Blue/green with the stage's traffic shifting, rolled back by the alarms."""
        settings = self.deployment
        strategy = settings["strategy"]
        routing: dict[str, Any] = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
        if strategy == "canary":
            routing = {
                "Type": "CANARY",
                "WaitIntervalInSeconds": int(settings["canary"]["wait_seconds"]),
                "CanarySize": {
                    "Type": "CAPACITY_PERCENT",
                    "Value": int(settings["canary"]["size_percent"]),
                },
            }
        elif strategy == "linear":
            routing = {
                "Type": "LINEAR",
                "WaitIntervalInSeconds": int(settings["linear"]["wait_seconds"]),
                "LinearStepSize": {
                    "Type": "CAPACITY_PERCENT",
                    "Value": int(settings["linear"]["size_percent"]),
                },
            }
        config: dict[str, Any] = {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": routing,
                "TerminationWaitInSeconds": int(settings["termination_wait_seconds"]),
            }
        }
        if self.rollback_alarms:
            config["AutoRollbackConfiguration"] = {
                "Alarms": [{"AlarmName": name} for name in self.rollback_alarms]
            }
        return config


@dataclass(frozen=True)
class Decision:
    """A plan, or why the stage should have no endpoint right now."""

    plan: EndpointPlan | None
    reason: str = ""


def plan_endpoint(
    names: ProjectNames,
    scenario: str,
    config: StageConfig,
    desired: Mapping[str, VariantState],
) -> Decision:
    stage = config.stage
    endpoint = names.endpoint(stage)
    if not desired:
        return Decision(None, "no approved model package is left for this stage")
    pair = scenario == "advanced" and stage in PRODUCTION_STAGES
    if pair and CHAMPION not in desired:
        return Decision(
            None,
            "the challenger waits for a champion: approve a champion model package "
            "to create the production endpoint",
        )
    weights: dict[str, tuple[float, bool]]  # variant -> (weight, shadow)
    if not pair:
        weights = {SINGLE_VARIANT: (1.0, False)}
    elif CHALLENGER not in desired:
        weights = {CHAMPION: (1.0, False)}
    else:
        settings = config.champion_challenger
        share = int(settings["challenger_weight"])
        if settings["mode"] == "shadow":
            weights = {CHAMPION: (1.0, False), CHALLENGER: (share / 100.0, True)}
        else:
            weights = {CHAMPION: (float(100 - share), False), CHALLENGER: (float(share), False)}

    variants = []
    for name, (weight, shadow) in weights.items():
        state = desired[name]
        model_name = names.model(state.group_kind, package_version(state.model_package_arn))
        request = _variant_request(name, model_name, weight, config)
        scaling = None
        realtime = config.realtime
        if config.mode == "realtime" and not shadow:
            limits = realtime["autoscaling"]
            if int(limits["max"]) > int(limits["min"]):
                scaling = {
                    "min": int(limits["min"]),
                    "max": int(limits["max"]),
                    "target": int(limits["target_invocations_per_instance"]),
                }
        variants.append(PlannedVariant(name, state, model_name, shadow, request, scaling))

    own_alarms = {v.name: names.rollback_alarm(stage, v.name) for v in variants if not v.shadow}
    user_alarms = tuple(str(a) for a in config.deployment["rollback_alarms"])
    if len(own_alarms) + len(user_alarms) > MAX_ROLLBACK_ALARMS:
        key = config.key("deployment", "rollback_alarms")
        raise DeployConfigError(
            config.source,
            f"key {key!r}: {len(user_alarms)} alarms plus the platform's {len(own_alarms)} "
            f"5xx alarm(s) exceed SageMaker's {MAX_ROLLBACK_ALARMS}; list at most "
            f"{MAX_ROLLBACK_ALARMS - len(own_alarms)}",
        )
    content = {
        "ProductionVariants": [v.request for v in variants if not v.shadow],
        "ShadowProductionVariants": [v.request for v in variants if v.shadow],
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:10]
    tags = [
        (PROJECT_NAME_TAG, names.project_name),
        (PROJECT_ID_TAG, names.project_id),
        (TAG_STAGE, stage),
    ] + [(TAG_PACKAGE_PREFIX + v.name, v.state.model_package_arn) for v in variants]
    for v in variants:  # an MLflow model's name, version, run id and lineage
        tags += [
            (f"{TAG_MLFLOW_PREFIX}{v.name}:{key}", value) for key, value in v.state.labels.items()
        ]
    return Decision(
        EndpointPlan(
            endpoint_name=endpoint,
            stage=stage,
            config_name=names.endpoint_config(stage, digest),
            variants=tuple(variants),
            own_alarms=own_alarms,
            rollback_alarms=tuple(own_alarms.values()) + user_alarms,
            deployment=config.deployment,
            tags=tuple(tags),
        )
    )


def _variant_request(
    name: str, model_name: str, weight: float, config: StageConfig
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "VariantName": name,
        "ModelName": model_name,
        "InitialVariantWeight": weight,
    }
    if config.mode == "serverless":
        serverless = config.serverless
        request["ServerlessConfig"] = {
            "MemorySizeInMB": int(serverless["memory_mb"]),
            "MaxConcurrency": int(serverless["max_concurrency"]),
        }
    else:
        realtime = config.realtime
        request["InstanceType"] = str(realtime["instance_type"])
        request["InitialInstanceCount"] = int(realtime["initial_instance_count"])
    return request
