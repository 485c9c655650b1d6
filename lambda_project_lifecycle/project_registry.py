"""The project registry: one DynamoDB table shared by all projects.

Records, keyed by ``pk``:

* ``project#<project id>``: the project's settings (name, scenario, registry
  flavour, delete choice, model groups, stack), the properties that may not
  change as the last successful request accepted them, and its timestamps;
* ``model-group#<group name>``: which project and stage a model package group
  belongs to, so that handlers driven by registry events find the project
  with one read;
* ``repository#<repository key>``: which project a repository belongs to, its
  provider and clone URL, and the project's training (CodeBuild) project, so
  that the training trigger routes a push with one read. The key is the
  repository name for CodeCommit (as its events name it),
  ``<provider>/<owner>/<name>`` for hosted providers and the URL for plain git;
* ``endpoint#<endpoint name>``: a stage's endpoint as the deployment handlers
  want it (the package of each variant), what they last asked SageMaker for,
  and the result of the last deployment (see ``deployments.records``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from lambda_project_lifecycle import __version__
from lambda_project_lifecycle.aws_calls import call, call_unless
from lambda_project_lifecycle.errors import AwsCallError, error_code
from lambda_project_lifecycle.project import ProjectSpec
from lambda_project_lifecycle.scenarios import STAGE_OF_GROUP

# What DynamoDB answers when a write's condition does not hold.
# The project's own model role (its product template made one), read by the deployments.
MODEL_ROLE_RECORD_KEY = "ModelRoleArn"
CONDITION_FAILED = frozenset({"ConditionalCheckFailedException"})

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def project_key(project_id: str) -> str:
    return f"project#{project_id}"


def model_group_key(group_name: str) -> str:
    return f"model-group#{group_name}"


def repository_key(key: str) -> str:
    return f"repository#{key}"


def endpoint_key(endpoint_name: str) -> str:
    return f"endpoint#{endpoint_name}"


def save_project(
    dynamodb: Any,
    table: str,
    spec: ProjectSpec,
    *,
    stack_id: str,
    properties: dict[str, str] | None = None,
    mlflow_tracking_uri: str = "",
    model_role_arn: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Write the project's record and its group records in one transaction.

    Keeps ``CreatedAt`` of an existing record, so an Update or a retried Create
    does not rewrite history. ``properties`` are the custom resource's properties
    that may not change, as this request accepted them; ``mlflow_tracking_uri`` is the
    MLflow flavour's tracking server (as project.json names it); ``model_role_arn`` the
    project's own model role, if it has one. Returns the project record.
    """
    timestamp = (now or datetime.now(UTC)).isoformat()
    existing = load_project(dynamodb, table, spec.project_id)
    groups = spec.model_group_names
    record = {
        "pk": project_key(spec.project_id),
        "ProjectName": spec.project_name,
        "ProjectId": spec.project_id,
        "Scenario": spec.scenario.name,
        "Registry": spec.registry,
        "OnDelete": spec.on_delete,
        "ModelGroups": groups,
        "StackId": stack_id,
        "PortfolioVersion": __version__,
        "CreatedAt": existing["CreatedAt"] if existing else timestamp,
        "UpdatedAt": timestamp,
    }
    if properties is not None:
        record["Properties"] = properties
    if mlflow_tracking_uri:
        record["MlflowTrackingUri"] = mlflow_tracking_uri
    if model_role_arn:
        record[MODEL_ROLE_RECORD_KEY] = model_role_arn
    items = [record] + [
        {
            "pk": model_group_key(name),
            "ProjectId": spec.project_id,
            "ProjectName": spec.project_name,
            "GroupKind": kind,
            "Stage": STAGE_OF_GROUP[kind],
        }
        for kind, name in groups.items()
    ]
    _transact(
        dynamodb,
        f"Writing project {spec.project_id} to the registry table {table}",
        [{"Put": {"TableName": table, "Item": _to_item(item)}} for item in items],
    )
    return record


