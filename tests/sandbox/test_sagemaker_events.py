"""SageMaker on the emulator: endpoints that take time, a registry that keeps lineage, events."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.emulator import Emulator
from sandbox.event_delivery import EventBus
from sandbox.lambda_runtime import LambdaRuntime
from sandbox.sagemaker_endpoints import SageMakerEndpoints
from sandbox.sagemaker_registry import ModelRegistry

EVENTS_DIR = Path(__file__).parents[1] / "events"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn-inference:1.4-1"


@pytest.fixture(scope="module")
def bus(emulator: Emulator) -> EventBus:
    return EventBus(emulator, LambdaRuntime(emulator))


@pytest.fixture(scope="module")
def endpoints(emulator: Emulator, bus: EventBus) -> SageMakerEndpoints:
    return SageMakerEndpoints(
        emulator, bus, creating_seconds=0.5, updating_seconds=0.5, deleting_seconds=0.2
    )


@pytest.fixture(scope="module")
def registry(emulator: Emulator, bus: EventBus) -> ModelRegistry:
    return ModelRegistry(emulator, bus)


@pytest.fixture(scope="module")
def sagemaker(emulator: Emulator) -> Any:
    return emulator.client("sagemaker")


@pytest.fixture(scope="module")
def heard(emulator: Emulator, bus: EventBus) -> Any:
    """Every SageMaker event, as a rule with a queue target hears it."""
    sqs, events = emulator.client("sqs"), emulator.client("events")
    url = sqs.create_queue(QueueName="sagemaker-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="sagemaker", EventPattern=json.dumps({"source": ["aws.sagemaker"]}))
    events.put_targets(Rule="sagemaker", Targets=[{"Id": "q", "Arn": arn}])

    def drain() -> list[dict[str, Any]]:
        """What the queue received since the last call, in the order it was emitted."""
        delivered = set()
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            delivered |= {json.loads(m["Body"])["id"] for m in batch}
        return [e for e in list(bus.events) if e["id"] in delivered]

    return drain


def sample(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS_DIR / name).read_text()))


def make_config(sagemaker: Any, name: str, weight: float = 1.0) -> None:
    sagemaker.create_model(
        ModelName=f"{name}-model",
        PrimaryContainer={"Image": IMAGE},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
        ],
    )


def status(sagemaker: Any, name: str) -> str:
    return str(sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"])


def wait_for(sagemaker: Any, name: str, wanted: str) -> None:
    deadline = time.monotonic() + 10
    while status(sagemaker, name) != wanted:
        assert time.monotonic() < deadline, f"{name} never became {wanted}"
        time.sleep(0.05)


def test_an_endpoint_is_creating_then_in_service_and_each_step_is_an_event(
    sagemaker: Any, endpoints: SageMakerEndpoints, heard: Any
) -> None:
    make_config(sagemaker, "first-config")

    sagemaker.create_endpoint(
        EndpointName="served",
        EndpointConfigName="first-config",
        Tags=[{"Key": "mlops-portfolio:stage", "Value": "development"}],
    )

    assert status(sagemaker, "served") == "Creating"
    wait_for(sagemaker, "served", "InService")
    emitted = [e for e in heard() if e["detail-type"] == "SageMaker Endpoint State Change"]
    assert [e["detail"]["EndpointStatus"] for e in emitted] == ["CREATING", "IN_SERVICE"]
    in_service = emitted[-1]
    stored = sample("sagemaker-endpoint-state-change-in-service.json")
    assert in_service.keys() == stored.keys()
    assert in_service["detail"].keys() == stored["detail"].keys()
    assert in_service["time"].isdigit()
    assert in_service["detail"]["Tags"] == {"mlops-portfolio:stage": "development"}
    assert in_service["detail"]["ProductionVariants"] == [
        {"DesiredWeight": 1.0, "DesiredInstanceCount": 1.0}
    ]


def test_an_update_is_refused_while_busy_and_serves_the_new_config_once_done(
    sagemaker: Any, endpoints: SageMakerEndpoints, heard: Any
) -> None:
    make_config(sagemaker, "before")
    make_config(sagemaker, "after", weight=0.5)
    sagemaker.create_endpoint(EndpointName="updated", EndpointConfigName="before")
    with pytest.raises(ClientError) as creating:
        sagemaker.update_endpoint(EndpointName="updated", EndpointConfigName="after")
    wait_for(sagemaker, "updated", "InService")

    sagemaker.update_endpoint(EndpointName="updated", EndpointConfigName="after")

    assert creating.value.response["Error"]["Code"] == "ValidationException"
    described = sagemaker.describe_endpoint(EndpointName="updated")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("Updating", "before")
    with pytest.raises(ClientError) as deleting:
        sagemaker.delete_endpoint(EndpointName="updated")
    assert "in-progress" in deleting.value.response["Error"]["Message"]
    wait_for(sagemaker, "updated", "InService")
    assert sagemaker.describe_endpoint(EndpointName="updated")["EndpointConfigName"] == "after"
    statuses = [
        e["detail"]["EndpointStatus"] for e in heard() if e["detail"]["EndpointName"] == "updated"
    ]
    assert statuses == ["CREATING", "IN_SERVICE", "UPDATING", "IN_SERVICE"]


def test_a_failed_create_and_a_failed_update_say_why(
    sagemaker: Any, endpoints: SageMakerEndpoints, heard: Any
) -> None:
    make_config(sagemaker, "broken")
    reason = "The primary container for production variant AllTraffic did not pass the ping."
    endpoints.fail_next("failing", reason)

    sagemaker.create_endpoint(EndpointName="failing", EndpointConfigName="broken")
    wait_for(sagemaker, "failing", "Failed")

    assert sagemaker.describe_endpoint(EndpointName="failing")["FailureReason"] == reason
    failed = heard()[-1]
    stored = sample("sagemaker-endpoint-state-change-failed.json")
    assert failed["detail"].keys() == stored["detail"].keys()
    assert (failed["detail"]["EndpointStatus"], failed["detail"]["FailureReason"]) == (
        "FAILED",
        reason,
    )
    sagemaker.delete_endpoint(EndpointName="failing")
    assert status(sagemaker, "failing") == "Deleting"
    assert endpoints.wait_until_settled(10)
    with pytest.raises(ClientError):
        sagemaker.describe_endpoint(EndpointName="failing")

    make_config(sagemaker, "rollback-from")
    make_config(sagemaker, "rollback-to")
    sagemaker.create_endpoint(EndpointName="rolled-back", EndpointConfigName="rollback-from")
    wait_for(sagemaker, "rolled-back", "InService")
    endpoints.fail_next("rolled-back", "alarm fired")
    sagemaker.update_endpoint(EndpointName="rolled-back", EndpointConfigName="rollback-to")
    assert endpoints.wait_until_settled(10)
    described = sagemaker.describe_endpoint(EndpointName="rolled-back")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == (
        "InService",
        "rollback-from",
    )
    assert described["FailureReason"] == "alarm fired"


def register(sagemaker: Any, group: str, status: str) -> str:
    return str(
        sagemaker.create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://b/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            ModelApprovalStatus=status,
            MetadataProperties={"CommitId": "9f1c2e4b"},
            CustomerMetadataProperties={"commit": "9f1c2e4b", "dataset.sha256": "ab12"},
        )["ModelPackageArn"]
    )


def test_packages_emit_their_state_changes_and_an_approval_keeps_the_lineage(
    sagemaker: Any, registry: ModelRegistry, heard: Any
) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-dev")
    arn = register(sagemaker, "churn-dev", "PendingManualApproval")

    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    package = sagemaker.describe_model_package(ModelPackageName=arn)
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["CustomerMetadataProperties"] == {"commit": "9f1c2e4b", "dataset.sha256": "ab12"}
    created, approved = [
        e for e in heard() if e["detail-type"] == "SageMaker Model Package State Change"
    ]
    assert created["detail"]["ModelApprovalStatus"] == "PendingManualApproval"
    assert "UpdatedModelPackageFields" not in created["detail"]
    assert approved["detail"]["ModelApprovalStatus"] == "Approved"
    assert approved["detail"]["UpdatedModelPackageFields"] == ["ModelApprovalStatus"]
    assert approved["resources"] == [arn]
    stored = sample("sagemaker-model-package-state-change-approved.json")
    missing = set(stored["detail"]) - set(approved["detail"]) - {"ModelPackageStatusDetails"}
    assert missing == set()
    assert approved["detail"]["CreationTime"].endswith("Z")


def test_a_group_is_deleted_only_once_its_packages_are(
    sagemaker: Any, registry: ModelRegistry
) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-feature")
    arn = register(sagemaker, "churn-feature", "Rejected")

    with pytest.raises(ClientError) as holding:
        sagemaker.delete_model_package_group(ModelPackageGroupName="churn-feature")
    sagemaker.delete_model_package(ModelPackageName=arn)
    sagemaker.delete_model_package_group(ModelPackageGroupName="churn-feature")

    assert holding.value.response["Error"]["Code"] == "ConflictException"
    names = [
        g["ModelPackageGroupName"]
        for g in sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
    ]
    assert "churn-feature" not in names
