"""Removing a project's SageMaker pipelines (moto), running executions stopped first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.project_pipelines import (
    STOP_WAITS,
    PipelineBusyError,
    remove_project_pipelines,
    request_token,
)
from sandbox.emulator_gaps import ScriptedPipelineExecutions
from tests.lambda_project_lifecycle.conftest import Emulated, emulated_aws

NAMES = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
ROLE = "arn:aws:iam::123456789012:role/sagemaker-churn-model-p-7gxpyr2wsl2k-training"
DEFINITION = json.dumps({"Version": "2020-12-01", "Steps": []})


@pytest.fixture
def aws() -> Iterator[Emulated]:
    with emulated_aws() as emulated:
        yield emulated


def make_pipeline(sagemaker: Any, name: str, project_id: str = NAMES.project_id) -> None:
    sagemaker.create_pipeline(
        PipelineName=name,
        PipelineDefinition=DEFINITION,
        RoleArn=ROLE,
        Tags=[
            {"Key": "sagemaker:project-name", "Value": NAMES.project_name},
            {"Key": "sagemaker:project-id", "Value": project_id},
        ],
    )


def pipeline_names(sagemaker: Any) -> set[str]:
    return {p["PipelineName"] for p in sagemaker.list_pipelines()["PipelineSummaries"]}


def test_the_projects_pipelines_are_deleted_and_others_stay(aws: Emulated) -> None:
    for kind in ("feature", "dev"):
        make_pipeline(aws.sagemaker, NAMES.pipeline(kind))
    # Same prefix, another project's id tag; a longer id that starts like ours; by hand.
    make_pipeline(aws.sagemaker, NAMES.pipeline("copy"), project_id="p-someoneelse")
    make_pipeline(aws.sagemaker, "sagemaker-churn-model-p-7gxpyr2wsl2k9-dev", "p-7gxpyr2wsl2k9")
    make_pipeline(aws.sagemaker, "team-pipeline")

    deleted = remove_project_pipelines(aws.sagemaker, NAMES, request_id="req-1")

    assert sorted(deleted) == [NAMES.pipeline("dev"), NAMES.pipeline("feature")]
    assert pipeline_names(aws.sagemaker) == {
        NAMES.pipeline("copy"),
        "sagemaker-churn-model-p-7gxpyr2wsl2k9-dev",
        "team-pipeline",
    }


def test_a_second_removal_finds_nothing_and_succeeds(aws: Emulated) -> None:
    make_pipeline(aws.sagemaker, NAMES.pipeline("dev"))
    assert remove_project_pipelines(aws.sagemaker, NAMES) == [NAMES.pipeline("dev")]
    assert remove_project_pipelines(aws.sagemaker, NAMES) == []


def test_running_executions_are_stopped_before_the_pipeline_is_deleted(aws: Emulated) -> None:
    make_pipeline(aws.sagemaker, NAMES.pipeline("dev"))
    sagemaker = ScriptedPipelineExecutions(aws.sagemaker, status="Executing")
    running = sagemaker.start_pipeline_execution(PipelineName=NAMES.pipeline("dev"))
    sagemaker.status = "Succeeded"
    sagemaker.start_pipeline_execution(PipelineName=NAMES.pipeline("dev"))

    deleted = remove_project_pipelines(sagemaker, NAMES, sleep=lambda _: None)

    assert deleted == [NAMES.pipeline("dev")]
    assert sagemaker.stopped == [running["PipelineExecutionArn"]]
    assert pipeline_names(aws.sagemaker) == set()


class StillStopping:
    """SageMaker while a stopped execution has not ended: DeletePipeline answers
    ConflictException the first ``refusals`` times."""

    def __init__(self, real: Any, refusals: int) -> None:
        self._real = real
        self.refusals = refusals
        self.tokens: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def list_pipeline_executions(self, **kwargs: Any) -> Any:
        return {
            "PipelineExecutionSummaries": [
                {"PipelineExecutionArn": "arn:stopping", "PipelineExecutionStatus": "Stopping"}
            ]
        }

    def delete_pipeline(self, **kwargs: Any) -> Any:
        self.tokens.append(kwargs["ClientRequestToken"])
        if self.refusals:
            self.refusals -= 1
            raise ClientError(
                {"Error": {"Code": "ConflictException", "Message": "executions running"}},
                "DeletePipeline",
            )
        return self._real.delete_pipeline(**kwargs)


def test_a_pipeline_whose_executions_are_stopping_is_deleted_once_they_end(
    aws: Emulated,
) -> None:
    make_pipeline(aws.sagemaker, NAMES.pipeline("dev"))
    sagemaker = StillStopping(aws.sagemaker, refusals=2)
    slept: list[float] = []

    deleted = remove_project_pipelines(sagemaker, NAMES, request_id="req-1", sleep=slept.append)

    assert deleted == [NAMES.pipeline("dev")]
    assert slept == list(STOP_WAITS[:2])
    assert set(sagemaker.tokens) == {request_token("req-1", NAMES.pipeline("dev"))}


def test_executions_that_do_not_stop_in_time_fail_naming_the_pipeline(aws: Emulated) -> None:
    make_pipeline(aws.sagemaker, NAMES.pipeline("dev"))
    sagemaker = StillStopping(aws.sagemaker, refusals=len(STOP_WAITS) + 1)

    with pytest.raises(PipelineBusyError, match=NAMES.pipeline("dev")):
        remove_project_pipelines(sagemaker, NAMES, sleep=lambda _: None)
    assert pipeline_names(aws.sagemaker) == {NAMES.pipeline("dev")}


def test_request_tokens_fit_the_api_and_differ_between_requests() -> None:
    token = request_token("req-1", NAMES.pipeline("dev"))
    assert 32 <= len(token) <= 128
    assert token == request_token("req-1", NAMES.pipeline("dev"))
    assert token != request_token("req-2", NAMES.pipeline("dev"))
