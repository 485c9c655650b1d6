"""The endpoint-events handler's other paths: events it ignores (and says why), a project
gone under its endpoint, and an AWS error that fails the deployment and has the event retried.

Every test goes through the handler's entry point (``endpoint_events.handle_event``) with the
stored "SageMaker Endpoint State Change" events; the AWS side is moto.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_project_lifecycle.deployments import endpoint_events
from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.naming import ProjectNames
from tests.support.deployments import ACCOUNT, DeployWorld, HandlerContext
from tests.support.events import load_event


def deployed(world: DeployWorld) -> ProjectNames:
    names = world.create_project()
    world.approve(world.register_package(names.model_package_group("prod")))
    world.notices()
    return names


def state_change(world: DeployWorld, endpoint: str, status: str = "IN_SERVICE") -> dict[str, Any]:
    """The stored event, filled from the endpoint as SageMaker describes it now."""
    event = load_event("sagemaker-endpoint-state-change-in-service.json")
    described = world.sagemaker.describe_endpoint(EndpointName=endpoint)
    event["resources"] = [described["EndpointArn"]]
    event["detail"].update(
        EndpointName=endpoint,
        EndpointArn=described["EndpointArn"],
        EndpointConfigName=described["EndpointConfigName"],
        EndpointStatus=status,
    )
    return event


def handle(world: DeployWorld, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return endpoint_events.handle_event(
        event, context if context is not None else HandlerContext(), world.deployer()
    )


def in_service_event(**detail: Any) -> dict[str, Any]:
    event = load_event("sagemaker-endpoint-state-change-in-service.json")
    event["detail"].update(detail)
    return event


@pytest.mark.parametrize(
    ("event", "detail"),
    [
        (
            load_event("sagemaker-model-package-state-change-approved.json"),
            "not an endpoint state change",
        ),
        (
            load_event("sagemaker-endpoint-state-change-in-service.json", detail={}),
            "not an endpoint state change",
        ),
        (
            in_service_event(EndpointName="churn-endpoint"),
            "churn-endpoint is not a project endpoint",
        ),
        (
            in_service_event(
                EndpointName="sagemaker-churn-p-1-production", EndpointStatus="UPDATING"
            ),
            "state Updating needs nothing",
        ),
        (
            load_event("sagemaker-endpoint-state-change-in-service.json", account="210987654321"),
            "the event is from account 210987654321",
        ),
    ],
)
def test_an_event_the_handler_has_nothing_to_do_for_is_ignored_with_the_reason(
    world: DeployWorld, event: dict[str, Any], detail: str
) -> None:
    result = handle(world, event)

    assert result["action"] == "ignored"
    assert detail in result["detail"]
    assert world.notices() == []


def test_the_event_of_an_endpoint_whose_project_record_is_gone_is_ignored(
    world: DeployWorld,
) -> None:
    names = deployed(world)
    endpoint = names.endpoint("production")
    world.clients.dynamodb.delete_item(
        TableName=world.settings.registry_table, Key={"pk": {"S": f"project#{names.project_id}"}}
    )

    result = handle(world, state_change(world, endpoint))

    assert result["action"] == "ignored"
    assert result["detail"] == f"the project of {endpoint} is gone"
    assert world.notices() == []


def test_an_aws_error_after_the_deployment_fails_it_tells_people_and_has_the_event_retried(
    world: DeployWorld,
) -> None:
    names = deployed(world)
    endpoint = names.endpoint("production")
    event = state_change(world, endpoint)

    def refuse(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
            "DescribeEndpoint",
        )

    world.sagemaker.meta.events.register("before-call.sagemaker.DescribeEndpoint", refuse)
    with pytest.raises(LifecycleError, match="ThrottlingException"):
        handle(world, event)
    world.sagemaker.meta.events.unregister("before-call.sagemaker.DescribeEndpoint", refuse)

    (notice,) = world.notices()
    assert notice["status"] == "FAILED"
    assert notice["endpoint_name"] == endpoint
    assert "ThrottlingException: Rate exceeded" in notice["summary"]
    assert notice["summary"].endswith("(the event is retried)")


def test_a_context_without_a_deadline_still_runs_the_tests(world: DeployWorld) -> None:
    """Called without the Lambda context's clock (an old runtime, a direct call), the
    integration tests run without a time budget instead of failing."""
    names = deployed(world)
    endpoint = names.endpoint("production")

    class NoDeadline:
        invoked_function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:endpoint-events"

    result = handle(world, state_change(world, endpoint), NoDeadline())

    assert result["action"] != "ignored", result
