"""The two EventBridge events the deployment handlers take, parsed from their documented shapes.

"SageMaker Model Package State Change" (detail: ModelPackageGroupName,
ModelPackageArn, ModelPackageVersion, ModelApprovalStatus, UpdatedModelPackageFields,
...) and "SageMaker Endpoint State Change" (detail: EndpointName, EndpointConfigName,
EndpointStatus, FailureReason, Tags, ...). SageMaker spells endpoint states
``IN_SERVICE`` in events and ``InService`` in the API; both are accepted.

A model package event is sent whenever the package changes, each with its
current approval status: ``UpdatedModelPackageFields`` lists what the update
changed (``["CustomerMetadataProperties"]`` for a metadata edit of an approved
package). An event without that list is the package being registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lambda_project_lifecycle.deployments.errors import InvalidEventError
from lambda_project_lifecycle.triggers import ENDPOINT_DETAIL_TYPE, MODEL_PACKAGE_DETAIL_TYPE

ENDPOINT_STATES = (
    "OutOfService",
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "InService",
    "Deleting",
    "Failed",
    "UpdateRollbackFailed",
)
_STATE_BY_KEY = {state.upper(): state for state in ENDPOINT_STATES}


@dataclass(frozen=True)
class ArnParts:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, arn: str) -> ArnParts:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            raise InvalidEventError(f"{arn!r} is not an ARN")
        return cls(*parts[1:])


@dataclass(frozen=True)
class ModelPackageEvent:
    group_name: str
    package_arn: str
    version: int
    approval_status: str
    account: str
    region: str
    time: datetime
    package_account: str
    updated_fields: tuple[str, ...] | None = None  # None: the package was just registered

    @property
    def changes_approval(self) -> bool:
        """True for a registration, or an update that changed ModelApprovalStatus."""
        return not self.updated_fields or "ModelApprovalStatus" in self.updated_fields

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> ModelPackageEvent:
        _expect_detail_type(event, MODEL_PACKAGE_DETAIL_TYPE)
        detail = event.get("detail") or {}
        arn = _required(detail, "ModelPackageArn")
        parts = ArnParts.parse(arn)
        version = detail.get("ModelPackageVersion") or arn.rsplit("/", 1)[-1]
        try:
            number = int(version)
        except (TypeError, ValueError):
            raise InvalidEventError(f"ModelPackageVersion {version!r} is not a number") from None
        updated = detail.get("UpdatedModelPackageFields")
        if updated is not None and not isinstance(updated, list):
            raise InvalidEventError("UpdatedModelPackageFields is not a list")
        return cls(
            group_name=_required(detail, "ModelPackageGroupName"),
            package_arn=arn,
            version=number,
            approval_status=str(detail.get("ModelApprovalStatus", "")),
            account=str(event.get("account", "")),
            region=str(event.get("region", "")),
            time=parse_time(event.get("time")),
            package_account=parts.account,
            updated_fields=None if updated is None else tuple(str(f) for f in updated),
        )


@dataclass(frozen=True)
class EndpointEvent:
    endpoint_name: str
    status: str
    config_name: str
    failure_reason: str
    account: str
    region: str
    time: datetime

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> EndpointEvent:
        _expect_detail_type(event, ENDPOINT_DETAIL_TYPE)
        detail = event.get("detail") or {}
        return cls(
            endpoint_name=_required(detail, "EndpointName"),
            status=endpoint_state(_required(detail, "EndpointStatus")),
            config_name=str(detail.get("EndpointConfigName") or ""),
            failure_reason=str(detail.get("FailureReason") or ""),
            account=str(event.get("account", "")),
            region=str(event.get("region", "")),
            time=parse_time(event.get("time")),
        )


def endpoint_state(value: str) -> str:
    """``IN_SERVICE`` or ``InService`` -> ``InService``; unknown states are kept as given."""
    return _STATE_BY_KEY.get(value.replace("_", "").upper(), value)


def parse_time(value: Any) -> datetime:
    """An event time: ISO 8601 (``2021-02-24T17:00:14Z``) or epoch milliseconds."""
    if value in (None, ""):
        return datetime.now(UTC)
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEventError(f"event time {text!r} is not ISO 8601") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def invoked_account(context: Any) -> str:
    """The account the Lambda runs in, from its ARN in the context ('' when unknown)."""
    arn = getattr(context, "invoked_function_arn", "") or ""
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _expect_detail_type(event: Mapping[str, Any], detail_type: str) -> None:
    if event.get("source") != "aws.sagemaker" or event.get("detail-type") != detail_type:
        raise InvalidEventError(
            f"expected a {detail_type!r} event from aws.sagemaker, got "
            f"{event.get('detail-type')!r} from {event.get('source')!r}"
        )


def _required(detail: Mapping[str, Any], key: str) -> str:
    value = detail.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"the event's detail has no {key}")
    return value
