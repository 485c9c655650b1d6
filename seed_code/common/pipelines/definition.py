"""The SageMaker pipeline: preprocess → train → evaluate → condition → register.

One pipeline per training branch kind (``<prefix>-feature``, ``<prefix>-dev``),
upserted by every build of that branch kind with the commit's code. The
register step writes into the branch's model group (SageMaker Model Registry)
or, for the MLflow flavour, into the branch's MLflow registered model — only
if test accuracy reaches the ``MinAccuracy`` parameter; otherwise the
pipeline fails with the metric and the threshold in its message.

Built with the SageMaker Python SDK v3 (``sagemaker.mlops.workflow``,
``sagemaker.train``, ``sagemaker.core``); building the definition uploads the
step scripts to the project's prefix in S3, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from steps.evaluate import METRIC_NAMES, METRICS_KEY
from steps.mlflow_registration.register import CREDENTIALS_SECRET_VARIABLE

from pipelines import lineage
from pipelines.project import REPO_ROOT, Project
from pipelines.training_settings import (
    FRAMEWORK_VERSION,
    HYPERPARAMETERS,
    INFERENCE_INSTANCE_TYPES,
    MIN_ACCURACY,
    PROCESSING_INSTANCE_TYPE,
    SAMPLE_DATASET_KEY,
    THRESHOLD_METRIC,
    TRAINING_INSTANCE_TYPE,
)

if TYPE_CHECKING:
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline

STEPS_DIR = REPO_ROOT / "steps"
MLFLOW_STEP_DIR = STEPS_DIR / "mlflow_registration"

# Step names: what Studio shows, and what tests and the CI's failure report refer to.
PREPROCESS = "Preprocess"
TRAIN = "Train"
EVALUATE = "Evaluate"
CHECK = "CheckAccuracy"
REGISTER = "RegisterModel"
BELOW_THRESHOLD = "AccuracyBelowThreshold"
DATASET_REPORT = "DatasetReport"
EVALUATION_REPORT = "EvaluationReport"

# Serving: the model archive carries code/inference.py (see steps/train.py).
SERVING_ENVIRONMENT = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
}
CONTENT_TYPES = ["text/csv", "application/json"]
RESPONSE_TYPES = ["application/json"]


# What the platform gives a build on its own (self-hosted) MLflow server, beside the
# credentials the build itself logs in with (see buildspec.yml), and the secret's ARN.
SUBNETS_VARIABLE = "MLFLOW_SUBNET_IDS"
SECURITY_GROUP_VARIABLE = "MLFLOW_SECURITY_GROUP_ID"


@dataclass(frozen=True)
class MlflowAccess:
    """How the register step reaches a tracking server in a private network (the platform's
    self-hosted one): its subnets and security group, and the secret of the user it logs in
    as, which the step reads itself (no password in the pipeline's definition)."""

    secret_arn: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> MlflowAccess | None:
        """None when the build was given no secret: the server is reachable as it is."""
        secret_arn = environ.get(CREDENTIALS_SECRET_VARIABLE, "").strip()
        if not secret_arn:
            return None

        def ids(name: str) -> tuple[str, ...]:
            return tuple(i.strip() for i in environ.get(name, "").split(",") if i.strip())

        return cls(secret_arn, ids(SUBNETS_VARIABLE), ids(SECURITY_GROUP_VARIABLE))


@dataclass(frozen=True)
class TrainingRun:
    """What one build trains: the branch kind decides the pipeline and the target group."""

    kind: str
    branch: str
    commit: str
    role_arn: str
    approval_status: str = "PendingManualApproval"
    repository: str | None = None
    mlflow_access: MlflowAccess | None = None


def build_pipeline(project: Project, run: TrainingRun, session: PipelineSession) -> Pipeline:
    """The pipeline for ``run``; ``session`` must be a PipelineSession of the project's region."""
    from sagemaker.core import image_uris
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import ProcessingInput, ProcessingOutput
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig, SourceCode, Tag

    input_data = ParameterString("InputDataUri", default_value=project.s3_uri(SAMPLE_DATASET_KEY))
    min_accuracy = ParameterFloat("MinAccuracy", default_value=MIN_ACCURACY)
    approval_status = ParameterString("ModelApprovalStatus", default_value=run.approval_status)
    processing_instance = ParameterString(
        "ProcessingInstanceType", default_value=PROCESSING_INSTANCE_TYPE
    )
    training_instance = ParameterString(
        "TrainingInstanceType", default_value=TRAINING_INSTANCE_TYPE
    )

    image = image_uris.retrieve(
        framework="sklearn",
        region=project.region,
        version=FRAMEWORK_VERSION,
        py_version="py3",
        instance_type=PROCESSING_INSTANCE_TYPE,
    )
    # Each execution writes under its own prefix:
    # s3://<bucket>/<prefix>/pipelines/<kind>/<execution id>/...
    execution_prefix = Join(
        on="/",
        values=[project.s3_uri("pipelines", run.kind), ExecutionVariables.PIPELINE_EXECUTION_ID],
    )

    def s3_output(name: str) -> Any:
        return Join(on="/", values=[execution_prefix, name])

    def processor(job: str) -> ScriptProcessor:
        return ScriptProcessor(
            role=run.role_arn,
            image_uri=image,
            command=["python3"],
            instance_type=processing_instance,
            instance_count=1,
            base_job_name=f"{project.prefix}-{job}",
            sagemaker_session=session,
            tags=project.tags,
        )

    dataset_report = PropertyFile(name=DATASET_REPORT, output_name="dataset", path="dataset.json")
    preprocess = ProcessingStep(
        name=PREPROCESS,
        step_args=processor("preprocess").run(
            code=str(STEPS_DIR / "preprocess.py"),
            inputs=[
                _processing_input(ProcessingInput, "raw", input_data, "/opt/ml/processing/raw")
            ],
            outputs=[
                _processing_output(
                    ProcessingOutput, name, s3_output(name), f"/opt/ml/processing/{name}"
                )
                for name in ("train", "validation", "test", "dataset")
            ],
        ),
        property_files=[dataset_report],
    )

    def split_uri(name: str) -> Any:
        return preprocess.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    trainer = ModelTrainer(
        training_image=image,
        source_code=SourceCode(source_dir=str(STEPS_DIR), entry_script="train.py"),
        compute=Compute(instance_type=training_instance, instance_count=1),
        hyperparameters=dict(HYPERPARAMETERS),
        output_data_config=OutputDataConfig(s3_output_path=s3_output("model")),
        base_job_name=f"{project.prefix}-train",
        sagemaker_session=session,
        role=run.role_arn,
        tags=[Tag(key=tag["Key"], value=tag["Value"]) for tag in project.tags],
    )
    train = TrainingStep(
        name=TRAIN,
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name=name, data_source=split_uri(name), content_type="text/csv")
                for name in ("train", "validation")
            ]
        ),
    )
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    evaluation_report = PropertyFile(
        name=EVALUATION_REPORT, output_name="evaluation", path="evaluation.json"
    )
    evaluate = ProcessingStep(
        name=EVALUATE,
        step_args=processor("evaluate").run(
            code=str(STEPS_DIR / "evaluate.py"),
            inputs=[
                _processing_input(ProcessingInput, "model", model_data, "/opt/ml/processing/model"),
                _processing_input(
                    ProcessingInput, "test", split_uri("test"), "/opt/ml/processing/test"
                ),
            ],
            outputs=[
                _processing_output(
                    ProcessingOutput,
                    "evaluation",
                    s3_output("evaluation"),
                    "/opt/ml/processing/evaluation",
                )
            ],
        ),
        property_files=[evaluation_report],
    )

    def metric(name: str) -> Any:
        return JsonGet(
            step_name=EVALUATE,
            property_file=evaluation_report,
            json_path=f"{METRICS_KEY}.{name}.value",
        )

    def as_text(value: Any) -> Any:
        return Join(on="", values=[value])  # metadata values are strings

    metadata = lineage.model_metadata(
        commit=run.commit,
        branch=run.branch,
        dataset_uri=input_data,
        dataset_sha256=JsonGet(
            step_name=PREPROCESS, property_file=dataset_report, json_path="sha256"
        ),
        dataset_rows=as_text(
            JsonGet(step_name=PREPROCESS, property_file=dataset_report, json_path="rows")
        ),
        hyperparameters=HYPERPARAMETERS,
        metrics={name: as_text(metric(name)) for name in METRIC_NAMES},
        pipeline_execution=ExecutionVariables.PIPELINE_EXECUTION_ARN,
    )
    target_group = project.model_group(run.kind)
    registration = Registration(
        project=project,
        run=run,
        session=session,
        image=image,
        instance_type=processing_instance,
        target_group=target_group,
        metadata=metadata,
        approval_status=approval_status,
        model_data=model_data,
        evaluation_dir=evaluate.properties.ProcessingOutputConfig.Outputs[
            "evaluation"
        ].S3Output.S3Uri,
        evaluation_uri=Join(on="/", values=[execution_prefix, "evaluation", "evaluation.json"]),
        dataset_dir=split_uri("dataset"),
    )
    if project.registry == "mlflow":
        register = _mlflow_register_step(registration)
    else:
        register = _sagemaker_register_step(registration)

    below_threshold = FailStep(
        name=BELOW_THRESHOLD,
        error_message=Join(
            on=" ",
            values=[
                f"test {THRESHOLD_METRIC}",
                metric(THRESHOLD_METRIC),
                "is below MinAccuracy",
                min_accuracy,
                f"- nothing registered into {target_group}",
            ],
        ),
    )
    check = ConditionStep(
        name=CHECK,
        conditions=[
            ConditionGreaterThanOrEqualTo(left=metric(THRESHOLD_METRIC), right=min_accuracy)
        ],
        if_steps=[register],
        else_steps=[below_threshold],
    )
    return Pipeline(
        name=project.pipeline_name(run.kind),
        parameters=[
            input_data,
            min_accuracy,
            approval_status,
            processing_instance,
            training_instance,
        ],
        steps=[preprocess, train, evaluate, check],
        sagemaker_session=session,
        pipeline_experiment_config=None,  # no SageMaker Experiments trial per execution
    )


