"""A stage endpoint's registry record: ``endpoint#<endpoint name>`` in the project registry.

It holds what the handlers *want* the endpoint to serve (``desired``: variant ->
model package), what they last *asked* SageMaker for (``applied_config`` and
``applied``), whether a change waits for the endpoint to be free (``pending``),
the packages rejected while it existed (``rejected``: package ARN -> event time,
so that an approval handled at the same moment cannot deploy them), whether its
project was deleted while SageMaker was still busy with it (``project_deleted``),
what the reaper removed (``reaped``: variant -> the versions it served, which the
MLflow reconcile does not bring back), and the result of the last deployment.
Writes are conditional on ``revision``, so two handlers changing the same endpoint
at once never lose each other's change: the loser re-reads and decides again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.deployments.errors import DeploymentError, RecordConflictError
from lambda_project_lifecycle.naming import ProjectNames

# Deployment states the record moves through.
DEPLOYING = "Deploying"  # a create/update was started; the next InService tests it
PENDING = "Pending"  # the endpoint was busy; the next InService/Failed event applies it
IN_SERVICE = "InService"  # deployed and its integration tests passed
TESTS_FAILED = "TestsFailed"
FAILED = "Failed"
ROLLED_BACK = "RolledBack"  # SageMaker rolled the update back (alarm or failure)
WAITING = "Waiting"  # nothing to serve yet (a challenger without a champion)
REMOVED = "Removed"
DELETE_PENDING = "DeletePending"  # the project is deleted; the endpoint goes once it is free

# Rejections remembered per endpoint (the newest are kept).
MAX_REJECTED = 20
# How often a change is applied again when another handler wrote the record first.
SAVE_ATTEMPTS = 4


# Versions remembered per variant of an MLflow endpoint, to roll back to (newest last).
MAX_HISTORY = 10


@dataclass
class VariantState:
    """One variant of the endpoint: the exact model it serves.

    ``model_package_arn`` names the model: a model package ARN, or for the MLflow flavour
    ``mlflow:<registered model>/<version>``. An MLflow model also carries the SageMaker
    container that serves it (``container``: Image, ModelDataUrl, Environment) and the
    tags the endpoint gets for it (``labels``: model name, version, run id, lineage).
    ``rolled_back_from``: set when it serves because an alias left that version, not
    because an alias names it (the reconcile leaves such a roll-back as it is).
    """

    group_kind: str
    model_package_arn: str
    event_time: str  # ISO 8601 of the registry event that chose this package
    container: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    rolled_back_from: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "GroupKind": self.group_kind,
            "ModelPackageArn": self.model_package_arn,
            "EventTime": self.event_time,
        }
        if self.container:
            data["Container"] = self.container
        if self.labels:
            data["Labels"] = self.labels
        if self.rolled_back_from:
            data["RolledBackFrom"] = self.rolled_back_from
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VariantState:
        return cls(
            str(data["GroupKind"]),
            str(data["ModelPackageArn"]),
            str(data["EventTime"]),
            _plain(dict(data.get("Container", {}))),
            {str(k): str(v) for k, v in data.get("Labels", {}).items()},
            str(data.get("RolledBackFrom", "")),
        )


@dataclass
class EndpointRecord:
    endpoint_name: str
    project_id: str
    project_name: str
    stage: str
    desired: dict[str, VariantState] = field(default_factory=dict)
    applied_config: str = ""
    applied: dict[str, VariantState] = field(default_factory=dict)
    status: str = WAITING
    pending: bool = False
    autoscaling: dict[str, dict[str, int]] = field(default_factory=dict)
    deployment_id: str = ""
    expires_at: str = ""
    last_result: dict[str, Any] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)
    project_deleted: bool = False
    previous_autoscaling: dict[str, dict[str, int]] = field(default_factory=dict)
    model_role_arn: str = ""
    history: dict[str, list[VariantState]] = field(default_factory=dict)
    reaped: dict[str, list[str]] = field(default_factory=dict)
    updated_at: str = ""
    revision: int = 0

    def mark_reaped(self) -> None:
        """The reaper deleted the endpoint: nothing is served any more, and each variant
        remembers the newest version of each model it served (what it served last and
        what it had replaced), so that the reconcile does not deploy them again."""
        for variant, state in self.desired.items():
            newest: dict[str, str] = {}
            for served in [*self.history.get(variant, []), state]:
                newest[served.group_kind] = served.model_package_arn
            self.reaped[variant] = sorted(newest.values())
        self.desired, self.applied, self.applied_config = {}, {}, ""
        self.autoscaling, self.previous_autoscaling = {}, {}
        self.pending, self.status, self.expires_at = False, REMOVED, ""

    def remember_replaced(self, variant: str) -> None:
        """Keep what ``variant`` serves now in its history (MLflow roll-backs read it)."""
        current = self.desired.get(variant)
        if current is None:
            return
        kept = [
            s
            for s in self.history.get(variant, [])
            if s.model_package_arn != current.model_package_arn
        ]
        self.history[variant] = [*kept, current][-MAX_HISTORY:]

    def remember_rejection(self, model_package_arn: str, when: str) -> None:
        """Keep the rejection (the later time if known already), newest ``MAX_REJECTED``."""
        known = self.rejected.get(model_package_arn)
        if known is None or datetime.fromisoformat(when) > datetime.fromisoformat(known):
            self.rejected[model_package_arn] = when
        newest = sorted(
            self.rejected.items(), key=lambda item: datetime.fromisoformat(item[1]), reverse=True
        )
        self.rejected = dict(newest[:MAX_REJECTED])

    @property
    def key(self) -> str:
        return project_registry.endpoint_key(self.endpoint_name)

    def to_item(self) -> dict[str, Any]:
        return {
            "pk": self.key,
            "EndpointName": self.endpoint_name,
            "ProjectId": self.project_id,
            "ProjectName": self.project_name,
            "Stage": self.stage,
            "Desired": {name: state.to_dict() for name, state in self.desired.items()},
            "AppliedConfig": self.applied_config,
            "Applied": {name: state.to_dict() for name, state in self.applied.items()},
            "Status": self.status,
            "Pending": self.pending,
            "Autoscaling": self.autoscaling,
            "DeploymentId": self.deployment_id,
            "ExpiresAt": self.expires_at,
            "LastResult": _storable(self.last_result),
            "Rejected": self.rejected,
            "ProjectDeleted": self.project_deleted,
            "PreviousAutoscaling": self.previous_autoscaling,
            "ModelRoleArn": self.model_role_arn,
            "History": {
                name: [state.to_dict() for state in states] for name, states in self.history.items()
            },
            "Reaped": self.reaped,
            "UpdatedAt": self.updated_at,
            "Revision": self.revision,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> EndpointRecord:
        return cls(
            endpoint_name=str(item["EndpointName"]),
            project_id=str(item["ProjectId"]),
            project_name=str(item["ProjectName"]),
            stage=str(item["Stage"]),
            desired={
                name: VariantState.from_dict(state)
                for name, state in item.get("Desired", {}).items()
            },
            applied_config=str(item.get("AppliedConfig", "")),
            applied={
                name: VariantState.from_dict(state)
                for name, state in item.get("Applied", {}).items()
            },
            status=str(item.get("Status", WAITING)),
            pending=bool(item.get("Pending", False)),
            autoscaling={
                variant: {key: int(value) for key, value in scaling.items()}
                for variant, scaling in item.get("Autoscaling", {}).items()
            },
            deployment_id=str(item.get("DeploymentId", "")),
            expires_at=str(item.get("ExpiresAt", "")),
            last_result=_plain(item.get("LastResult", {})),
            rejected={str(arn): str(when) for arn, when in item.get("Rejected", {}).items()},
            project_deleted=bool(item.get("ProjectDeleted", False)),
            previous_autoscaling={
                variant: {key: int(value) for key, value in scaling.items()}
                for variant, scaling in item.get("PreviousAutoscaling", {}).items()
            },
            model_role_arn=str(item.get("ModelRoleArn", "")),
            history={
                name: [VariantState.from_dict(state) for state in states]
                for name, states in item.get("History", {}).items()
            },
            reaped={
                str(variant): [str(ref) for ref in refs]
                for variant, refs in item.get("Reaped", {}).items()
            },
            updated_at=str(item.get("UpdatedAt", "")),
            revision=int(item.get("Revision", 0)),
        )


def load(dynamodb: Any, table: str, endpoint_name: str) -> EndpointRecord | None:
    item = project_registry.load_record(
        dynamodb, table, project_registry.endpoint_key(endpoint_name)
    )
    return EndpointRecord.from_item(item) if item else None


def load_or_new(dynamodb: Any, table: str, names: ProjectNames, stage: str) -> EndpointRecord:
    """The stage's record, or a new one (not saved yet) when there is none."""
    name = names.endpoint(stage)
    return load(dynamodb, table, name) or EndpointRecord(
        name, names.project_id, names.project_name, stage
    )


