"""The small JSON Schema validator: same verdicts as jsonschema, errors that name the key."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from lambda_project_lifecycle.deployments.schema import (
    SchemaError,
    apply_defaults,
    check_schema,
    validate,
)
from tests.support.deployments import deploy_config_schema

SCHEMA = json.loads(deploy_config_schema().read_text())
TOY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
        "count": {"type": "integer", "minimum": 1, "maximum": 3, "default": 1},
        "ratio": {"type": "number", "maximum": 1.5},
        "mode": {"enum": ["a", "b"], "default": "a"},
        "tags": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "flag": {"type": "boolean"},
        "nested": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"depth": {"type": "integer", "default": 7}},
            "default": {},
        },
    },
}
DOCUMENTS = [
    {"name": "ok"},
    {"name": "ok", "count": 3, "ratio": 1.5, "mode": "b", "tags": ["x"], "flag": True},
    {"name": "ok", "count": 2.0},
    {},
    {"name": "x"},
    {"name": "toolong"},
    {"name": "Upper"},
    {"name": "ok", "count": 0},
    {"name": "ok", "count": 4},
    {"name": "ok", "count": 1.5},
    {"name": "ok", "count": True},
    {"name": "ok", "count": "2"},
    {"name": "ok", "ratio": 2},
    {"name": "ok", "mode": "c"},
    {"name": "ok", "tags": []},
    {"name": "ok", "tags": [1]},
    {"name": "ok", "flag": 1},
    {"name": "ok", "extra": 1},
    {"name": "ok", "nested": {"depth": "deep"}},
    {"name": "ok", "nested": {"other": 1}},
    [],
    "text",
]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[json.dumps(d) for d in DOCUMENTS])
def test_verdicts_match_jsonschema(document: Any) -> None:
    expected = jsonschema.Draft202012Validator(TOY).is_valid(document)
    assert (validate(document, TOY) == []) is expected


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "key 'name' is required"),
        ({"name": "ok", "extra": 1}, "key 'extra' is not a known setting"),
        (
            {"name": "ok", "nested": {"depth": "deep"}},
            "key 'nested.depth': 'deep' is not of type integer",
        ),
        ({"name": "ok", "count": 4}, "key 'count': 4 is greater than the maximum 3"),
        ({"name": "ok", "tags": [1]}, "key 'tags.0': 1 is not of type string"),
        ({"name": "ok", "mode": "c"}, "key 'mode': 'c' is not one of 'a', 'b'"),
        ({"name": "Upper"}, "key 'name': 'Upper' does not match '^[a-z]+$'"),
        ([], "key '(top level)': [] is not of type object"),
    ],
)
def test_errors_name_the_key_path(document: Any, message: str) -> None:
    assert str(validate(document, TOY)[0]) == message


def test_defaults_fill_missing_keys_and_objects() -> None:
    assert apply_defaults({"name": "ok"}, TOY) == {
        "name": "ok",
        "count": 1,
        "mode": "a",
        "nested": {"depth": 7},
    }
    assert apply_defaults({"name": "ok", "count": 3, "nested": {}}, TOY)["count"] == 3


def test_a_schema_keyword_the_validator_lacks_is_refused() -> None:
    with pytest.raises(SchemaError, match="'oneOf' at #/properties/x is not supported"):
        check_schema({"type": "object", "properties": {"x": {"oneOf": []}}})


def test_the_deployment_config_schema_uses_only_supported_keywords() -> None:
    check_schema(SCHEMA)


@pytest.mark.parametrize(
    "document",
    [
        {"schema_version": 1},
        {"schema_version": 1, "development": {"mode": "realtime", "ttl_hours": 720}},
        {"schema_version": 2},
        {"schema_version": 1, "production": {"serverless": {"memory_mb": 1000}}},
        {"schema_version": 1, "production": {"deployment": {"rollback_alarms": [""]}}},
        {"schema_version": 1, "production": {"champion_challenger": {"challenger_weight": 101}}},
        {"schema_version": 1, "staging": {}},
    ],
)
def test_the_real_schema_gets_the_same_verdicts_as_jsonschema(document: dict[str, Any]) -> None:
    expected = jsonschema.Draft202012Validator(SCHEMA).is_valid(document)
    assert (validate(document, SCHEMA) == []) is expected