@dataclass(frozen=True)
class Registration:
    """What the register step needs; values may be pipeline variables."""

    project: Project
    run: TrainingRun
    session: Any
    image: str
    instance_type: Any
    target_group: str  # model package group, or MLflow registered model
    metadata: dict[str, Any]  # lineage, see pipelines/lineage.py
    approval_status: Any
    model_data: Any  # S3 URI of model.tar.gz
    evaluation_dir: Any  # S3 prefix holding evaluation.json
    evaluation_uri: Any  # S3 URI of evaluation.json
    dataset_dir: Any  # S3 prefix holding dataset.json


def _processing_input(cls: Any, name: str, source: Any, local_path: str) -> Any:
    from sagemaker.core.shapes import ProcessingS3Input

    return cls(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=source, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"
        ),
    )


def _processing_output(cls: Any, name: str, destination: Any, local_path: str) -> Any:
    from sagemaker.core.shapes import ProcessingS3Output

    return cls(
        output_name=name,
        s3_output=ProcessingS3Output(
            s3_uri=destination, local_path=local_path, s3_upload_mode="EndOfJob"
        ),
    )


def _sagemaker_register_step(registration: Registration) -> Any:
    """A RegisterModel step: a model package in the branch's group, with metrics and lineage."""
    from sagemaker.core.metadata_properties import MetadataProperties
    from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.serve.model_builder import ModelBuilder

    run = registration.run
    builder = ModelBuilder(
        s3_model_data_url=registration.model_data,
        image_uri=registration.image,
        env_vars=dict(SERVING_ENVIRONMENT),
        sagemaker_session=registration.session,
        role_arn=run.role_arn,
    )
    return ModelStep(
        name=REGISTER,
        step_args=builder.register(
            model_package_group_name=registration.target_group,
            content_types=list(CONTENT_TYPES),
            response_types=list(RESPONSE_TYPES),
            inference_instances=list(INFERENCE_INSTANCE_TYPES),
            transform_instances=[INFERENCE_INSTANCE_TYPES[0]],
            approval_status=registration.approval_status,
            description=f"Trained from {run.branch} at {run.commit[:12]}",
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    s3_uri=registration.evaluation_uri, content_type="application/json"
                )
            ),
            metadata_properties=MetadataProperties(
                commit_id=run.commit,
                repository=run.repository,
                generated_by=ExecutionVariables.PIPELINE_EXECUTION_ARN,
            ),
            customer_metadata_properties=registration.metadata,
            domain="MACHINE_LEARNING",
            task="CLASSIFICATION",
        ),
    )