def load_project(dynamodb: Any, table: str, project_id: str) -> dict[str, Any] | None:
    return load_record(dynamodb, table, project_key(project_id))


def remove_project(dynamodb: Any, table: str, spec: ProjectSpec) -> None:
    """Delete the project's records; records already gone are fine."""
    keys = [project_key(spec.project_id)] + [
        model_group_key(name) for name in spec.model_group_names.values()
    ]
    _transact(
        dynamodb,
        f"Removing project {spec.project_id} from the registry table {table}",
        [{"Delete": {"TableName": table, "Key": _to_item({"pk": key})}} for key in keys],
    )


def mark_project_deleting(
    dynamodb: Any, table: str, project_id: str, *, now: datetime | None = None
) -> bool:
    """Flag ``project#<id>`` as being deleted (``Deleting``); False when there is no record.

    The deployment handlers ignore approvals of a project so flagged, so none can
    make an endpoint while its Delete removes them.
    """
    timestamp = (now or datetime.now(UTC)).isoformat()
    reply = call_unless(
        CONDITION_FAILED,
        f"Marking project {project_id} as being deleted in the registry table {table}",
        dynamodb.update_item,
        TableName=table,
        Key=_to_item({"pk": project_key(project_id)}),
        UpdateExpression="SET #deleting = :deleting, #since = :since",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames={"#deleting": "Deleting", "#since": "DeletingSince"},
        ExpressionAttributeValues=_to_item({":deleting": True, ":since": timestamp}),
    )
    return reply is not None


def load_record(dynamodb: Any, table: str, key: str) -> dict[str, Any] | None:
    """Any record by its ``pk`` (consistent read); None when absent."""
    reply = call(
        f"Reading {key} from the registry table {table}",
        dynamodb.get_item,
        TableName=table,
        Key=_to_item({"pk": key}),
        ConsistentRead=True,
    )
    item = reply.get("Item")
    return _from_item(item) if item else None


def load_model_group(dynamodb: Any, table: str, group_name: str) -> dict[str, Any] | None:
    """Which project and stage a model package group belongs to; None when it is not ours."""
    return load_record(dynamodb, table, model_group_key(group_name))


def put_record(
    dynamodb: Any, table: str, record: dict[str, Any], *, condition: dict[str, Any] | None = None
) -> None:
    """Write a whole record; ``condition`` holds ConditionExpression and its values.

    A failed condition raises the ClientError (code ConditionalCheckFailedException)
    unwrapped, so that callers can re-read and retry.
    """
    options: dict[str, Any] = {}
    if condition:
        options["ConditionExpression"] = condition["expression"]
        if condition.get("names"):
            options["ExpressionAttributeNames"] = condition["names"]
        if condition.get("values"):
            options["ExpressionAttributeValues"] = _to_item(condition["values"])
    try:
        dynamodb.put_item(TableName=table, Item=_to_item(record), **options)
    except ClientError as exc:
        if error_code(exc) in CONDITION_FAILED:
            raise
        raise AwsCallError(f"Writing {record['pk']} to the registry table {table}", exc) from exc


def delete_record(dynamodb: Any, table: str, key: str) -> None:
    """Delete a record by its ``pk``; an absent record is fine."""
    call(
        f"Removing {key} from the registry table {table}",
        dynamodb.delete_item,
        TableName=table,
        Key=_to_item({"pk": key}),
    )


def _transact(dynamodb: Any, action: str, operations: list[dict[str, Any]]) -> None:
    call(action, dynamodb.transact_write_items, TransactItems=operations)


def _to_item(record: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in record.items()}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def save_repository(dynamodb: Any, table: str, record: dict[str, Any]) -> None:
    """Write a ``repository#`` record (``record["pk"]`` made with :func:`repository_key`)."""
    put_record(dynamodb, table, record)


def load_repository(dynamodb: Any, table: str, key: str) -> dict[str, Any] | None:
    return load_record(dynamodb, table, repository_key(key))


def remove_repository(dynamodb: Any, table: str, key: str) -> None:
    delete_record(dynamodb, table, repository_key(key))
