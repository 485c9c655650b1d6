"""The project's model package groups in the SageMaker Model Registry.

A group counts as the project's only when it carries the project's
``sagemaker:project-id`` tag: groups of the same name that belong to someone
else are never changed or deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from lambda_project_lifecycle.aws_calls import call, pages
from lambda_project_lifecycle.custom_resource import Checkpoint, no_checkpoint
from lambda_project_lifecycle.errors import AwsCallError, ProjectConflictError
from lambda_project_lifecycle.naming import PROJECT_ID_TAG
from lambda_project_lifecycle.project import ProjectSpec
from lambda_project_lifecycle.scenarios import MODEL_GROUP_DESCRIPTIONS

logger = logging.getLogger(__name__)


@dataclass
class Removal:
    """What removing a project's groups did: groups deleted and groups kept with their size."""

    deleted: list[str] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)
    packages_deleted: int = 0


def ensure_model_groups(
    spec: ProjectSpec,
    sagemaker: Any,
    *,
    checkpoint: Checkpoint = no_checkpoint,
    made: list[str] | None = None,
) -> dict[str, str]:
    """Create the project's missing groups and re-tag the existing ones; never deletes.

    Safe to run again: groups made by an earlier attempt are found and kept.
    ``checkpoint`` runs before each change; the names of the groups this call
    made are appended to ``made``. Returns group kind -> group name.
    """
    wanted = spec.model_group_names
    if not wanted:
        return wanted
    existing = _existing_groups(spec, sagemaker)
    for kind, name in wanted.items():
        arn = existing.get(name)
        if arn is None:
            checkpoint(f"creating model package group {name}")
            call(
                f"Creating model package group {name}",
                sagemaker.create_model_package_group,
                ModelPackageGroupName=name,
                ModelPackageGroupDescription=_description(spec, kind),
                Tags=spec.tags,
            )
            logger.info("Created model package group %s", name)
            if made is not None:
                made.append(name)
            continue
        tags = _tags_of(sagemaker, name, arn)
        if tags.get(PROJECT_ID_TAG) != spec.project_id:
            raise ProjectConflictError(
                f"Model package group {name} already exists and does not carry "
                f"{PROJECT_ID_TAG}={spec.project_id}; it was left untouched"
            )
        missing = [tag for tag in spec.tags if tags.get(tag["Key"]) != tag["Value"]]
        if missing:
            checkpoint(f"tagging model package group {name}")
            call(
                f"Tagging model package group {name}",
                sagemaker.add_tags,
                ResourceArn=arn,
                Tags=missing,
            )
    return wanted


def remove_model_groups(
    spec: ProjectSpec,
    sagemaker: Any,
    *,
    delete_packages: bool,
    checkpoint: Checkpoint = no_checkpoint,
    only: list[str] | None = None,
) -> Removal:
    """Delete the project's groups (or those of them in ``only``): with their packages, or
    only the empty ones. ``checkpoint`` runs before each group is changed."""
    removal = Removal()
    wanted = set(spec.model_group_names.values())
    if only is not None:
        wanted &= set(only)
    if not wanted:
        return removal
    for name, arn in sorted(_existing_groups(spec, sagemaker).items()):
        if name not in wanted:
            continue
        try:
            _remove_group(spec, sagemaker, name, arn, removal, delete_packages, checkpoint)
        except AwsCallError:
            # Deleted meanwhile by someone else (the undo of a Create answered while it ran,
            # a second Delete): gone is what this Delete wanted.
            if name in _existing_groups(spec, sagemaker):
                raise
            logger.info("Model package group %s was deleted meanwhile", name)
    return removal


def _remove_group(
    spec: ProjectSpec,
    sagemaker: Any,
    name: str,
    arn: str,
    removal: Removal,
    delete_packages: bool,
    checkpoint: Checkpoint,
) -> None:
    if _tags_of(sagemaker, name, arn).get(PROJECT_ID_TAG) != spec.project_id:
        logger.warning("Leaving model package group %s: it is not this project's", name)
        return
    packages = _package_arns(sagemaker, name)
    if packages and not delete_packages:
        logger.info("Keeping model package group %s: it holds %d packages", name, len(packages))
        removal.kept[name] = len(packages)
        return
    checkpoint(f"deleting model package group {name}")
    for package_arn in packages:
        call(
            f"Deleting model package {package_arn}",
            sagemaker.delete_model_package,
            ModelPackageName=package_arn,
        )
        removal.packages_deleted += 1
    call(
        f"Deleting model package group {name}",
        sagemaker.delete_model_package_group,
        ModelPackageGroupName=name,
    )
    removal.deleted.append(name)


def _description(spec: ProjectSpec, kind: str) -> str:
    return f"{MODEL_GROUP_DESCRIPTIONS[kind]} Project {spec.project_name} ({spec.project_id})."


def _existing_groups(spec: ProjectSpec, sagemaker: Any) -> dict[str, str]:
    """Name -> ARN of the groups whose name contains the project id."""
    groups: dict[str, str] = {}
    for page in pages(
        "Listing model package groups",
        sagemaker.list_model_package_groups,
        NameContains=spec.project_id,
        MaxResults=100,
    ):
        for summary in page.get("ModelPackageGroupSummaryList", []):
            groups[summary["ModelPackageGroupName"]] = summary["ModelPackageGroupArn"]
    return groups


def _tags_of(sagemaker: Any, name: str, arn: str) -> dict[str, str]:
    reply = call(
        f"Reading tags of model package group {name}", sagemaker.list_tags, ResourceArn=arn
    )
    return {tag["Key"]: tag["Value"] for tag in reply.get("Tags", [])}


def _package_arns(sagemaker: Any, group_name: str) -> list[str]:
    arns: list[str] = []
    for page in pages(
        f"Listing model packages of {group_name}",
        sagemaker.list_model_packages,
        ModelPackageGroupName=group_name,
        MaxResults=100,
    ):
        arns.extend(item["ModelPackageArn"] for item in page.get("ModelPackageSummaryList", []))
    return arns
