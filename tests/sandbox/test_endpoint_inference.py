"""Served inference: the variant's model.tar.gz answers through the model's own inference code."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pipelines.local import run_locally

from lambda_project_lifecycle.deployments.integration_tests import (
    parse_payload,
    run_integration_tests,
)
from sandbox.emulator import Emulator
from sandbox.endpoint_inference import EndpointInference
from tests.seed_code.conftest import SEED_COMMON

IMAGE = "141502667606.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
SERVING = {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}
PAYLOADS = SEED_COMMON / "integration_tests" / "payloads"


@pytest.fixture(scope="module")
def inference(emulator: Emulator) -> EndpointInference:
    return EndpointInference(emulator)


@pytest.fixture(scope="module")
def model_url(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The seed's model, trained on the sample by its own steps, packed as SageMaker packs it."""
    run = run_locally(tmp_path_factory.mktemp("run") / "out", payloads_dir=None)
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as archive:
        for path in sorted((run.output_dir / "model").rglob("*")):
            archive.add(path, arcname=str(path.relative_to(run.output_dir / "model")))
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="models")
    s3.put_object(Bucket="models", Key="churn/model.tar.gz", Body=packed.getvalue())
    return "s3://models/churn/model.tar.gz"


@pytest.fixture(scope="module")
def endpoint(emulator: Emulator, inference: EndpointInference, model_url: str) -> str:
    """Champion and challenger, 90/10, both serving the seed's model."""
    sagemaker = emulator.client("sagemaker")
    sagemaker.create_model(
        ModelName="churn",
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": model_url, "Environment": SERVING},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="churn-config",
        ProductionVariants=[
            {
                "VariantName": name,
                "ModelName": "churn",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "InitialVariantWeight": weight,
            }
            for name, weight in (("champion", 0.9), ("challenger", 0.1))
        ],
    )
    sagemaker.create_endpoint(EndpointName="churn-production", EndpointConfigName="churn-config")
    return "churn-production"


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((PAYLOADS / name).read_text()))


def invoke(emulator: Emulator, endpoint: str, sample: dict[str, Any], **options: Any) -> Any:
    return emulator.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint,
        ContentType=sample["content_type"],
        Accept=sample["accept"],
        Body=sample["body"].encode(),
        **options,
    )


def test_a_csv_record_is_answered_by_the_trained_model(emulator: Emulator, endpoint: str) -> None:
    reply = invoke(emulator, endpoint, payload("single_csv_record.json"))

    answer = json.loads(reply["Body"].read())
    assert reply["ContentType"] == "application/json"
    assert reply["InvokedProductionVariant"] in ("champion", "challenger")
    (prediction,) = answer["predictions"]
    assert prediction["label"] in (0, 1)
    assert 0.0 <= prediction["probability"] <= 1.0


def test_the_products_integration_tests_pass_against_each_variant(
    emulator: Emulator, endpoint: str
) -> None:
    payloads = [parse_payload(p.name, p.read_bytes()) for p in sorted(PAYLOADS.glob("*.json"))]

    report = run_integration_tests(
        emulator.client("sagemaker-runtime"),
        endpoint,
        ["champion", "challenger"],
        payloads,
        latency_budget_ms=60_000,
    )

    assert len(report.cases) == 2 * len(payloads)
    assert [case.problems for case in report.cases] == [()] * len(report.cases)
    assert {case.variant for case in report.cases} == {"champion", "challenger"}


def test_traffic_follows_the_variant_weights(
    emulator: Emulator, inference: EndpointInference, endpoint: str
) -> None:
    sample = payload("single_csv_record.json")

    served = [invoke(emulator, endpoint, sample)["InvokedProductionVariant"] for _ in range(100)]

    assert 70 <= served.count("champion") <= 99
    assert served.count("challenger") >= 1


def test_a_container_error_is_a_model_error_with_the_containers_message(
    emulator: Emulator, endpoint: str
) -> None:
    bad = {**payload("single_csv_record.json"), "content_type": "text/plain"}

    with pytest.raises(ClientError) as raised:
        invoke(emulator, endpoint, bad, TargetVariant="challenger")

    response = raised.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["OriginalStatusCode"] == 500
    assert "unsupported content type 'text/plain'" in response["OriginalMessage"]
    assert "Received server error (500) from primary" in response["Error"]["Message"]
    assert response["LogStreamArn"].startswith("arn:aws:logs:")


def test_unknown_endpoints_and_variants_are_validation_errors(
    emulator: Emulator, endpoint: str
) -> None:
    sample = payload("single_csv_record.json")
    for name, options in (("nowhere", {}), (endpoint, {"TargetVariant": "shadow"})):
        with pytest.raises(ClientError) as raised:
            invoke(emulator, name, sample, **options)
        assert raised.value.response["Error"]["Code"] == "ValidationError"


def test_a_model_made_from_a_model_package_serves_the_packages_container(
    emulator: Emulator, inference: EndpointInference, model_url: str
) -> None:
    sagemaker = emulator.client("sagemaker")
    sagemaker.create_model_package_group(ModelPackageGroupName="churn-prod")
    package = sagemaker.create_model_package(
        ModelPackageGroupName="churn-prod",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": model_url, "Environment": SERVING}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelApprovalStatus="Approved",
    )["ModelPackageArn"]
    sagemaker.create_model(
        ModelName="from-package",
        PrimaryContainer={"ModelPackageName": package},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="package-config",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "from-package",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="packaged", EndpointConfigName="package-config")

    reply = invoke(emulator, "packaged", payload("json_batch.json"))

    assert len(json.loads(reply["Body"].read())["predictions"]) == 3


def test_a_deleted_endpoints_model_workers_end(
    emulator: Emulator, inference: EndpointInference, endpoint: str
) -> None:
    sagemaker = emulator.client("sagemaker")
    sagemaker.create_endpoint(EndpointName="short-lived", EndpointConfigName="churn-config")
    invoke(emulator, "short-lived", payload("single_csv_record.json"), TargetVariant="champion")
    invoke(emulator, endpoint, payload("single_csv_record.json"), TargetVariant="champion")
    (pid,) = inference.worker_pids("short-lived")
    serving = inference.worker_pids(endpoint)

    sagemaker.delete_endpoint(EndpointName="short-lived")

    assert inference.worker_pids("short-lived") == []
    assert serving and inference.worker_pids(endpoint) == serving  # other endpoints keep theirs
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid):
        assert time.monotonic() < deadline, f"model worker {pid} still runs"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
