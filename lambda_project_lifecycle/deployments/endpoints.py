"""SageMaker models, endpoint configs and endpoints of a project, made and removed idempotently.

Each step checks what exists first (names are deterministic), so a retried event
converges instead of failing on "already exists". Nothing waits: create and
update start the change and return.

Creating: invocations run side by side, so a name described as missing may exist when the
create comes; SageMaker refuses it (ValidationException), which means "already made" for a
model or config, and "busy, apply later" for an endpoint (:class:`EndpointBusyError`). An
update SageMaker refuses because the endpoint is in progress is busy too.

Deleting: SageMaker answers ValidationException both for what does not exist and
for an endpoint it will not delete now (one being created or updated). Only a
describe that finds nothing counts as gone; a refused endpoint raises
:class:`EndpointBusyError`, and anything else that is still there re-raises the refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from lambda_project_lifecycle.aws_calls import MISSING, call, call_unless, pages
from lambda_project_lifecycle.deployments.errors import EndpointBusyError
from lambda_project_lifecycle.errors import AwsCallError, ProjectConflictError, error_code
from lambda_project_lifecycle.naming import PROJECT_ID_TAG, ProjectNames

logger = logging.getLogger(__name__)

BUSY_STATES = frozenset(
    {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting", "UpdateRollbackFailed"}
)
# States in which SageMaker will not delete an endpoint: wait for its next state change.
IN_PROGRESS_STATES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})


def describe_endpoint(sagemaker: Any, name: str) -> dict[str, Any] | None:
    reply = call_unless(
        MISSING, f"Describing endpoint {name}", sagemaker.describe_endpoint, EndpointName=name
    )
    return None if reply is None else dict(reply)


def describe_endpoint_config(sagemaker: Any, name: str) -> dict[str, Any] | None:
    reply = call_unless(
        MISSING,
        f"Describing endpoint config {name}",
        sagemaker.describe_endpoint_config,
        EndpointConfigName=name,
    )
    return None if reply is None else dict(reply)


def ensure_model(
    sagemaker: Any,
    name: str,
    model_package_arn: str,
    role_arn: Callable[[], str],
    tags: list[dict[str, str]],
    container: dict[str, Any] | None = None,
) -> bool:
    """A SageMaker model that serves exactly ``model_package_arn``; True when it was made now.

    ``container`` (an MLflow version's image, archive and environment) is served instead
    of the model package when given. ``role_arn`` is asked only when the model has to be
    made: the role it runs as.
    """
    wanted = dict(container) if container else {"ModelPackageName": model_package_arn}
    existing = call_unless(
        MISSING, f"Describing model {name}", sagemaker.describe_model, ModelName=name
    )
    if existing is not None:
        containers = [existing.get("PrimaryContainer") or {}, *existing.get("Containers", [])]
        key = "ModelDataUrl" if container else "ModelPackageName"
        if not any(c.get(key) == wanted.get(key) for c in containers):
            raise ProjectConflictError(
                f"SageMaker model {name} exists and does not serve {model_package_arn}; "
                "it was left untouched"
            )
        return False
    options: dict[str, Any] = {}
    role = role_arn()
    if role:
        options["ExecutionRoleArn"] = role
    made = _create_unless_made_meanwhile(
        f"Creating model {name} from {model_package_arn}",
        partial(
            sagemaker.create_model,
            ModelName=name,
            PrimaryContainer=wanted,
            Tags=tags,
            **options,
        ),
        partial(_exists, describe_model, sagemaker, name),
    )
    if not made:
        # another invocation made it between the describe and the create: check it again
        return ensure_model(sagemaker, name, model_package_arn, role_arn, tags, container)
    return True


def _create_unless_made_meanwhile(
    action: str, create: Callable[[], Any], exists: Callable[[], bool]
) -> bool:
    """Run ``create``; False when SageMaker refused it because the name exists now.

    Invocations run side by side (EventBridge delivers at least once): the one that
    describes first may create second, and SageMaker refuses a name that exists with a
    ValidationException, the code it gives for many other refusals, so the name is
    described again to tell "already made" from any other refusal.
    """
    try:
        create()
        return True
    except ClientError as exc:
        if error_code(exc) == "ValidationException" and exists():
            logger.info("%s: made meanwhile by another invocation", action)
            return False
        raise AwsCallError(action, exc) from exc


def ensure_endpoint_config(sagemaker: Any, request: dict[str, Any]) -> bool:
    """The config named in ``request`` (its name is a digest of its content); True when made now."""
    name = request["EndpointConfigName"]
    if describe_endpoint_config(sagemaker, name) is not None:
        return False
    return _create_unless_made_meanwhile(
        f"Creating endpoint config {name}",
        partial(sagemaker.create_endpoint_config, **request),
        partial(_exists, describe_endpoint_config, sagemaker, name),
    )


def create_endpoint(
    sagemaker: Any, name: str, config_name: str, tags: list[dict[str, str]]
) -> None:
    """Start creating the endpoint.

    Raises :class:`EndpointBusyError` when another invocation created it meanwhile: it is
    on its way to InService, and what this one wanted is applied on its next state change.
    """
    action = f"Creating endpoint {name} with {config_name}"
    made = _create_unless_made_meanwhile(
        action,
        partial(
            sagemaker.create_endpoint,
            EndpointName=name,
            EndpointConfigName=config_name,
            Tags=tags,
        ),
        partial(_exists, describe_endpoint, sagemaker, name),
    )
    if not made:
        endpoint = describe_endpoint(sagemaker, name) or {}
        raise EndpointBusyError(name, str(endpoint.get("EndpointStatus", "Creating")))


def update_endpoint(
    sagemaker: Any, name: str, config_name: str, deployment_config: dict[str, Any] | None
) -> None:
    options: dict[str, Any] = {}
    if deployment_config is not None:
        options["DeploymentConfig"] = deployment_config
    """Start updating the endpoint.

    Raises :class:`EndpointBusyError` when SageMaker refused because the endpoint is in
    progress (another invocation started a change since it was described): busy, not
    failed; the change is applied on the endpoint's next state change.
    """
    action = f"Updating endpoint {name} to {config_name}"
    try:
        sagemaker.update_endpoint(
            EndpointName=name,
            EndpointConfigName=config_name,
            RetainAllVariantProperties=False,
            **options,
        )
    except ClientError as exc:
        if error_code(exc) == "ValidationException":
            status = str((describe_endpoint(sagemaker, name) or {}).get("EndpointStatus", ""))
            if status in BUSY_STATES:
                raise EndpointBusyError(name, status) from exc
        raise AwsCallError(action, exc) from exc


def retag(
    sagemaker: Any,
    arn: str,
    tags: list[dict[str, str]],
    *,
    stale_prefix: str | tuple[str, ...] = "",
) -> None:
    """Set ``tags`` on ``arn`` and drop tags starting with ``stale_prefix`` (one or several)
    that are not in them."""
    if stale_prefix:
        current = call(f"Reading tags of {arn}", sagemaker.list_tags, ResourceArn=arn)
        wanted = {tag["Key"] for tag in tags}
        stale = [
            t["Key"]
            for t in current.get("Tags", [])
            if t["Key"].startswith(stale_prefix) and t["Key"] not in wanted
        ]
        if stale:
            call(
                f"Removing stale tags of {arn}",
                sagemaker.delete_tags,
                ResourceArn=arn,
                TagKeys=stale,
            )
    call(f"Tagging {arn}", sagemaker.add_tags, ResourceArn=arn, Tags=tags)


def delete_endpoint(sagemaker: Any, name: str) -> bool:
    """Start deleting the endpoint; False when it is gone or already being deleted.

    Raises :class:`EndpointBusyError` when SageMaker refuses because the endpoint is
    in progress (Creating, Updating, ...): it is still there and still billed.
    """
    action = f"Deleting endpoint {name}"
    try:
        sagemaker.delete_endpoint(EndpointName=name)
        return True
    except ClientError as exc:
        if error_code(exc) not in MISSING:
            raise AwsCallError(action, exc) from exc
        refusal = exc
    endpoint = describe_endpoint(sagemaker, name)
    if endpoint is None:
        return False
    status = str(endpoint.get("EndpointStatus", ""))
    if status == "Deleting":
        return False
    if status in IN_PROGRESS_STATES:
        raise EndpointBusyError(name, status) from refusal
    raise AwsCallError(action, refusal) from refusal


def _delete_unless_gone(
    action: str, delete: Callable[[], Any], still_there: Callable[[], bool]
) -> bool:
    """Run ``delete``; False only when it failed because the thing is confirmed gone."""
    try:
        delete()
        return True
    except ClientError as exc:
        if error_code(exc) in MISSING and not still_there():
            return False
        raise AwsCallError(action, exc) from exc


def owned_configs(sagemaker: Any, names: ProjectNames, contains: str) -> list[dict[str, Any]]:
    """Summaries (name, ARN, creation time) of the project's configs named ``*contains*``."""
    return _owned(
        sagemaker,
        names,
        contains,
        ("endpoint configs", sagemaker.list_endpoint_configs, "EndpointConfigs"),
        ("EndpointConfigName", "EndpointConfigArn"),
    )


def owned_models(sagemaker: Any, names: ProjectNames, contains: str) -> list[str]:
    """SageMaker models whose name contains ``contains`` and that are this project's."""
    listing = ("models", sagemaker.list_models, "Models")
    found = _owned(sagemaker, names, contains, listing, ("ModelName", "ModelArn"))
    return [str(summary["ModelName"]) for summary in found]


def _owned(
    sagemaker: Any,
    names: ProjectNames,
    contains: str,
    listing: tuple[str, Callable[..., Any], str],
    keys: tuple[str, str],
) -> list[dict[str, Any]]:
    """The summaries a ``(what, list method, list key)`` listing gives of ``*contains*``
    resources that are the project's by name and by tag (``keys``: name and ARN keys)."""
    what, method, list_key = listing
    name_key, arn_key = keys
    found: list[dict[str, Any]] = []
    for page in pages(f"Listing {what}", method, NameContains=contains, MaxResults=100):
        for summary in page.get(list_key, []):
            name = summary[name_key]
            if (
                contains in name
                and names.owns(name)
                and _tagged_for(sagemaker, summary[arn_key], names)
            ):
                found.append(summary)
    return found


def delete_configs(sagemaker: Any, config_names: Iterable[str]) -> list[str]:
    deleted = []
    for name in config_names:
        if _delete_unless_gone(
            f"Deleting endpoint config {name}",
            partial(sagemaker.delete_endpoint_config, EndpointConfigName=name),
            partial(_exists, describe_endpoint_config, sagemaker, name),
        ):
            deleted.append(name)
    return deleted


def delete_models(sagemaker: Any, model_names: Iterable[str]) -> list[str]:
    deleted = []
    for name in model_names:
        if _delete_unless_gone(
            f"Deleting model {name}",
            partial(sagemaker.delete_model, ModelName=name),
            partial(_exists, describe_model, sagemaker, name),
        ):
            deleted.append(name)
    return deleted


def _exists(
    describe: Callable[[Any, str], dict[str, Any] | None], sagemaker: Any, name: str
) -> bool:
    return describe(sagemaker, name) is not None


def describe_model(sagemaker: Any, name: str) -> dict[str, Any] | None:
    reply = call_unless(
        MISSING, f"Describing model {name}", sagemaker.describe_model, ModelName=name
    )
    return None if reply is None else dict(reply)


def model_names_of_config(sagemaker: Any, config_name: str) -> set[str]:
    config = describe_endpoint_config(sagemaker, config_name) or {}
    variants = [*config.get("ProductionVariants", []), *config.get("ShadowProductionVariants", [])]
    return {str(v["ModelName"]) for v in variants if v.get("ModelName")}


def _tagged_for(sagemaker: Any, arn: str, names: ProjectNames) -> bool:
    reply = call(f"Reading tags of {arn}", sagemaker.list_tags, ResourceArn=arn)
    tags = {tag["Key"]: tag["Value"] for tag in reply.get("Tags", [])}
    if tags.get(PROJECT_ID_TAG) != names.project_id:
        logger.warning("Leaving %s: it does not carry %s=%s", arn, PROJECT_ID_TAG, names.project_id)
        return False
    return True
