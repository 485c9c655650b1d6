"""Handler: "SageMaker Model Package State Change" -> deploy, roll back, or ignore.

One EventBridge rule in the platform stack routes these events of every
project here. The package's group is looked up in the project registry
(``model-group#<name>``): groups that are not a project's, and packages of
another account, are ignored and logged. Approved -> deploy that exact package
to its stage; Rejected while deployed -> the previous approved package of the
group, or no endpoint (variant) if none is left. Starts the change and returns.

SageMaker sends this event for every change of a package, with its current
status: an Approved event deploys only when the package was just registered as
Approved or its approval status is what changed (``UpdatedModelPackageFields``);
a metadata edit of an approved package deploys nothing. Approvals of a project
whose Delete has started are ignored.

Entry point: ``lambda_project_lifecycle.deployments.model_deploy.handler``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambda_project_lifecycle.deployments.deployer import Deployer
from lambda_project_lifecycle.deployments.errors import InvalidEventError
from lambda_project_lifecycle.deployments.events import ModelPackageEvent, invoked_account
from lambda_project_lifecycle.deployments.outcomes import ignored
from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.handler_logging import handler_logger
from lambda_project_lifecycle.scenarios import STAGE_OF_GROUP

logger = handler_logger(__name__)


def handle_event(
    event: Mapping[str, Any], context: Any, deployer: Deployer | None = None
) -> dict[str, Any]:
    """Deploy, roll back or ignore one model package change (``deployer``: by default from
    the environment)."""
    try:
        change = ModelPackageEvent.from_event(event)
    except InvalidEventError as exc:
        return ignored(f"not a model package state change: {exc}").as_dict()
    logger.info(
        "Model package %s is %s (group %s)",
        change.package_arn,
        change.approval_status,
        change.group_name,
    )
    own_account = invoked_account(context) or change.account
    if change.package_account != own_account:
        return ignored(
            f"{change.package_arn} belongs to account {change.package_account}, "
            f"not this one ({own_account})"
        ).as_dict()
    if change.account != own_account:
        return ignored(
            f"the event comes from account {change.account}, not this one ({own_account})"
        ).as_dict()
    if change.approval_status not in ("Approved", "Rejected"):
        return ignored(f"status {change.approval_status!r} needs no deployment").as_dict()
    if change.approval_status == "Approved" and not change.changes_approval:
        changed = ", ".join(change.updated_fields or ())
        return ignored(
            f"{change.package_arn} stays Approved; only {changed} changed, so nothing is deployed"
        ).as_dict()
    deployer = deployer or Deployer.from_environment()
    group = deployer.context.load_model_group(change.group_name)
    if group is None or group.get("GroupKind") not in STAGE_OF_GROUP:
        return ignored(f"model package group {change.group_name} is not a project's").as_dict()
    project = deployer.context.load_project(str(group["ProjectId"]))
    if project is None:
        return ignored(f"the project of group {change.group_name} is gone").as_dict()
    if project.deleting and change.approval_status == "Approved":
        return ignored(
            f"project {project.names.project_id} is being deleted; {change.package_arn} is "
            "not deployed"
        ).as_dict()
    kind = str(group["GroupKind"])
    try:
        if change.approval_status == "Approved":
            return deployer.decisions.approve(
                project, kind, change.package_arn, change.time
            ).as_dict()
        return deployer.decisions.reject(
            project, kind, change.group_name, change.package_arn, change.time
        ).as_dict()
    except LifecycleError as exc:
        # Tell people, then fail the invocation so that EventBridge retries it (every
        # step is idempotent); a retry that succeeds is announced as usual.
        deployer.context.failed(
            project,
            STAGE_OF_GROUP[kind],
            f"{exc} (the event is retried)",
            model_package_arn=change.package_arn,
        )
        raise


# The Lambda entry point, ``lambda_project_lifecycle.deployments.model_deploy.handler``.
handler = handle_event
