"""The pipeline definition, built offline (moto, telemetry off) for every scenario,
registry flavour and training branch kind."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pipelines import definition, lineage
from pipelines.project import parse_project
from pipelines.training_settings import HYPERPARAMETERS, MIN_ACCURACY
from steps.evaluate import METRIC_NAMES

from lambda_project_lifecycle.naming import ProjectNames
from tests.seed_code.conftest import (
    BUCKET,
    FLAVOURS,
    MLFLOW_TRACKING_URI,
    PROJECT_ID,
    PROJECT_NAME,
    REGION,
    ROLE_ARN,
    project_document,
)
from tests.support import sagemaker_sdk

COMMIT = "9b2e7c1d4a5f60718293a4b5c6d7e8f901234567"
BRANCH_OF_KIND = {"feature": "feature-better-trees", "dev": "dev"}
CASES = [(scenario, registry, kind) for scenario, registry in FLAVOURS for kind in BRANCH_OF_KIND]
ACCURACY_PATH = "binary_classification_metrics.accuracy.value"
SKLEARN_IMAGE = f"141502667606.dkr.ecr.{REGION}.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
NAMES = ProjectNames(PROJECT_NAME, PROJECT_ID)
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:p-mlflow-platform-user-Ab12Cd"
# What the build is given on the platform's self-hosted MLflow server (buildspec.yml).
PRIVATE_ACCESS = definition.MlflowAccess.from_environment(
    {
        "MLFLOW_CREDENTIALS_SECRET_ARN": SECRET_ARN,
        "MLFLOW_SUBNET_IDS": "subnet-0a1b2c3d,subnet-4e5f6a7b",
        "MLFLOW_SECURITY_GROUP_ID": "sg-0a1b2c3d",
        "MLFLOW_TRACKING_PASSWORD": "Platform-generated-0002",
    }
)


@pytest.fixture(scope="module")
def definitions(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[tuple[str, str, str], Any]]:
    """Every case's pipeline name and parsed definition, built once under one moto."""
    from moto import mock_aws

    with pytest.MonkeyPatch.context() as patch, mock_aws():
        sagemaker_sdk.prepare(patch, tmp_path_factory.mktemp("sdk"), REGION)
        import boto3
        from sagemaker.core.workflow.pipeline_context import PipelineSession

        session = boto3.Session(region_name=REGION)
        session.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        built = {}
        for scenario, registry, kind in CASES:
            project = parse_project(project_document(scenario, registry))
            run = definition.TrainingRun(
                kind=kind, branch=BRANCH_OF_KIND[kind], commit=COMMIT, role_arn=ROLE_ARN
            )
            pipeline_session = PipelineSession(
                boto_session=session,
                default_bucket=project.bucket,
                default_bucket_prefix=project.prefix,
            )
            pipeline = definition.build_pipeline(project, run, pipeline_session)
            built[(scenario, registry, kind)] = (pipeline.name, json.loads(pipeline.definition()))
            if registry == "mlflow":  # the same on the platform's self-hosted server
                private = dataclasses.replace(run, mlflow_access=PRIVATE_ACCESS)
                pipeline = definition.build_pipeline(project, private, pipeline_session)
                built[(scenario, registry, kind, "private")] = (
                    pipeline.name,
                    json.loads(pipeline.definition()),
                )
        yield built


def steps_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    steps = {step["Name"]: step for step in document["Steps"]}
    for branch in ("IfSteps", "ElseSteps"):
        for step in steps["CheckAccuracy"]["Arguments"][branch]:
            steps[step["Name"]] = step
    return steps


