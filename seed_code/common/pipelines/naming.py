"""The names the platform gives this project's resources, derived from ``project.json``.

Every name is ``sagemaker-<project name>-<project id>-<suffix>``; when that is
longer than the service allows, the platform cuts the *project name* part
short (never the id or the suffix) and drops a dash left at the cut. The same
rule here lets the repository check ``project.json``'s model groups and print
the exact endpoint and build names (``python -m pipelines.endpoints``).
"""

from __future__ import annotations

NAME_PREFIX = "sagemaker"
# Longest name each service accepts.
MODEL_GROUP_MAX = 63  # model package group (and the MLflow registered model of the same name)
ENDPOINT_MAX = 63
CODEBUILD_PROJECT_MAX = 255


def fit(project_name: str, project_id: str, suffix: str, max_length: int) -> str:
    """``sagemaker-<name>-<id>-<suffix>`` within ``max_length``, the name part cut if needed."""
    head = f"{NAME_PREFIX}-"
    tail = f"-{project_id}-{suffix}"
    room = max_length - len(head) - len(tail)
    return f"{head}{project_name[: max(room, 1)].rstrip('-')}{tail}"


def model_group(project_name: str, project_id: str, kind: str) -> str:
    return fit(project_name, project_id, kind, MODEL_GROUP_MAX)


def endpoint(project_name: str, project_id: str, stage: str) -> str:
    """``development`` or ``production``: one endpoint per stage."""
    return fit(project_name, project_id, stage, ENDPOINT_MAX)


def training_project(project_name: str, project_id: str) -> str:
    """The CodeBuild project that runs this repository's builds."""
    return fit(project_name, project_id, "training", CODEBUILD_PROJECT_MAX)
