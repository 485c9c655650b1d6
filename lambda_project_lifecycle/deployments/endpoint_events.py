"""Handler: "SageMaker Endpoint State Change" -> after a deployment, test and report.

InService after a deployment: register autoscaling, run the project's
integration tests, record the result on the endpoint's registry entry and
notify (SNS topic, and the webhook when configured). A change that waited for
the endpoint is applied now. Failed: notify with SageMaker's reason. Endpoints
the deployment handlers did not make (no registry entry) are ignored.

An endpoint whose project was deleted while SageMaker was still creating or
updating it (its record says ``project_deleted``) is removed, with everything
made for it, on its next InService or Failed event.

Entry point: ``lambda_project_lifecycle.deployments.endpoint_events.handler``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lambda_project_lifecycle.deployments.deployer import Deployer
from lambda_project_lifecycle.deployments.errors import InvalidEventError
from lambda_project_lifecycle.deployments.events import EndpointEvent, invoked_account
from lambda_project_lifecycle.deployments.outcomes import ignored
from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.handler_logging import handler_logger
from lambda_project_lifecycle.naming import NAME_PREFIX

logger = handler_logger(__name__)


def handle_event(
    event: Mapping[str, Any], context: Any, deployer: Deployer | None = None
) -> dict[str, Any]:
    """Follow up one endpoint state change (``deployer``: by default from the environment)."""
    try:
        change = EndpointEvent.from_event(event)
    except InvalidEventError as exc:
        return ignored(f"not an endpoint state change: {exc}").as_dict()
    logger.info("Endpoint %s is %s", change.endpoint_name, change.status)
    own_account = invoked_account(context)
    if not change.endpoint_name.startswith(f"{NAME_PREFIX}-"):
        return ignored(f"{change.endpoint_name} is not a project endpoint").as_dict()
    if change.status not in ("InService", "Failed"):
        return ignored(f"state {change.status} needs nothing").as_dict()
    deployer = deployer or Deployer.from_environment()
    # Stages in accounts of their own: their endpoint events come through the platform's
    # bus, each from the one account that hosts the endpoint's stage.
    foreign = own_account and change.account and own_account != change.account
    if foreign and change.account not in deployer.context.accounts.hosting_accounts():
        return ignored(f"the event is from account {change.account}").as_dict()
    record = deployer.context.load_record(change.endpoint_name)
    if record is None:
        return ignored(f"{change.endpoint_name} was not deployed by the platform").as_dict()
    hosting_account = deployer.context.accounts.account_of(record.stage) or own_account
    if hosting_account and change.account and change.account != hosting_account:
        return ignored(
            f"the event is from account {change.account}; stage {record.stage} of "
            f"{change.endpoint_name} is hosted in account {hosting_account}"
        ).as_dict()
    if record.project_deleted:
        return deployer.follow_up.finish_project_delete(record).as_dict()
    project = deployer.context.load_project(record.project_id)
    if project is None:
        return ignored(f"the project of {change.endpoint_name} is gone").as_dict()
    try:
        if change.status == "InService":
            return deployer.follow_up.on_in_service(
                project, record, change, time_left=remaining_seconds(context)
            ).as_dict()
        return deployer.follow_up.on_failed(project, record, change).as_dict()
    except LifecycleError as exc:
        deployer.context.failed(project, record.stage, f"{exc} (the event is retried)")
        raise


def remaining_seconds(context: Any) -> Callable[[], float] | None:
    """Seconds left before the Lambda times out, read from its context (None if unknown)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    return lambda: float(remaining()) / 1000


# The Lambda entry point, ``lambda_project_lifecycle.deployments.endpoint_events.handler``.
handler = handle_event
