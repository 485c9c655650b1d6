"""SageMaker's model registry on the emulator: state-change events, updates that keep lineage,
and deletion.

moto stores model packages but emits nothing, and its UpdateModelPackage
replaces what the request leaves out (CustomerMetadataProperties become None:
the lineage is lost on approval). :class:`ModelRegistry` plays SageMaker:

- UpdateModelPackage changes only what the request names: customer metadata
  is merged (and ``CustomerMetadataPropertiesToRemove`` removed), an absent
  approval status or description is kept;
- CreateModelPackage and UpdateModelPackage emit "SageMaker Model Package State
  Change" with the package as DescribeModelPackage shows it (an update also
  with ``UpdatedModelPackageFields``);
- DeleteModelPackage and DeleteModelPackageGroup (not in moto) delete, with
  SageMaker's refusal of a group that still holds packages.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from moto.sagemaker.exceptions import ValidationError

from sandbox.emulator import AwsError, Call, Emulator
from sandbox.emulator_gaps import delete_model_package, delete_model_package_group
from sandbox.event_delivery import EventBus

DETAIL_TYPE = "SageMaker Model Package State Change"
# What an UpdateModelPackage request may change: the fields its event reports as updated.
UPDATABLE_FIELDS = (
    "ModelApprovalStatus",
    "ApprovalDescription",
    "CustomerMetadataProperties",
    "CustomerMetadataPropertiesToRemove",
    "AdditionalInferenceSpecificationsToAdd",
    "InferenceSpecification",
    "ModelCard",
    "SourceUri",
)


class ModelRegistry:
    """The model-package gaps of moto's SageMaker; events go to ``events``."""

    def __init__(self, emulator: Emulator, events: EventBus | None = None) -> None:
        self._emulator = emulator
        self._events = events
        self._requested: dict[int, list[str]] = {}
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        emulator.before(
            "sagemaker",
            "UpdateModelPackage",
            "moto replaces what the request leaves out (lineage lost on approval): merged",
        )(self._merge_update)
        emulator.after(
            "sagemaker",
            "UpdateModelPackage",
            "no Model Package State Change from moto: emitted after the update",
        )(self._updated)
        emulator.after(
            "sagemaker",
            "CreateModelPackage",
            "no Model Package State Change from moto: emitted after the creation",
        )(self._created)
        emulator.answer(
            "sagemaker", "DeleteModelPackage", "not in moto: deleted from moto's state"
        )(self._delete_package)
        emulator.answer(
            "sagemaker",
            "DeleteModelPackageGroup",
            "not in moto: deleted, ConflictException while it holds packages",
        )(self._delete_group)

    # -- updates ----------------------------------------------------------------------------

    def _merge_update(self, call: Call) -> dict[str, Any]:
        params = dict(call.params)
        with self._lock:
            self._requested[id(call)] = [f for f in UPDATABLE_FIELDS if f in params]
        try:
            package = call.backend().describe_model_package(params["ModelPackageArn"])
        except ValidationError:  # no such package: moto answers as SageMaker does
            return params
        merged = dict(package.customer_metadata_properties or {})
        merged.update(params.get("CustomerMetadataProperties") or {})
        for key in params.get("CustomerMetadataPropertiesToRemove") or []:
            merged.pop(key, None)
        params.pop("CustomerMetadataPropertiesToRemove", None)
        params["CustomerMetadataProperties"] = merged
        params.setdefault("ModelApprovalStatus", package.model_approval_status)
        if package.approval_description is not None:
            params.setdefault("ApprovalDescription", package.approval_description)
        return params

    def _updated(self, call: Call, answer: dict[str, Any]) -> None:
        with self._lock:
            fields = self._requested.pop(id(call), [])
        self._emit(call, answer["ModelPackageArn"], fields)

    def _created(self, call: Call, answer: dict[str, Any]) -> None:
        self._emit(call, answer["ModelPackageArn"], None)

    # -- deletion ----------------------------------------------------------------------------

    def _delete_package(self, call: Call) -> dict[str, Any]:
        refused = delete_model_package(call.backend(), call.params["ModelPackageName"])
        if refused is not None:
            raise AwsError(*refused)
        return {}

    def _delete_group(self, call: Call) -> dict[str, Any]:
        refused = delete_model_package_group(call.backend(), call.params["ModelPackageGroupName"])
        if refused is not None:
            raise AwsError(*refused)
        return {}

    # -- events ------------------------------------------------------------------------------

    def _emit(self, call: Call, arn: str, updated: list[str] | None) -> None:
        if self._events is None:
            return
        described = self._sagemaker(call.region).describe_model_package(ModelPackageName=arn)
        described.pop("ResponseMetadata", None)
        detail = {key: _event_value(value) for key, value in described.items()}
        if updated is not None:
            detail["UpdatedModelPackageFields"] = [
                f.removesuffix("ToRemove").removesuffix("ToAdd") for f in updated
            ]
        self._events.emit(
            source="aws.sagemaker",
            detail_type=DETAIL_TYPE,
            detail=detail,
            resources=[arn],
            region=call.region,
            account_id=call.account_id,
        )

    def _sagemaker(self, region: str) -> Any:
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                client = self._clients[region] = self._emulator.client("sagemaker", region)
            return client


def _event_value(value: Any) -> Any:
    """JSON as events carry it: times as ``2026-11-22T09:58:41Z``."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dict):
        return {key: _event_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_event_value(item) for item in value]
    return value
