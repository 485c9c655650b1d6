"""The pipelines stand-in: the seed's own pipeline, upserted by its CI code, runs for real."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pipelines.definition import TrainingRun
from pipelines.errors import PipelineRunError
from pipelines.pipeline_run import run_training, wait_for_execution
from pipelines.project import parse_project

from sandbox.emulator import Emulator
from sandbox.pipeline_runs import PipelineRuns
from sandbox.sagemaker_registry import ModelRegistry
from tests.seed_code.conftest import BUCKET, REGION, ROLE_ARN, create_groups, project_document
from tests.support import sagemaker_sdk
from tests.support.network import loopback_only

COMMIT = "5e2d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a392817"
DOCUMENT = project_document("baseline", "sagemaker")
DEV_GROUP = DOCUMENT["model_groups"]["dev"]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with loopback_only(), pytest.MonkeyPatch.context() as patch, Emulator(region=REGION) as running:
        sagemaker_sdk.prepare(patch, tmp_path_factory.mktemp("sdk"), REGION)
        for name, value in running.environment().items():
            patch.setenv(name, value)  # the SDK's clients reach the emulator, as in the build
        yield running


@pytest.fixture(scope="module")
def pipelines(emulator: Emulator) -> PipelineRuns:
    ModelRegistry(emulator)
    runs = PipelineRuns(emulator)
    emulator.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    create_groups(emulator.session(), DOCUMENT)
    return runs


@pytest.fixture(scope="module")
def trained(emulator: Emulator, pipelines: PipelineRuns) -> dict[str, Any]:
    """What the seed's CI does on a dev push: upsert the pipeline, start it, wait."""
    reports: list[str] = []
    result = run_training(
        parse_project(DOCUMENT),
        TrainingRun(kind="dev", branch="dev", commit=COMMIT, role_arn=ROLE_ARN),
        emulator.session(),
        poll_seconds=0.5,
        timeout_seconds=300,
        report=reports.append,
    )
    return {"result": result, "reports": reports}


def steps_of(emulator: Emulator, arn: str) -> list[dict[str, Any]]:
    return list(
        emulator.client("sagemaker").list_pipeline_execution_steps(PipelineExecutionArn=arn)[
            "PipelineExecutionSteps"
        ]
    )


def test_the_seed_pipeline_runs_its_steps_and_succeeds(
    emulator: Emulator, trained: dict[str, Any]
) -> None:
    result = trained["result"]

    assert result.status == "Succeeded"
    assert "pipeline execution: Executing" in trained["reports"]
    steps = steps_of(emulator, result.execution_arn)
    assert [(s["StepName"], s["StepStatus"]) for s in steps] == [
        ("RegisterModel", "Succeeded"),
        ("CheckAccuracy", "Succeeded"),
        ("Evaluate", "Succeeded"),
        ("Train", "Succeeded"),
        ("Preprocess", "Succeeded"),
    ]
    by_name = {s["StepName"]: s for s in steps}
    assert by_name["CheckAccuracy"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert by_name["Train"]["Metadata"]["TrainingJob"]["Arn"].startswith(
        f"arn:aws:sagemaker:{REGION}:"
    )


def test_the_registered_package_carries_the_lineage_and_metrics_of_the_run(
    emulator: Emulator, trained: dict[str, Any]
) -> None:
    sagemaker, s3 = emulator.client("sagemaker"), emulator.client("s3")
    (summary,) = sagemaker.list_model_packages(ModelPackageGroupName=DEV_GROUP)[
        "ModelPackageSummaryList"
    ]
    package = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])

    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["MetadataProperties"]["CommitId"] == COMMIT
    assert package["MetadataProperties"]["GeneratedBy"] == trained["result"].execution_arn
    lineage = package["CustomerMetadataProperties"]
    assert lineage["commit_id"] == COMMIT and lineage["branch"] == "dev"
    assert len(lineage["dataset_sha256"]) == 64
    assert int(lineage["dataset_rows"]) > 500  # the whole sample, before the split
    assert float(lineage["metric.accuracy"]) >= 0.9
    statistics = package["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    bucket, key = statistics.removeprefix("s3://").split("/", 1)
    report = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert report["binary_classification_metrics"]["accuracy"]["value"] == float(
        lineage["metric.accuracy"]
    )
    model_url = package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert model_url.endswith("/output/model.tar.gz")
    bucket, key = model_url.removeprefix("s3://").split("/", 1)
    packed = io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    with tarfile.open(fileobj=packed) as archive:
        names = set(archive.getnames())
    assert {"model.joblib", "model_info.json", "code/inference.py"} <= names


def test_below_the_threshold_the_fail_step_fails_the_execution_and_nothing_registers(
    emulator: Emulator, trained: dict[str, Any], pipelines: PipelineRuns
) -> None:
    sagemaker = emulator.client("sagemaker")
    before = len(
        sagemaker.list_model_packages(ModelPackageGroupName=DEV_GROUP)["ModelPackageSummaryList"]
    )

    arn = sagemaker.start_pipeline_execution(
        PipelineName=trained["result"].pipeline_name,
        PipelineParameters=[{"Name": "MinAccuracy", "Value": "1.01"}],
    )["PipelineExecutionArn"]
    pipelines.wait(arn, 300)

    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    steps = {s["StepName"]: s for s in steps_of(emulator, arn)}
    assert steps["CheckAccuracy"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert steps["AccuracyBelowThreshold"]["StepStatus"] == "Failed"
    assert "is below MinAccuracy 1.01" in steps["AccuracyBelowThreshold"]["FailureReason"]
    assert "RegisterModel" not in steps
    with pytest.raises(PipelineRunError, match="AccuracyBelowThreshold: test accuracy"):
        wait_for_execution(sagemaker, arn, poll_seconds=0.1, report=lambda line: None)
    after = sagemaker.list_model_packages(ModelPackageGroupName=DEV_GROUP)[
        "ModelPackageSummaryList"
    ]
    assert len(after) == before


def test_a_stopped_execution_ends_stopped_and_the_seed_reports_it(
    emulator: Emulator, trained: dict[str, Any], pipelines: PipelineRuns
) -> None:
    sagemaker = emulator.client("sagemaker")
    arn = sagemaker.start_pipeline_execution(PipelineName=trained["result"].pipeline_name)[
        "PipelineExecutionArn"
    ]

    sagemaker.stop_pipeline_execution(PipelineExecutionArn=arn)
    pipelines.wait(arn, 120)

    described = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert described["PipelineExecutionStatus"] == "Stopped"
    with pytest.raises(PipelineRunError, match="pipeline execution stopped"):
        wait_for_execution(sagemaker, arn, poll_seconds=0.1, report=lambda line: None)


def test_parameters_the_definition_does_not_declare_are_refused(
    emulator: Emulator, trained: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as refused:
        emulator.client("sagemaker").start_pipeline_execution(
            PipelineName=trained["result"].pipeline_name,
            PipelineParameters=[{"Name": "NoSuchParameter", "Value": "x"}],
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"
