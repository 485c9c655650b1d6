"""Model versions in the SageMaker Model Registry, as promotion sees them.

A :class:`ModelVersion` is one model package of a model package group (or,
with the MLflow flavour, one version of a registered model: see
pipelines/mlflow_registry.py). Both registries offer the same operations
(list a group, copy a version into another group, set a version's approval
status, delete a version), so promotion works the same for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from pipelines import lineage
from pipelines.errors import PromotionError

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"

# What a promoted copy keeps of its source: same artifacts, container, metrics and lineage.
COPIED_FIELDS = (
    "InferenceSpecification",
    "ModelMetrics",
    "MetadataProperties",
    "DriftCheckBaselines",
    "Domain",
    "Task",
    "SamplePayloadUrl",
    "AdditionalInferenceSpecifications",
    "SkipModelValidation",
    "SourceUri",
)


@dataclass(frozen=True)
class ModelVersion:
    ref: str  # SageMaker: the model package ARN; MLflow: "<registered model>/<version>"
    group: str
    version: int
    created: datetime
    approval_status: str
    commit: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def approved(self) -> bool:
        return self.approval_status == APPROVED

    @property
    def rejected(self) -> bool:
        return self.approval_status == REJECTED

    @property
    def promoted_from(self) -> str | None:
        return self.metadata.get(lineage.PROMOTED_FROM)


class ModelRegistry(Protocol):
    def list_versions(self, group: str) -> list[ModelVersion]: ...

    def copy(
        self,
        source: ModelVersion,
        target_group: str,
        metadata: dict[str, str],
        approval_status: str,
        description: str,
    ) -> str: ...

    def set_approval_status(self, ref: str, approval_status: str) -> None: ...

    def delete(self, ref: str) -> None: ...


class SageMakerModelRegistry:
    """Model package groups of the SageMaker Model Registry."""

    def __init__(self, client: SageMakerClient) -> None:
        self.client = client

    def list_versions(self, group: str) -> list[ModelVersion]:
        versions = []
        try:
            pages = self.client.get_paginator("list_model_packages").paginate(
                ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending"
            )
            for page in pages:
                for summary in page["ModelPackageSummaryList"]:
                    described = self.client.describe_model_package(
                        ModelPackageName=summary["ModelPackageArn"]
                    )
                    versions.append(self._version(group, dict(described)))
        except ClientError as exc:
            raise PromotionError(
                f"cannot list the model packages of {group}: {_reason(exc)}"
            ) from exc
        return versions

    def copy(
        self,
        source: ModelVersion,
        target_group: str,
        metadata: dict[str, str],
        approval_status: str,
        description: str,
    ) -> str:
        request = {key: source.details[key] for key in COPIED_FIELDS if key in source.details}
        try:
            response = self.client.create_model_package(
                ModelPackageGroupName=target_group,
                ModelPackageDescription=description,
                ModelApprovalStatus=approval_status,  # type: ignore[arg-type]
                CustomerMetadataProperties=metadata,
                **request,
            )
        except ClientError as exc:
            raise PromotionError(
                f"cannot copy {source.ref} into {target_group}: {_reason(exc)}"
            ) from exc
        return str(response["ModelPackageArn"])

    def set_approval_status(self, ref: str, approval_status: str) -> None:
        try:
            self.client.update_model_package(
                ModelPackageArn=ref,
                ModelApprovalStatus=approval_status,  # type: ignore[arg-type]
            )
        except ClientError as exc:
            raise PromotionError(
                f"cannot set the approval status of {ref} to {approval_status}: {_reason(exc)}"
            ) from exc

    def delete(self, ref: str) -> None:
        try:
            self.client.delete_model_package(ModelPackageName=ref)
        except ClientError as exc:
            raise PromotionError(f"cannot delete {ref}: {_reason(exc)}") from exc

    @staticmethod
    def _version(group: str, described: dict[str, Any]) -> ModelVersion:
        metadata = dict(described.get("CustomerMetadataProperties") or {})
        commit = (described.get("MetadataProperties") or {}).get("CommitId") or metadata.get(
            lineage.COMMIT_ID
        )
        return ModelVersion(
            ref=described["ModelPackageArn"],
            group=group,
            version=int(described.get("ModelPackageVersion") or 0),
            created=described["CreationTime"],
            approval_status=str(described.get("ModelApprovalStatus", PENDING)),
            commit=commit,
            metadata=metadata,
            details=described,
        )


def _reason(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Unknown')}: {details.get('Message', error)}"
