"""What the sandbox's build image adds to every Python process of a CodeBuild run.

The SageMaker Python SDK validates its defaults configuration on every lookup with
``jsonschema.validate``, which checks the SDK's large schema itself each time
(about 0.25 s a lookup, some fifty lookups for one pipeline definition). Here
``jsonschema.validate`` checks each schema once and keeps its validator: the same
instances pass and fail with the same error (``best_match``), only once as slowly.
"""

from __future__ import annotations

from typing import Any


def _install() -> None:
    try:
        import jsonschema
    except ImportError:
        return
    validators: dict[tuple[int, Any], tuple[Any, Any]] = {}  # schema id -> (schema, validator)

    def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
        key = (id(schema), cls)
        known = validators.get(key)
        if known is None or known[0] is not schema:
            validator_class = cls or jsonschema.validators.validator_for(schema)
            validator_class.check_schema(schema)
            known = validators[key] = (schema, validator_class(schema, *args, **kwargs))
        error = jsonschema.exceptions.best_match(known[1].iter_errors(instance))
        if error is not None:
            raise error

    jsonschema.validate = validate


_install()
