"""Check a document against one of this repository's JSON Schemas; name the key at fault.

``project.json``, ``deploy/config.yaml`` and the integration-test payloads
each have a schema next to them. A violation is reported by key path
(``expect.status``), the way you find it in the file, then the rule it breaks.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema


@cache
def load_schema(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def first_violation(
    document: Any, schema: dict[str, Any], unknown_key: str = "is not allowed here"
) -> str | None:
    """The most relevant violation of ``schema`` as ``key '<path>' ...``, or None."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    return None if error is None else describe(error, unknown_key)


def describe(error: jsonschema.ValidationError, unknown_key: str = "is not allowed here") -> str:
    """``key 'model_groups.prod': 'x y' does not match ...``: the key first, then the rule."""
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [key for key in error.validator_value if key not in error.instance]
        where = ".".join(filter(None, [path, missing[0] if missing else ""]))
        return f"key {where!r} is required"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = ".".join(filter(None, [path, extra[0] if extra else ""]))
        return f"key {where!r} {unknown_key}"
    return f"key {path or '(top level)'!r}: {error.message}"