def _private_network(access: MlflowAccess | None) -> dict[str, Any]:
    """The register job's place in the tracking server's network, and its secret's name."""
    if access is None:
        return {}
    from sagemaker.core.network import NetworkConfig

    return {
        "network_config": NetworkConfig(
            subnets=list(access.subnets), security_group_ids=list(access.security_groups)
        ),
        "env": {CREDENTIALS_SECRET_VARIABLE: access.secret_arn},
    }


def _mlflow_register_step(registration: Registration) -> Any:
    """A processing step that logs and registers the model in MLflow (steps/mlflow_registration)."""
    from sagemaker.core.processing import FrameworkProcessor
    from sagemaker.core.shapes import ProcessingInput
    from sagemaker.core.workflow.functions import Join
    from sagemaker.mlops.workflow.steps import ProcessingStep

    project, run = registration.project, registration.run
    # Lineage known when the pipeline runs; the script adds the dataset hash, rows and metrics
    # from the dataset and evaluation reports it reads.
    passed = (
        lineage.COMMIT_ID,
        lineage.BRANCH,
        lineage.DATASET_URI,
        lineage.HYPERPARAMETERS,
        lineage.PIPELINE_EXECUTION,
    )
    # The platform serves the version as this archive in this image (the MLflow sync).
    tag_arguments: list[Any] = ["--tag", f"inference_image={registration.image}"]
    for key in passed:
        tag_arguments += ["--tag", Join(on="", values=[f"{key}=", registration.metadata[key]])]
    processor = FrameworkProcessor(
        image_uri=registration.image,
        command=["python3"],
        role=run.role_arn,
        instance_type=registration.instance_type,
        instance_count=1,
        base_job_name=f"{project.prefix}-register",
        sagemaker_session=registration.session,
        tags=project.tags,
        **_private_network(run.mlflow_access),
    )
    return ProcessingStep(
        name=REGISTER,
        step_args=processor.run(
            code="register.py",
            source_dir=str(MLFLOW_STEP_DIR),
            requirements="requirements.txt",
            inputs=[
                _processing_input(ProcessingInput, name, source, f"/opt/ml/processing/{name}")
                for name, source in (
                    ("model", registration.model_data),
                    ("evaluation", registration.evaluation_dir),
                    ("dataset", registration.dataset_dir),
                )
            ],
            arguments=[
                "--tracking-uri",
                str(project.mlflow_tracking_uri),
                "--model-name",
                registration.target_group,
                "--model-data-url",
                registration.model_data,
                "--approval-status",
                registration.approval_status,
                *tag_arguments,
            ],
        ),
    )
