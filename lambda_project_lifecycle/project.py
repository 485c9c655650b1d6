"""A project as the product template describes it to the lifecycle Lambda."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambda_project_lifecycle.custom_resource import json_kind
from lambda_project_lifecycle.errors import InvalidProjectError
from lambda_project_lifecycle.naming import ProjectNames, validate_project_identity
from lambda_project_lifecycle.resource_properties import (
    MLFLOW_TRACKING_URI_PROPERTY,
    REPOSITORY_PROPERTIES,
)
from lambda_project_lifecycle.scenarios import (
    DEFAULT_ON_DELETE,
    ON_DELETE_CHOICES,
    REGISTRIES,
    SCENARIOS,
    Scenario,
)

# Properties that cannot change once the project exists: changing them would
# mean a different project, which CloudFormation would have to replace.
IMMUTABLE_PROPERTIES = ("ProjectName", "ProjectId", "Scenario", "Registry")
# Every property the product templates give: parameters and literals, which CloudFormation
# sends as strings.
TEXT_PROPERTIES = (
    *IMMUTABLE_PROPERTIES,
    "OnDelete",
    "PortfolioVersion",
    *REPOSITORY_PROPERTIES,
    MLFLOW_TRACKING_URI_PROPERTY,
)


@dataclass(frozen=True)
class ProjectSpec:
    project_name: str
    project_id: str
    scenario: Scenario
    registry: str
    on_delete: str

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> ProjectSpec:
        """Parse the custom resource's properties; errors name the property and the rule."""
        check_property_types(properties)
        name = properties.get("ProjectName")
        project_id = properties.get("ProjectId")
        validate_project_identity(name, project_id)  # type: ignore[arg-type]
        scenario = _choice(properties, "Scenario", tuple(SCENARIOS))
        registry = _choice(properties, "Registry", REGISTRIES)
        on_delete = _choice(properties, "OnDelete", ON_DELETE_CHOICES, DEFAULT_ON_DELETE)
        return cls(
            project_name=str(name),
            project_id=str(project_id),
            scenario=SCENARIOS[scenario],
            registry=registry,
            on_delete=on_delete,
        )

    @property
    def names(self) -> ProjectNames:
        return ProjectNames(self.project_name, self.project_id)

    @property
    def physical_resource_id(self) -> str:
        """Stable for the life of the project, so CloudFormation never replaces it."""
        return self.names.prefix

    @property
    def model_group_names(self) -> dict[str, str]:
        """Group kind -> group name; empty for the mlflow flavour (MLflow holds the models)."""
        if self.registry != "sagemaker":
            return {}
        return {
            kind: self.names.model_package_group(kind) for kind in self.scenario.model_group_kinds
        }

    @property
    def registered_model_names(self) -> dict[str, str]:
        """Group kind -> MLflow registered model; the mlflow flavour's only (the seed registers
        each group's versions under the group's name)."""
        if self.registry != "mlflow":
            return {}
        return {
            kind: self.names.model_package_group(kind) for kind in self.scenario.model_group_kinds
        }

    @property
    def tags(self) -> list[dict[str, str]]:
        return self.names.tags()


def check_property_types(properties: Mapping[str, Any]) -> None:
    """Every property the templates give is a string; name each one that is not."""
    wrong = [
        f"{key} must be a string, not {json_kind(properties[key])}"
        for key in TEXT_PROPERTIES
        if properties.get(key) is not None and not isinstance(properties[key], str)
    ]
    if wrong:
        raise InvalidProjectError("; ".join(wrong))


def _choice(
    properties: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str | None = None
) -> str:
    value = properties.get(key, default)
    if value not in allowed:
        raise InvalidProjectError(f"{key} must be one of {', '.join(allowed)} (got {value!r})")
    return str(value)


def changed_immutable_properties(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    return [key for key in IMMUTABLE_PROPERTIES if old.get(key) != new.get(key)]
