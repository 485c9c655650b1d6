"""The ``ModelRoleArn`` property: the project's own model role, when its product template
makes one (``model_role_isolation = "per-project"``).

The lifecycle handler checks it before anything is made and records it with the project;
the deployment handlers then run the project's models as it (``deployments.model_role``).
Without it the project's models run as the platform's shared model role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambda_project_lifecycle.errors import InvalidProjectError
from lambda_project_lifecycle.resource_properties import (
    MODEL_ROLE_ARN_PROPERTY,
    MODEL_ROLE_ISOLATION_PARAMETER,
    PER_PROJECT_MODEL_ROLE,
)

# arn:<partition>:iam::<account>:role/<path/><name> (IAM: name up to 64, ARN up to 2048).
ROLE_ARN_PATTERN = r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}"
ROLE_ARN_MAX_LENGTH = 2048


def project_model_role(properties: Mapping[str, Any], *, required: bool = False) -> str:
    """The project's own model role ARN, or ``""`` (the shared one serves it).

    ``required``: the platform isolates models per project (``ModelRoleIsolation``
    ``per-project``) and this is a Create: a product version that makes no model role (built
    before the platform chose isolation; Service Catalog keeps offering older versions) is
    refused, so no new project's models share a role. An Update never is: a project keeps the
    role it was created with.
    """
    value = properties.get(MODEL_ROLE_ARN_PROPERTY)
    if value is None or value == "":
        if required:
            raise InvalidProjectError(
                f"The platform runs each project's models as a role of its own "
                f"({MODEL_ROLE_ISOLATION_PARAMETER} {PER_PROJECT_MODEL_ROLE}), but this product "
                f"version makes none ({MODEL_ROLE_ARN_PROPERTY} is empty): create the project "
                f"from a version built with model_role_isolation = {PER_PROJECT_MODEL_ROLE!r}"
            )
        return ""
    if not isinstance(value, str):
        raise InvalidProjectError(
            f"{MODEL_ROLE_ARN_PROPERTY} must be a string, the ARN of an IAM role "
            f"(got {type(value).__name__})"
        )
    if len(value) > ROLE_ARN_MAX_LENGTH or not re.fullmatch(ROLE_ARN_PATTERN, value):
        raise InvalidProjectError(
            f"{MODEL_ROLE_ARN_PROPERTY} {value[:200]!r} is not the ARN of an IAM role "
            f"(arn:<partition>:iam::<account>:role/<path/><name>, at most "
            f"{ROLE_ARN_MAX_LENGTH} characters)"
        )
    return value


def check_model_role_kept(accepted: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """An Update may give a project a model role, never take away or swap the one its models
    run as: CloudFormation deletes the old role after the update, under the endpoints that
    still run as it (their next instance could not read its model). Refused, the update rolls
    back and the role stays."""
    before = accepted.get(MODEL_ROLE_ARN_PROPERTY) or ""
    after = new.get(MODEL_ROLE_ARN_PROPERTY) or ""
    if before and after != before:
        raise InvalidProjectError(
            f"{MODEL_ROLE_ARN_PROPERTY} cannot change after the project's models run as "
            f"{before} (got {str(after)[:200] or 'none'}): update the project with a product "
            f"version built with model_role_isolation = {PER_PROJECT_MODEL_ROLE!r}"
        )
