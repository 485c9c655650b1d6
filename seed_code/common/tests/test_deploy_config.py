from __future__ import annotations

import copy

import pytest
import yaml
from pipelines.deploy_config import CONFIG_FILE, load_schema, parse_deploy_config
from pipelines.errors import DeployConfigError
from pipelines.project import Project

# The platform validates the same schema without a JSON Schema library.
SIMPLE_KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "enum", "minimum", "maximum",
    "minLength", "maxLength", "pattern", "items", "minItems", "default", "description",
}  # fmt: skip


def keywords(schema: dict, root: bool = True) -> set[str]:
    found = set(schema) - ({"$schema"} if root else set())
    for child in schema.get("properties", {}).values():
        found |= keywords(child, root=False)
    if isinstance(schema.get("items"), dict):
        found |= keywords(schema["items"], root=False)
    return found


def document() -> dict:
    return yaml.safe_load(CONFIG_FILE.read_text())


def test_the_deploy_config_is_valid_and_cheap_by_default(project: Project) -> None:
    settings = parse_deploy_config(document(), project.scenario).settings
    assert settings["development"]["mode"] == "serverless"
    production = settings["production"]
    assert production["mode"] == "realtime"
    assert production["realtime"]["initial_instance_count"] == 1
    assert production["realtime"]["autoscaling"]["max"] <= 2
    assert ("champion_challenger" in production) == (project.scenario == "advanced")


def test_the_schema_uses_only_simple_keywords() -> None:
    assert keywords(load_schema()) <= SIMPLE_KEYWORDS


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("development", "serverless", "memory_mb"), 1500, "development.serverless.memory_mb"),
        (("production", "deployment", "strategy"), "big-bang", "production.deployment.strategy"),
        (("production", "realtime", "autoscaling", "min"), 3, "production.realtime.autoscaling"),
        (("production", "colour"), "blue", "production.colour"),
        (("production", "deployment", "canary", "size_percent"), 60, "canary.size_percent"),
        (("production", "deployment", "linear", "size_percent"), 5, "linear.size_percent"),
        (("development", "deployment", "linear", "size_percent"), 55, "linear.size_percent"),
    ],
)
def test_a_bad_setting_is_named(project: Project, path, value, message) -> None:
    broken = copy.deepcopy(document())
    node = broken
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    with pytest.raises(DeployConfigError, match=message.replace(".", r"\.")):
        parse_deploy_config(broken, project.scenario)


def test_production_serverless_fits_one_variant_only(project: Project) -> None:
    """SageMaker Serverless Inference has no second production variant (or shadow)."""
    serverless = copy.deepcopy(document())
    serverless["production"]["mode"] = "serverless"
    if project.scenario == "advanced":
        with pytest.raises(DeployConfigError, match=r"'production\.mode': serverless is not"):
            parse_deploy_config(serverless, project.scenario)
    else:
        settings = parse_deploy_config(serverless, project.scenario).settings
        assert settings["production"]["mode"] == "serverless"
