"""Where approved models come from: what approvals and rejections ask of a model registry.

A model is named by its reference (a model package ARN in the SageMaker Model
Registry) and belongs to a group (a model package group, one per group kind of the
project). The approval decisions ask the source, when they decide, whether a model
is still approved, and on a rejection which approved model of the group comes back.
"""

from __future__ import annotations

from typing import Protocol

from lambda_project_lifecycle.aws_calls import MISSING, call_unless, pages
from lambda_project_lifecycle.clients import AwsClients


class ModelSource(Protocol):
    def approval_status(self, model: str) -> str | None:
        """``Approved`` (or the model's other status) as the source has it now; None when
        the model is gone."""
        ...

    def previous_approved(self, group: str, excluding: set[str]) -> str:
        """The newest approved model of ``group`` not in ``excluding`` ('' if none)."""
        ...


class ModelRegistry:
    """The SageMaker Model Registry: models are model packages, groups their groups."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def approval_status(self, model: str) -> str | None:
        package = call_unless(
            MISSING,
            f"Describing model package {model}",
            self._clients.sagemaker.describe_model_package,
            ModelPackageName=model,
        )
        return None if package is None else str(package.get("ModelApprovalStatus", ""))

    def previous_approved(self, group: str, excluding: set[str]) -> str:
        """Newest first: the AWS samples list ascending and take the first, which is the
        oldest approved package, not the previous one."""
        for page in pages(
            f"Listing approved packages of {group}",
            self._clients.sagemaker.list_model_packages,
            ModelPackageGroupName=group,
            ModelApprovalStatus="Approved",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=100,
        ):
            for summary in page.get("ModelPackageSummaryList", []):
                if summary["ModelPackageArn"] not in excluding:
                    return str(summary["ModelPackageArn"])
        return ""