def evaluation_json_get(path: str) -> dict[str, Any]:
    report = {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"}
    return {"Std:JsonGet": {"PropertyFile": report, "Path": path}}


@pytest.mark.parametrize(("scenario", "registry", "kind"), CASES)
def test_the_pipeline_has_the_steps_and_parameters_of_its_branch_kind(
    definitions, scenario, registry, kind
):
    name, document = definitions[(scenario, registry, kind)]
    assert name == NAMES.pipeline(kind)
    parameters = {p["Name"]: p for p in document["Parameters"]}
    assert parameters["InputDataUri"]["DefaultValue"] == (
        f"s3://{BUCKET}/{NAMES.prefix}/datasets/sample/breast_cancer.csv"
    )
    assert parameters["MinAccuracy"] == {
        "Name": "MinAccuracy",
        "Type": "Float",
        "DefaultValue": MIN_ACCURACY,
    }
    assert parameters["ModelApprovalStatus"]["DefaultValue"] == "PendingManualApproval"
    assert [(s["Name"], s["Type"]) for s in document["Steps"]] == [
        ("Preprocess", "Processing"),
        ("Train", "Training"),
        ("Evaluate", "Processing"),
        ("CheckAccuracy", "Condition"),
    ]
    steps = steps_of(document)
    assert steps["Preprocess"]["Arguments"]["AppSpecification"]["ImageUri"] == SKLEARN_IMAGE
    assert steps["Train"]["Arguments"]["AlgorithmSpecification"]["TrainingImage"] == SKLEARN_IMAGE
    assert steps["Train"]["Arguments"]["HyperParameters"] == {
        k: str(v) for k, v in HYPERPARAMETERS.items()
    }
    channels = {c["ChannelName"]: c for c in steps["Train"]["Arguments"]["InputDataConfig"]}
    assert channels["train"]["DataSource"]["S3DataSource"]["S3Uri"] == {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }


@pytest.mark.parametrize(("scenario", "registry", "kind"), CASES)
def test_evaluation_metrics_are_read_through_a_property_file_and_gate_registration(
    definitions, scenario, registry, kind
):
    _, document = definitions[(scenario, registry, kind)]
    steps = steps_of(document)
    assert steps["Evaluate"]["PropertyFiles"] == [
        {
            "PropertyFileName": "EvaluationReport",
            "OutputName": "evaluation",
            "FilePath": "evaluation.json",
        }
    ]
    assert steps["Preprocess"]["PropertyFiles"] == [
        {"PropertyFileName": "DatasetReport", "OutputName": "dataset", "FilePath": "dataset.json"}
    ]
    check = steps["CheckAccuracy"]["Arguments"]
    assert check["Conditions"] == [
        {
            "Type": "GreaterThanOrEqualTo",
            "LeftValue": evaluation_json_get(ACCURACY_PATH),
            "RightValue": {"Get": "Parameters.MinAccuracy"},
        }
    ]
    assert [s["Name"] for s in check["IfSteps"]] == ["RegisterModel"]
    assert [(s["Name"], s["Type"]) for s in check["ElseSteps"]] == [
        ("AccuracyBelowThreshold", "Fail")
    ]
    group = project_document(scenario, registry)["model_groups"][kind]
    assert group in json.dumps(check["ElseSteps"][0]["Arguments"]["ErrorMessage"])


@pytest.mark.parametrize(("scenario", "kind"), [(s, k) for s, r, k in CASES if r == "sagemaker"])
def test_the_model_is_registered_into_the_branch_group_with_metrics_and_lineage(
    definitions, scenario, kind
):
    _, document = definitions[(scenario, "sagemaker", kind)]
    register = steps_of(document)["RegisterModel"]
    assert register["Type"] == "RegisterModel"
    arguments = register["Arguments"]
    assert arguments["ModelPackageGroupName"] == NAMES.model_package_group(kind)
    assert arguments["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}

    statistics = arguments["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert statistics["ContentType"] == "application/json"
    assert statistics["S3Uri"]["Std:Join"]["Values"][-2:] == ["evaluation", "evaluation.json"]

    assert arguments["MetadataProperties"]["CommitId"] == COMMIT
    assert arguments["MetadataProperties"]["GeneratedBy"] == {
        "Get": "Execution.PipelineExecutionArn"
    }
    metadata = arguments["CustomerMetadataProperties"]
    assert metadata[lineage.COMMIT_ID] == COMMIT
    assert metadata[lineage.BRANCH] == BRANCH_OF_KIND[kind]
    assert metadata[lineage.DATASET_URI] == {"Get": "Parameters.InputDataUri"}
    assert metadata[lineage.DATASET_SHA256] == {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Preprocess.PropertyFiles.DatasetReport"},
            "Path": "sha256",
        }
    }
    assert json.loads(metadata[lineage.HYPERPARAMETERS]) == HYPERPARAMETERS
    for metric in METRIC_NAMES:
        assert metadata[lineage.metric_key(metric)] == {
            "Std:Join": {
                "On": "",
                "Values": [evaluation_json_get(f"binary_classification_metrics.{metric}.value")],
            }
        }
    assert metadata[lineage.PIPELINE_EXECUTION] == {"Get": "Execution.PipelineExecutionArn"}

    container = arguments["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == SKLEARN_IMAGE
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert container["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"


@pytest.mark.parametrize(("scenario", "kind"), [(s, k) for s, r, k in CASES if r == "mlflow"])
def test_the_mlflow_flavour_registers_into_the_branch_model_with_lineage(
    definitions, scenario, kind
):
    _, document = definitions[(scenario, "mlflow", kind)]
    register = steps_of(document)["RegisterModel"]
    assert register["Type"] == "Processing"
    arguments = register["Arguments"]["AppSpecification"]["ContainerArguments"]
    option = {
        arguments[i]: arguments[i + 1]
        for i in range(0, len(arguments), 2)
        if arguments[i] != "--tag"
    }
    assert option["--model-name"] == NAMES.model_package_group(kind)
    assert option["--tracking-uri"] == MLFLOW_TRACKING_URI
    assert option["--model-data-url"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert option["--approval-status"] == {"Get": "Parameters.ModelApprovalStatus"}
    given = [arguments[i + 1] for i in range(0, len(arguments), 2) if arguments[i] == "--tag"]
    tags = {
        tag["Std:Join"]["Values"][0]: tag["Std:Join"]["Values"][1]
        for tag in given
        if isinstance(tag, dict)
    }
    # the image the platform serves the version in (the MLflow sync), known when built
    (image,) = [tag for tag in given if isinstance(tag, str)]
    assert image.startswith("inference_image=") and ".dkr.ecr." in image
    assert tags[f"{lineage.COMMIT_ID}="] == COMMIT
    assert tags[f"{lineage.BRANCH}="] == BRANCH_OF_KIND[kind]
    assert tags[f"{lineage.DATASET_URI}="] == {"Get": "Parameters.InputDataUri"}
    assert json.loads(tags[f"{lineage.HYPERPARAMETERS}="]) == HYPERPARAMETERS
    inputs = {i["InputName"] for i in register["Arguments"]["ProcessingInputs"]}
    assert {"model", "evaluation", "dataset"} <= inputs


@pytest.mark.parametrize(("scenario", "registry", "kind"), CASES)
def test_everything_stays_under_the_project_prefix_and_carries_the_project_tags(
    definitions, scenario, registry, kind
):
    _, document = definitions[(scenario, registry, kind)]
    text = json.dumps(document)
    uris = {part.split('"')[0] for part in text.split('"s3://')[1:]}
    assert uris and all(uri.startswith(f"{BUCKET}/{NAMES.prefix}/") for uri in uris)
    steps = steps_of(document)
    for name in ("Preprocess", "Train", "Evaluate"):
        assert {"Key": "sagemaker:project-name", "Value": PROJECT_NAME} in steps[name]["Arguments"][
            "Tags"
        ]
        assert {"Key": "sagemaker:project-id", "Value": PROJECT_ID} in steps[name]["Arguments"][
            "Tags"
        ]


@pytest.mark.parametrize(("scenario", "kind"), [(s, k) for s, r, k in CASES if r == "mlflow"])
def test_on_a_private_server_the_register_job_joins_its_network_and_names_the_secret(
    definitions, scenario, kind
):
    """The platform's self-hosted server is behind a private load balancer with a login: the
    register job runs in its subnets and group, and reads the user's secret itself (its
    name in the job's environment, the password nowhere in the definition)."""
    _, document = definitions[(scenario, "mlflow", kind, "private")]
    arguments = steps_of(document)["RegisterModel"]["Arguments"]

    assert arguments["NetworkConfig"]["VpcConfig"] == {
        "Subnets": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
        "SecurityGroupIds": ["sg-0a1b2c3d"],
    }
    assert arguments["Environment"]["MLFLOW_CREDENTIALS_SECRET_ARN"] == SECRET_ARN
    assert "Platform-generated-0002" not in json.dumps(document)
    other_steps = [step for step in document["Steps"] if step["Name"] != "RegisterModel"]
    assert all("NetworkConfig" not in step.get("Arguments", {}) for step in other_steps)
    # elsewhere (no secret given) the job is as it was
    _, public = definitions[(scenario, "mlflow", kind)]
    assert "NetworkConfig" not in steps_of(public)["RegisterModel"]["Arguments"]
    assert "MLFLOW_CREDENTIALS_SECRET_ARN" not in json.dumps(public)


def test_without_the_secret_a_build_asks_for_no_private_access() -> None:
    assert definition.MlflowAccess.from_environment({"MLFLOW_SUBNET_IDS": "subnet-1"}) is None
