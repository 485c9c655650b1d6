"""Versions of MLflow registered models, as promotion sees them (the MLflow flavour).

Lineage lives in model-version tags (the keys of pipelines/lineage.py). A
version counts as approved when its ``approval_status`` tag is ``Approved`` or
it carries the alias ``approved`` (:data:`DEPLOY_ALIAS`: the platform's MLflow
sync deploys the version that alias names to the group's stage), as rejected
when the tag is ``Rejected``. Other aliases are the team's own and mean nothing
here. Aliases are read from the registered model: ``search_model_versions`` may
return versions without them (the SQL store behind an MLflow server always does).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pipelines import lineage
from pipelines.errors import PromotionError
from pipelines.model_registry import APPROVED, PENDING, ModelVersion

if TYPE_CHECKING:
    from mlflow import MlflowClient

APPROVAL_STATUS_TAG = "approval_status"
# The alias that deploys (the platform's lambda_project_lifecycle.deployments.mlflow_models).
DEPLOY_ALIAS = "approved"


class MlflowModelRegistry:
    def __init__(self, client: MlflowClient) -> None:
        self.client = client

    def list_versions(self, group: str) -> list[ModelVersion]:
        from mlflow.exceptions import MlflowException

        try:
            found = self.client.search_model_versions(f"name = '{group}'")
        except MlflowException as exc:
            raise PromotionError(
                f"cannot list the versions of MLflow model {group}: {exc}"
            ) from exc
        aliased = self._aliased_versions(group) if found else set()
        versions = [self._version(group, v, aliased) for v in found]
        return sorted(versions, key=lambda v: v.version, reverse=True)

    def _aliased_versions(self, group: str) -> set[int]:
        """The versions of ``group`` that carry the alias :data:`DEPLOY_ALIAS`."""
        from mlflow.exceptions import MlflowException

        try:
            aliases = self.client.get_registered_model(group).aliases or {}
        except MlflowException as exc:
            raise PromotionError(f"cannot read the aliases of MLflow model {group}: {exc}") from exc
        version = dict(aliases).get(DEPLOY_ALIAS)
        return {int(version)} if version is not None else set()

    def copy(
        self,
        source: ModelVersion,
        target_group: str,
        metadata: dict[str, str],
        approval_status: str,
        description: str,
    ) -> str:
        from mlflow.exceptions import MlflowException

        try:
            copied = self.client.copy_model_version(
                src_model_uri=f"models:/{source.group}/{source.version}", dst_name=target_group
            )
            self.client.update_model_version(target_group, copied.version, description=description)
            for key, value in {**metadata, APPROVAL_STATUS_TAG: approval_status}.items():
                self.client.set_model_version_tag(target_group, copied.version, key, value)
        except MlflowException as exc:
            raise PromotionError(
                f"cannot copy {source.ref} into MLflow model {target_group}: {exc}"
            ) from exc
        return f"{target_group}/{copied.version}"

    def set_approval_status(self, ref: str, approval_status: str) -> None:
        from mlflow.exceptions import MlflowException

        name, _, version = ref.rpartition("/")
        try:
            self.client.set_model_version_tag(name, version, APPROVAL_STATUS_TAG, approval_status)
        except MlflowException as exc:
            raise PromotionError(
                f"cannot set the approval status of MLflow model version {ref}: {exc}"
            ) from exc

    def delete(self, ref: str) -> None:
        from mlflow.exceptions import MlflowException

        name, _, version = ref.rpartition("/")
        try:
            self.client.delete_model_version(name, version)
        except MlflowException as exc:
            raise PromotionError(f"cannot delete MLflow model version {ref}: {exc}") from exc

    @staticmethod
    def _version(group: str, found: Any, aliased: set[int]) -> ModelVersion:
        tags = {str(k): str(v) for k, v in (found.tags or {}).items()}
        status = tags.get(APPROVAL_STATUS_TAG, PENDING)
        has_alias = DEPLOY_ALIAS in (getattr(found, "aliases", None) or ()) or (
            int(found.version) in aliased
        )
        if has_alias and status == PENDING:
            status = APPROVED
        metadata = {k: v for k, v in tags.items() if k != APPROVAL_STATUS_TAG}
        return ModelVersion(
            ref=f"{group}/{found.version}",
            group=group,
            version=int(found.version),
            created=datetime.fromtimestamp(int(found.creation_timestamp) / 1000, tz=UTC),
            approval_status=status,
            commit=tags.get(lineage.COMMIT_ID),
            metadata=metadata,
        )
