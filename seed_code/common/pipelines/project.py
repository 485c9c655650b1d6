"""The project this repository belongs to, read from ``project.json``.

The lifecycle Lambda writes ``project.json`` at the repository root when it
seeds the repository; ``project.schema.json`` next to it documents every key.
:func:`load_project` validates the file against that schema and checks what a
schema cannot say (the prefix matches the name and id, and each model group
has the name the platform gives it), so a broken file fails early with the
key named instead of deep inside a SageMaker call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines import naming, schema_check
from pipelines.errors import ProjectFileError

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILE = REPO_ROOT / "project.json"
SCHEMA_FILE = REPO_ROOT / "project.schema.json"

# Which model groups each scenario has, and which of them a push to ``prod``
# promotes into. Mirrors the platform's scenarios; project.json names the groups.
TRAINING_KINDS = ("feature", "dev")
PRODUCTION_KINDS: dict[str, tuple[str, ...]] = {
    "baseline": ("prod",),
    "advanced": ("champion", "challenger"),
}
# Stage (deploy/config.yaml) where an approved model of each group kind is deployed.
STAGE_OF_KIND: dict[str, str] = {
    "feature": "development",
    "dev": "development",
    "prod": "production",
    "champion": "production",
    "challenger": "production",
}
PROJECT_NAME_TAG = "sagemaker:project-name"
PROJECT_ID_TAG = "sagemaker:project-id"


@dataclass(frozen=True)
class Project:
    project_name: str
    project_id: str
    scenario: str
    registry: str
    region: str
    account_id: str
    bucket: str
    prefix: str
    model_groups: dict[str, str] = field(default_factory=dict)
    mlflow_tracking_uri: str | None = None

    @property
    def production_kinds(self) -> tuple[str, ...]:
        return PRODUCTION_KINDS[self.scenario]

    def model_group(self, kind: str) -> str:
        """Name of the group (or MLflow registered model) of ``kind``."""
        try:
            return self.model_groups[kind]
        except KeyError:
            raise ProjectFileError(
                f"project.json: model_groups has no {kind!r} group "
                f"(the {self.scenario} scenario has {', '.join(self.model_groups)})"
            ) from None

    def pipeline_name(self, kind: str) -> str:
        """One pipeline per training branch kind: ``<prefix>-feature`` and ``<prefix>-dev``."""
        return f"{self.prefix}-{kind}"

    def s3_uri(self, *parts: str) -> str:
        """``s3://<bucket>/<prefix>/<parts...>``: the project writes only under its prefix."""
        return "/".join([f"s3://{self.bucket}", self.prefix, *parts])

    def endpoint_name(self, stage: str) -> str:
        """The endpoint of ``development`` or ``production``, as the platform names it."""
        return naming.endpoint(self.project_name, self.project_id, stage)

    @property
    def training_project(self) -> str:
        """The CodeBuild project that runs this repository's builds."""
        return naming.training_project(self.project_name, self.project_id)

    @property
    def tags(self) -> list[dict[str, str]]:
        """The tags SageMaker Studio uses to show a resource under the project."""
        return [
            {"Key": PROJECT_NAME_TAG, "Value": self.project_name},
            {"Key": PROJECT_ID_TAG, "Value": self.project_id},
        ]


def load_project(path: Path | str = PROJECT_FILE) -> Project:
    """Read and validate ``project.json``; errors name the file and the key."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectFileError(
            f"{path} not found: the platform writes it at the repository root when it "
            "creates the project's repository; restore it from the first commit of prod"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ProjectFileError(f"{path}: not readable JSON: {exc}") from exc
    return parse_project(document, source=str(path))


def parse_project(document: Any, source: str = "project.json") -> Project:
    """Validate a parsed ``project.json`` document and build the :class:`Project`."""
    validate_document(document, load_schema(), source)
    expected_prefix = f"sagemaker-{document['project_name']}-{document['project_id']}"
    if document["prefix"] != expected_prefix:
        raise ProjectFileError(
            f"{source}: key 'prefix': {document['prefix']!r} must be {expected_prefix!r} "
            "(sagemaker-<project_name>-<project_id>)"
        )
    for kind, name in document["model_groups"].items():
        expected = naming.model_group(document["project_name"], document["project_id"], kind)
        if name != expected:
            raise ProjectFileError(
                f"{source}: key 'model_groups.{kind}': {name!r} is not this project's {kind} "
                f"group; the platform named it {expected!r}"
            )
    return Project(
        project_name=document["project_name"],
        project_id=document["project_id"],
        scenario=document["scenario"],
        registry=document["registry"],
        region=document["region"],
        account_id=document["account_id"],
        bucket=document["bucket"],
        prefix=document["prefix"],
        model_groups=dict(document["model_groups"]),
        mlflow_tracking_uri=document.get("mlflow_tracking_uri"),
    )


def load_schema() -> dict[str, Any]:
    return schema_check.load_schema(SCHEMA_FILE)


def validate_document(document: Any, schema: dict[str, Any], source: str) -> None:
    """Raise :class:`ProjectFileError` for the first (most relevant) schema violation."""
    violation = schema_check.first_violation(document, schema)
    if violation is not None:
        raise ProjectFileError(f"{source}: {violation}")
