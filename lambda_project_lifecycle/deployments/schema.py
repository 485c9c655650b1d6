"""A JSON Schema validator for the few simple keywords the shipped schemas use.

The Lambda runtime has no ``jsonschema``; vendoring it (and its dependencies)
for two small schemas (the deployment config, the integration-test payload) is
not worth the weight. This covers exactly the keywords they are allowed to use
(type, properties, required, additionalProperties, enum, minimum, maximum,
minLength, maxLength, pattern, items, minItems, minProperties) plus the
annotations (default, description, ...). A schema with any other keyword is
refused up front, so a keyword can never be ignored silently.

Errors name the key path (``production.realtime.instance_type``), the way a
user finds it in ``deploy/config.yaml``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

VALIDATION_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "enum",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "items",
        "minItems",
        "minProperties",
    }
)
ANNOTATION_KEYWORDS = frozenset(
    {"default", "description", "title", "examples", "$schema", "$id", "$comment"}
)


class SchemaError(ValueError):
    """The schema itself uses something this validator does not implement."""


@dataclass(frozen=True)
class Violation:
    """One way the document breaks the schema, at a key path."""

    path: tuple[str | int, ...]
    message: str

    @property
    def key(self) -> str:
        return ".".join(str(part) for part in self.path) or "(top level)"

    def __str__(self) -> str:
        if self.message.startswith("is "):
            return f"key {self.key!r} {self.message}"
        return f"key {self.key!r}: {self.message}"


def check_schema(schema: Mapping[str, Any], path: str = "#") -> None:
    """Raise :class:`SchemaError` if ``schema`` uses a keyword this validator lacks."""
    for keyword, value in schema.items():
        if keyword not in VALIDATION_KEYWORDS and keyword not in ANNOTATION_KEYWORDS:
            raise SchemaError(f"schema keyword {keyword!r} at {path} is not supported")
        if keyword == "properties":
            for name, child in value.items():
                check_schema(child, f"{path}/properties/{name}")
        elif keyword in ("items", "additionalProperties") and isinstance(value, Mapping):
            check_schema(value, f"{path}/{keyword}")
        elif keyword == "pattern":
            re.compile(value)


def validate(document: Any, schema: Mapping[str, Any]) -> list[Violation]:
    """Every violation of ``schema`` in ``document``, in document order."""
    return list(_violations(document, schema, ()))


def apply_defaults(document: Any, schema: Mapping[str, Any]) -> Any:
    """A copy of ``document`` with the schema's defaults filled in, recursively.

    A missing key takes its ``default``; an object (given or defaulted) then
    gets the defaults of its own properties. Keys without a default stay absent.
    """
    if not isinstance(document, dict) or not _allows(schema, "object"):
        return copy.deepcopy(document)
    filled = {key: copy.deepcopy(value) for key, value in document.items()}
    for key, child in schema.get("properties", {}).items():
        if key not in filled and "default" in child:
            filled[key] = copy.deepcopy(child["default"])
        if key in filled:
            filled[key] = apply_defaults(filled[key], child)
    return filled


def _allows(schema: Mapping[str, Any], type_name: str) -> bool:
    declared = schema.get("type")
    if declared is None:
        return "properties" in schema
    return type_name in ([declared] if isinstance(declared, str) else declared)


def _violations(
    value: Any, schema: Mapping[str, Any], path: tuple[str | int, ...]
) -> Iterator[Violation]:
    declared = schema.get("type")
    if declared is not None:
        types = [declared] if isinstance(declared, str) else list(declared)
        if not any(_is_type(value, t) for t in types):
            yield Violation(path, f"{_show(value)} is not of type {' or '.join(types)}")
            return
    if "enum" in schema and not any(_json_equal(value, option) for option in schema["enum"]):
        options = ", ".join(_show(option) for option in schema["enum"])
        yield Violation(path, f"{_show(value)} is not one of {options}")
    if _is_number(value):
        if "minimum" in schema and value < schema["minimum"]:
            yield Violation(path, f"{_show(value)} is less than the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            yield Violation(path, f"{_show(value)} is greater than the maximum {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield Violation(path, f"{_show(value)} is shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            yield Violation(path, f"{_show(value)} is longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            yield Violation(path, f"{_show(value)} does not match {schema['pattern']!r}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            yield Violation(path, f"has {len(value)} items, fewer than {schema['minItems']}")
        if isinstance(schema.get("items"), Mapping):
            for index, item in enumerate(value):
                yield from _violations(item, schema["items"], (*path, index))
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            yield Violation(path, f"has {len(value)} keys, fewer than {schema['minProperties']}")
        for key in schema.get("required", []):
            if key not in value:
                yield Violation((*path, key), "is required")
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                yield from _violations(item, properties[key], (*path, key))
            elif extra is False:
                yield Violation((*path, key), "is not a known setting")
            elif isinstance(extra, Mapping):
                yield from _violations(item, extra, (*path, key))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_type(value: Any, type_name: str) -> bool:
    if type_name == "object":
        return isinstance(value, dict)
    if type_name == "array":
        return isinstance(value, list)
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "null":
        return value is None
    if type_name == "number":
        return _is_number(value)
    if type_name == "integer":
        return _is_number(value) and float(value).is_integer()
    raise SchemaError(f"unknown type {type_name!r}")


def _json_equal(left: Any, right: Any) -> bool:
    """Equality as JSON sees it: ``true`` is not ``1``, ``1.0`` is ``1``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if type(left) is not type(right):
        return False
    return bool(left == right)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
