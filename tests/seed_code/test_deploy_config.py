"""deploy/config.yaml: per-stage deployment settings and the schema the platform validates."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from pipelines import deploy_config
from pipelines.errors import DeployConfigError

from tests.seed_code.conftest import SCENARIO_NAMES, SEED_DIR

# The deploy Lambda validates this schema without a JSON Schema library: only these keywords.
SIMPLE_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "enum", "minimum", "maximum",
     "minLength", "maxLength", "pattern", "items", "minItems", "default", "description"}
)  # fmt: skip


def shipped_config(scenario: str) -> dict[str, Any]:
    return dict(yaml.safe_load((SEED_DIR / scenario / "deploy" / "config.yaml").read_text()))


def schema_keywords(schema: dict[str, Any], at_root: bool = True) -> set[str]:
    found = set(schema) - ({"$schema"} if at_root else set())
    for child in schema.get("properties", {}).values():
        found |= schema_keywords(child, at_root=False)
    if isinstance(schema.get("items"), dict):
        found |= schema_keywords(schema["items"], at_root=False)
    if isinstance(schema.get("additionalProperties"), dict):
        found |= schema_keywords(schema["additionalProperties"], at_root=False)
    return found


def test_the_schema_uses_only_keywords_a_hand_written_validator_knows() -> None:
    schema = deploy_config.load_schema()
    assert schema_keywords(schema) <= SIMPLE_KEYWORDS


def test_every_setting_has_a_default_and_a_description() -> None:
    def walk(schema: dict[str, Any], path: str) -> list[str]:
        problems = [] if "description" in schema else [f"{path}: no description"]
        for key, child in schema.get("properties", {}).items():
            where = f"{path}.{key}".lstrip(".")
            if "default" not in child and where != "production.champion_challenger":
                problems.append(f"{where}: no default")
            problems += walk(child, where)
        return problems

    assert walk(deploy_config.load_schema(), "") == []


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_the_shipped_config_is_valid_and_costs_little(scenario) -> None:
    settings = deploy_config.parse_deploy_config(shipped_config(scenario), scenario).settings
    development, production = settings["development"], settings["production"]
    assert development["mode"] == "serverless"
    assert development["ttl_hours"] == 24
    assert production["mode"] == "realtime"
    assert production["realtime"]["instance_type"] == "ml.m5.large"
    assert production["realtime"]["initial_instance_count"] == 1
    assert (
        production["realtime"]["autoscaling"]["min"],
        production["realtime"]["autoscaling"]["max"],
    ) == (1, 2)
    for stage in (development, production):
        assert stage["approval_status"] == "PendingManualApproval"
        assert stage["deployment"]["strategy"] in ("all-at-once", "canary", "linear")
        assert (SEED_DIR / "common" / stage["tests"]["payloads_dir"]).is_dir()
    if scenario == "advanced":
        assert production["champion_challenger"] == {"mode": "split", "challenger_weight": 10}
    else:
        assert "champion_challenger" not in production


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_an_almost_empty_config_gets_the_documented_defaults(scenario) -> None:
    settings = deploy_config.parse_deploy_config({"schema_version": 1}, scenario).settings
    assert settings["development"]["mode"] == "serverless"
    assert settings["development"]["serverless"] == {"memory_mb": 2048, "max_concurrency": 5}
    assert settings["development"]["ttl_hours"] == 24
    assert settings["production"]["realtime"] == {
        "instance_type": "ml.m5.large",
        "initial_instance_count": 1,
        "autoscaling": {"min": 1, "max": 2, "target_invocations_per_instance": 100},
    }
    assert settings["production"]["deployment"]["canary"] == {
        "size_percent": 10,
        "wait_seconds": 300,
    }
    assert settings["production"]["tests"]["payloads_dir"] == "integration_tests/payloads"
    if scenario == "advanced":
        assert settings["production"]["champion_challenger"] == {
            "mode": "split",
            "challenger_weight": 10,
        }


def test_defaults_never_change_what_the_user_wrote() -> None:
    written = {
        "schema_version": 1,
        "production": {"mode": "serverless", "serverless": {"memory_mb": 6144}},
    }
    before = copy.deepcopy(written)
    settings = deploy_config.parse_deploy_config(written, "baseline").settings
    assert written == before
    assert settings["production"]["serverless"] == {"memory_mb": 6144, "max_concurrency": 5}


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(document)
    node = document
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return document


@pytest.mark.parametrize(
    ("scenario", "path", "value", "message"),
    [
        ("baseline", "development.mode", "batch", "development.mode"),
        ("baseline", "development.serverless.memory_mb", 1500, "development.serverless.memory_mb"),
        ("baseline", "development.serverless.memory_mb", 7168, "development.serverless.memory_mb"),
        ("baseline", "development.ttl_hours", 0, "development.ttl_hours"),
        (
            "baseline",
            "production.realtime.instance_type",
            "m5.large",
            "production.realtime.instance_type",
        ),
        ("baseline", "production.deployment.strategy", "rolling", "production.deployment.strategy"),
        (
            "baseline",
            "production.deployment.canary.size_percent",
            100,
            "production.deployment.canary",
        ),
        ("baseline", "production.deployment.rollback_alarms", "HighLatency", "rollback_alarms"),
        (
            "baseline",
            "production.deployment.rollback_alarms",
            [f"a{i}" for i in range(11)],
            "rollback_alarms",
        ),
        ("baseline", "production.realtime.autoscaling.min", 3, "production.realtime.autoscaling"),
        ("baseline", "production.realtime.initial_instance_count", 5, "initial_instance_count"),
        ("baseline", "production.shadow", True, "production.shadow"),
        ("baseline", "production.champion_challenger", {"mode": "split"}, "advanced scenario only"),
        ("advanced", "production.champion_challenger.mode", "ab", "champion_challenger.mode"),
        ("advanced", "production.champion_challenger.challenger_weight", 101, "challenger_weight"),
        ("advanced", "production.tests.latency_budget_ms", 0, "production.tests.latency_budget_ms"),
        # SageMaker's TrafficRoutingConfig: CanarySize at most 50%, LinearStepSize 10 to 50%.
        (
            "baseline",
            "production.deployment.canary.size_percent",
            51,
            "production.deployment.canary.size_percent",
        ),
        (
            "baseline",
            "development.deployment.linear.size_percent",
            9,
            "development.deployment.linear.size_percent",
        ),
        (
            "advanced",
            "production.deployment.linear.size_percent",
            60,
            "production.deployment.linear.size_percent",
        ),
        # Serverless Inference has no second production variant.
        ("advanced", "production.mode", "serverless", "'production.mode': serverless is not"),
    ],
)
def test_a_bad_setting_fails_with_the_key_named(scenario, path, value, message) -> None:
    broken = _set(shipped_config(scenario), path, value)
    with pytest.raises(DeployConfigError, match=message.replace(".", r"\.")):
        deploy_config.parse_deploy_config(broken, scenario)


def test_a_missing_or_unreadable_file_names_the_file(tmp_path) -> None:
    with pytest.raises(DeployConfigError, match=r"config\.yaml not found"):
        deploy_config.load_deploy_config("baseline", tmp_path / "config.yaml")
    (tmp_path / "config.yaml").write_text("development: [unclosed")
    with pytest.raises(DeployConfigError, match="not readable YAML"):
        deploy_config.load_deploy_config("baseline", tmp_path / "config.yaml")


@pytest.mark.parametrize("kind", ["feature", "dev", "prod", "champion", "challenger"])
def test_approval_status_per_stage_comes_from_the_config(kind) -> None:
    stage = "development" if kind in ("feature", "dev") else "production"
    written = _set({"schema_version": 1}, f"{stage}.approval_status", "Approved")
    config = deploy_config.parse_deploy_config(written, "advanced")
    assert config.approval_status(kind) == "Approved"
    assert deploy_config.parse_deploy_config({"schema_version": 1}, "advanced").approval_status(
        kind
    ) == ("PendingManualApproval")


def test_the_schema_file_is_plain_json_draft_2020_12() -> None:
    schema = json.loads(deploy_config.SCHEMA_FILE.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("production.deployment.canary.size_percent", 50),
        ("production.deployment.linear.size_percent", 10),
        ("production.deployment.linear.size_percent", 50),
    ],
)
def test_traffic_shifting_sizes_at_sagemakers_bounds_are_accepted(path, value) -> None:
    written = _set({"schema_version": 1}, path, value)
    settings = deploy_config.parse_deploy_config(written, "baseline").settings
    *parents, leaf = path.split(".")
    node = settings
    for key in parents:
        node = node[key]
    assert node[leaf] == value


def test_serverless_production_is_fine_in_the_baseline_scenario() -> None:
    written = {"schema_version": 1, "production": {"mode": "serverless"}}
    assert deploy_config.parse_deploy_config(written, "baseline").settings["production"][
        "mode"
    ] == ("serverless")