def update(
    dynamodb: Any,
    table: str,
    names: ProjectNames,
    stage: str,
    change: Callable[[EndpointRecord], None],
    *,
    now: Callable[[], datetime],
    then: str = "giving up",
) -> EndpointRecord:
    """Apply ``change`` to the stage's record (made if absent) and save it; returns it as saved.

    When another handler wrote the record first, it is read again and ``change``
    applied again, up to :data:`SAVE_ATTEMPTS` times; then :class:`DeploymentError`
    says so and ``then``.
    """
    for _ in range(SAVE_ATTEMPTS):
        record = load_or_new(dynamodb, table, names, stage)
        change(record)
        try:
            save(dynamodb, table, record, now=now())
        except RecordConflictError:
            continue
        return record
    raise DeploymentError(f"the registry record of {names.endpoint(stage)} kept changing; {then}")


def save(dynamodb: Any, table: str, record: EndpointRecord, *, now: datetime | None = None) -> None:
    """Write ``record`` if nobody else wrote it since it was read; bumps its revision.

    Raises :class:`RecordConflictError` when another handler got there first.
    """
    expected = record.revision
    record.revision = expected + 1
    record.updated_at = (now or datetime.now(UTC)).isoformat()
    condition = (
        {"expression": "attribute_not_exists(pk)"}
        if expected == 0
        else {
            "expression": "#revision = :revision",
            "names": {"#revision": "Revision"},
            "values": {":revision": expected},
        }
    )
    try:
        project_registry.put_record(dynamodb, table, record.to_item(), condition=condition)
    except ClientError as exc:
        record.revision = expected
        raise RecordConflictError(
            f"{record.key} changed while this deployment was decided; retrying"
        ) from exc


def keep_as_reaped(
    dynamodb: Any, table: str, names: ProjectNames, stage: str, *, now: datetime
) -> None:
    """The reaper deleted the stage's endpoint: its record stays as the mark of what was
    removed (:meth:`EndpointRecord.mark_reaped`); none is made where there was none."""
    if load(dynamodb, table, names.endpoint(stage)) is None:
        return
    update(
        dynamodb,
        table,
        names,
        stage,
        EndpointRecord.mark_reaped,
        now=lambda: now,
        then="the reaper tries again on its next run",
    )


def delete(dynamodb: Any, table: str, endpoint_name: str) -> None:
    project_registry.delete_record(dynamodb, table, project_registry.endpoint_key(endpoint_name))


def _storable(value: Any) -> Any:
    """DynamoDB takes no float: store them as Decimal."""
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, float):
        return Decimal(str(value))
    return value


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; turn them into int or float for JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
