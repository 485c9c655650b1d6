"""The CI build (``python -m pipelines.ci``) under moto, per scenario and branch kind."""

from __future__ import annotations

import json

import pytest
import yaml
from pipelines import ci

from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.scenarios import SCENARIOS
from sandbox.emulator_gaps import ScriptedPipelineExecutions, TrainingRoleS3
from tests.seed_code.conftest import (
    ACCOUNT_ID,
    BUCKET,
    PROJECT_ID,
    PROJECT_NAME,
    ROLE_ARN,
    SCENARIO_NAMES,
    create_groups,
    project_document,
)
from tests.support.git_repository import GitRepository

NAMES = ProjectNames(PROJECT_NAME, PROJECT_ID)
SAMPLE_KEY = f"{NAMES.prefix}/datasets/sample/breast_cancer.csv"


def build_environment(branch: str, commit: str, **extra: str) -> dict[str, str]:
    return {
        "SOURCE_BRANCH": branch,
        "CODEBUILD_RESOLVED_SOURCE_VERSION": commit,
        "SAGEMAKER_PIPELINE_ROLE_ARN": ROLE_ARN,
        **extra,
    }


def run_ci(aws, repo_dir, environ, executions=None, argv=(), **options):
    executions = executions or ScriptedPipelineExecutions(aws.client("sagemaker"))
    options.setdefault("sleep", lambda seconds: None)
    return ci.main(
        list(argv),
        environ=environ,
        boto_session=aws,
        repo_dir=repo_dir,
        sagemaker_client=executions,
        **options,
    )


def nothing_published(aws) -> bool:
    listed = aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"{NAMES.prefix}/deploy/")
    return listed.get("KeyCount", 0) == 0


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
@pytest.mark.parametrize(("branch", "kind"), [("feature-wider-trees", "feature"), ("dev", "dev")])
def test_a_push_to_a_training_branch_runs_its_pipeline_and_waits(
    aws, seed_repository, capsys, scenario, branch, kind
):
    repo = seed_repository(scenario)
    commit = "c0ffee" + "0" * 34
    executions = ScriptedPipelineExecutions(aws.client("sagemaker"))

    assert run_ci(aws, repo, build_environment(branch, commit), executions) == 0

    sagemaker = aws.client("sagemaker")
    pipeline_name = NAMES.pipeline(kind)
    described = sagemaker.describe_pipeline(PipelineName=pipeline_name)
    definition = json.loads(described["PipelineDefinition"])
    register = definition["Steps"][-1]["Arguments"]["IfSteps"][0]["Arguments"]
    assert register["ModelPackageGroupName"] == NAMES.model_package_group(kind)
    assert register["CustomerMetadataProperties"]["commit_id"] == commit
    assert described["RoleArn"] == ROLE_ARN
    tags = sagemaker.list_tags(ResourceArn=described["PipelineArn"])["Tags"]
    assert {"Key": "sagemaker:project-name", "Value": PROJECT_NAME} in tags
    assert {"Key": "sagemaker:project-id", "Value": PROJECT_ID} in tags

    [arn] = executions.started
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)
    assert {"Name": "InputDataUri", "Value": f"s3://{BUCKET}/{SAMPLE_KEY}"} in parameters[
        "PipelineParameters"
    ]
    aws.client("s3").head_object(Bucket=BUCKET, Key=SAMPLE_KEY)  # the sample was uploaded
    out = capsys.readouterr().out
    assert "uploaded the sample dataset" in out
    assert f"pipeline {pipeline_name} succeeded" in out


def test_a_second_build_reuses_the_pipeline_and_the_uploaded_sample(aws, seed_repository, capsys):
    repo = seed_repository("baseline")
    assert run_ci(aws, repo, build_environment("dev", "a" * 40)) == 0
    capsys.readouterr()
    assert run_ci(aws, repo, build_environment("dev", "b" * 40)) == 0
    assert "uploaded the sample dataset" not in capsys.readouterr().out
    definition = aws.client("sagemaker").describe_pipeline(PipelineName=NAMES.pipeline("dev"))
    assert "b" * 40 in definition["PipelineDefinition"]


def test_a_failed_pipeline_fails_the_build_with_the_step_and_reason(aws, seed_repository, capsys):
    repo = seed_repository("baseline")
    executions = ScriptedPipelineExecutions(
        aws.client("sagemaker"),
        status="Failed",
        steps=[
            {"StepName": "Preprocess", "StepStatus": "Succeeded"},
            {
                "StepName": "AccuracyBelowThreshold",
                "StepStatus": "Failed",
                "FailureReason": "test accuracy 0.81 is below MinAccuracy 0.9",
            },
        ],
    )
    assert run_ci(aws, repo, build_environment("feature-x", "d" * 40), executions) == 1
    error = capsys.readouterr().err
    assert "AccuracyBelowThreshold: test accuracy 0.81 is below MinAccuracy 0.9" in error
    assert error.startswith("error: pipeline execution failed")


def test_a_pipeline_changed_by_a_concurrent_build_is_stopped(aws, seed_repository, capsys):
    repo = seed_repository("advanced")
    executions = ScriptedPipelineExecutions(
        aws.client("sagemaker"), definition_override='{"Steps": []}'
    )
    assert run_ci(aws, repo, build_environment("feature-y", "e" * 40), executions) == 1
    assert executions.stopped == executions.started
    assert "Re-run this build" in capsys.readouterr().err


def test_a_pipeline_still_running_after_the_wait_fails_the_build(aws, seed_repository, capsys):
    repo = seed_repository("baseline")
    executions = ScriptedPipelineExecutions(aws.client("sagemaker"), status="Executing")
    environ = build_environment("dev", "f" * 40, PIPELINE_WAIT_MINUTES="1")
    assert run_ci(aws, repo, environ, executions) == 1
    assert "still Executing after 1 min" in capsys.readouterr().err


def test_training_data_can_come_from_the_build_environment(aws, seed_repository):
    """As the README says: the data under the project's prefix, INPUT_DATA_URI in buildspec.yml."""
    role_s3 = TrainingRoleS3(aws, BUCKET, NAMES.prefix)
    repo = seed_repository("baseline")
    data = f"{NAMES.prefix}/datasets/churn/"
    aws.client("s3").put_object(Bucket=BUCKET, Key=f"{data}2024.csv", Body=b"a,target\n1,0\n")
    buildspec = repo / "buildspec.yml"
    with_data = buildspec.read_text().replace(
        "  variables:\n", f"  variables:\n    INPUT_DATA_URI: s3://{BUCKET}/{data}\n", 1
    )
    buildspec.write_text(with_data)
    variables = yaml.safe_load(with_data)["env"]["variables"]  # what CodeBuild exports
    executions = ScriptedPipelineExecutions(aws.client("sagemaker"))
    environ = {**variables, **build_environment("dev", "1" * 40)}

    assert run_ci(aws, repo, environ, executions) == 0

    parameters = aws.client("sagemaker").list_pipeline_parameters_for_execution(
        PipelineExecutionArn=executions.started[0]
    )["PipelineParameters"]
    assert {"Name": "InputDataUri", "Value": f"s3://{BUCKET}/{data}"} in parameters
    assert role_s3.refused == []


def test_training_data_that_is_not_there_fails_before_any_pipeline_runs(
    aws, seed_repository, capsys
):
    repo = seed_repository("baseline")
    missing = f"s3://{BUCKET}/{NAMES.prefix}/datasets/missing/"
    environ = build_environment("dev", "2" * 40, INPUT_DATA_URI=missing)
    assert run_ci(aws, repo, environ) == 1
    assert "holds no object" in capsys.readouterr().err
    assert aws.client("sagemaker").list_pipelines()["PipelineSummaries"] == []


@pytest.mark.parametrize(
    "location",
    [
        f"s3://{BUCKET}/data/churn/",  # the project bucket, outside the project's prefix
        f"s3://{BUCKET}/{NAMES.prefix}-other/data/",  # a prefix that only starts the same
        f"s3://team-datasets-{ACCOUNT_ID}/churn/",  # another bucket
    ],
)
def test_training_data_outside_the_projects_prefix_is_refused_naming_the_prefix(
    aws, seed_repository, capsys, location
):
    repo = seed_repository("baseline")
    environ = build_environment("dev", "3" * 40, INPUT_DATA_URI=location)

    assert run_ci(aws, repo, environ) == 1

    allowed = f"s3://{BUCKET}/{NAMES.prefix}/"
    assert capsys.readouterr().err == (
        f"error: INPUT_DATA_URI {location} is outside the project's data: the pipeline role "
        f"may read only {allowed}; copy the data there, for example under "
        f"{allowed}datasets/<name>/\n"
    )
    assert nothing_published(aws)
    assert aws.client("sagemaker").list_pipelines()["PipelineSummaries"] == []


def test_training_without_the_pipeline_role_is_a_clear_error(aws, seed_repository, capsys):
    repo = seed_repository("baseline")
    environ = build_environment("dev", "3" * 40)
    del environ["SAGEMAKER_PIPELINE_ROLE_ARN"]
    assert run_ci(aws, repo, environ) == 1
    assert "SAGEMAKER_PIPELINE_ROLE_ARN is not set" in capsys.readouterr().err
    assert nothing_published(aws)  # checked before the dev settings are published


@pytest.mark.parametrize("branch", ["main", "release-1", "feature-"])
def test_any_other_branch_builds_nothing_and_says_so(aws, seed_repository, capsys, branch):
    repo = seed_repository("baseline")
    assert run_ci(aws, repo, build_environment(branch, "4" * 40)) == 0
    assert "nothing to build" in capsys.readouterr().out
    assert aws.client("sagemaker").list_pipelines()["PipelineSummaries"] == []


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_plan_only_says_what_the_build_would_do_without_aws(seed_repository, capsys, scenario):
    repo = seed_repository(scenario)
    assert ci.main(["--plan"], environ=build_environment("prod", "5" * 40), repo_dir=repo) == 0
    out = capsys.readouterr().out
    production = project_document(scenario)["model_groups"]
    assert "no training" in out
    assert all(production[k] in out for k in ("prod",) if scenario == "baseline")
    assert all(production[k] in out for k in ("champion", "challenger") if scenario == "advanced")


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_a_push_to_prod_promotes_without_training(aws, seed_repository, capsys, scenario):
    repo_dir = seed_repository(scenario)
    git = GitRepository(repo_dir)
    trained = git.commit("initial seed code")
    document = project_document(scenario)
    create_groups(aws, document)
    sagemaker = aws.client("sagemaker")
    sagemaker.create_model_package(
        ModelPackageGroupName=document["model_groups"]["dev"],
        InferenceSpecification={
            "Containers": [
                {"Image": "example.com/sklearn:1", "ModelDataUrl": f"s3://{BUCKET}/m.tar.gz"}
            ],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        MetadataProperties={"CommitId": trained},
        CustomerMetadataProperties={"commit_id": trained, "branch": "dev"},
        ModelApprovalStatus="Approved",
    )

    assert run_ci(aws, repo_dir, build_environment("prod", trained)) == 0

    for kind in project_document(scenario)["model_groups"]:
        packages = sagemaker.list_model_packages(
            ModelPackageGroupName=document["model_groups"][kind]
        )
        expected = 1 if kind in ("dev", "prod", "champion", "challenger") else 0
        assert len(packages["ModelPackageSummaryList"]) == expected, kind
    assert sagemaker.list_pipelines()["PipelineSummaries"] == []
    assert "created" in capsys.readouterr().out


def test_the_registration_approval_status_comes_from_the_deploy_config(aws, seed_repository):
    repo = seed_repository("advanced")
    config = repo / "deploy" / "config.yaml"
    config.write_text(
        config.read_text().replace(
            "approval_status: PendingManualApproval   # status of models the pipeline registers",
            "approval_status: Approved",
        )
    )
    assert run_ci(aws, repo, build_environment("feature-auto", "6" * 40)) == 0
    described = aws.client("sagemaker").describe_pipeline(PipelineName=NAMES.pipeline("feature"))
    parameters = {p["Name"]: p for p in json.loads(described["PipelineDefinition"])["Parameters"]}
    assert parameters["ModelApprovalStatus"]["DefaultValue"] == "Approved"


def test_a_broken_deploy_config_fails_the_build_before_anything_runs(aws, seed_repository, capsys):
    repo = seed_repository("baseline")
    (repo / "deploy" / "config.yaml").write_text("schema_version: 1\ndevelopment: {mode: batch}\n")
    assert run_ci(aws, repo, build_environment("dev", "7" * 40)) == 1
    assert "key 'development.mode'" in capsys.readouterr().err
    assert aws.client("sagemaker").list_pipelines()["PipelineSummaries"] == []


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_a_push_to_prod_promotes_mlflow_versions_in_the_mlflow_flavour(
    aws, seed_repository, tmp_path, monkeypatch, capsys, scenario
):
    from mlflow import MlflowClient

    monkeypatch.chdir(tmp_path)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    repo_dir = seed_repository(scenario, "mlflow")
    document = project_document(scenario, "mlflow", mlflow_tracking_uri=store)
    (repo_dir / "project.json").write_text(json.dumps(document))
    trained = GitRepository(repo_dir).commit("initial seed code")
    groups = document["model_groups"]
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    client.create_registered_model(groups["dev"])
    client.create_model_version(
        groups["dev"], source=f"s3://{BUCKET}/m.tar.gz", tags={"commit_id": trained}
    )

    environ = build_environment("prod", trained)
    assert ci.main([], environ=environ, repo_dir=repo_dir, boto_session=aws) == 0

    config_key = f"{NAMES.prefix}/deploy/prod/config.json"
    aws.client("s3").head_object(Bucket=BUCKET, Key=config_key)  # prod's settings, published
    for kind in SCENARIOS[scenario].production_kinds:
        [copy] = client.search_model_versions(f"name = '{groups[kind]}'")
        assert copy.tags["commit_id"] == trained
        assert copy.tags["promoted_from"] == f"{groups['dev']}/1"
    assert "created" in capsys.readouterr().out


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_a_dev_build_publishes_its_deployment_settings_for_the_platform(
    aws, seed_repository, capsys, scenario
):
    repo = seed_repository(scenario)
    assert run_ci(aws, repo, build_environment("dev", "f" * 40)) == 0

    s3 = aws.client("s3")
    base = f"{NAMES.prefix}/deploy/dev"
    config = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{base}/config.json")["Body"].read())
    assert config["development"]["mode"] == "serverless"
    assert config["development"]["ttl_hours"] == 24
    assert ("champion_challenger" in config["production"]) == (scenario == "advanced")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{base}/payloads/")["Contents"]
    published = sorted(item["Key"].rsplit("/", 1)[1] for item in listed)
    shipped = sorted(p.name for p in (repo / "integration_tests" / "payloads").glob("*.json"))
    assert published == shipped
    assert "published the deployment settings of dev: 4 objects" in capsys.readouterr().out


def test_payloads_removed_from_the_repository_are_no_longer_published(aws, seed_repository, capsys):
    """The platform tests every published payload: a deleted one must not keep running."""
    repo = seed_repository("baseline")
    assert run_ci(aws, repo, build_environment("dev", "a" * 40)) == 0
    payloads = repo / "integration_tests" / "payloads"
    dropped, renamed = sorted(payloads.glob("*.json"))[:2]
    dropped.unlink()
    renamed.rename(payloads / f"renamed-{renamed.name}")
    capsys.readouterr()

    assert run_ci(aws, repo, build_environment("dev", "b" * 40)) == 0

    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{NAMES.prefix}/deploy/dev/payloads/")
    published = sorted(item["Key"].rsplit("/", 1)[1] for item in listed["Contents"])
    assert published == sorted(p.name for p in payloads.glob("*.json"))
    assert dropped.name not in published and renamed.name not in published
    assert "removed 2 stale payload(s)" in capsys.readouterr().out


def test_a_feature_build_publishes_no_deployment_settings(aws, seed_repository):
    repo = seed_repository("baseline")
    assert run_ci(aws, repo, build_environment("feature-x", "1" * 40)) == 0
    listed = aws.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"{NAMES.prefix}/deploy/")
    assert listed.get("KeyCount", 0) == 0


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_the_first_build_uploads_the_sample_with_the_training_roles_s3_access(
    aws, seed_repository, capsys, scenario
):
    """The role may list only under the project's prefix, so S3 answers a HEAD of the
    missing sample with 403, not 404: the first build must not depend on that answer."""
    role_s3 = TrainingRoleS3(aws, BUCKET, NAMES.prefix)
    repo = seed_repository(scenario)
    executions = ScriptedPipelineExecutions(aws.client("sagemaker"))

    assert run_ci(aws, repo, build_environment("dev", "8" * 40), executions) == 0

    out = capsys.readouterr().out
    assert f"uploaded the sample dataset to s3://{BUCKET}/{SAMPLE_KEY}" in out
    parameters = aws.client("sagemaker").list_pipeline_parameters_for_execution(
        PipelineExecutionArn=executions.started[0]
    )["PipelineParameters"]
    assert {"Name": "InputDataUri", "Value": f"s3://{BUCKET}/{SAMPLE_KEY}"} in parameters
    assert role_s3.refused == []  # nothing the role may not do was asked

    assert run_ci(aws, repo, build_environment("dev", "9" * 40)) == 0  # the next build reuses it
    assert "uploaded the sample dataset" not in capsys.readouterr().out


NOW = 1_800_000_000.0  # the build's clock, in seconds since the epoch


def codebuild_environment(
    commit: str, minutes_ago: float, timeout: str = "120", **extra: str
) -> dict[str, str]:
    """A dev build as CodeBuild runs it: started ``minutes_ago`` (pip install, pytest)."""
    started_ms = int((NOW - minutes_ago * 60) * 1000)
    return build_environment(
        "dev",
        commit,
        BUILD_TIMEOUT_MINUTES=timeout,
        CODEBUILD_START_TIME=str(started_ms),
        **extra,
    )


@pytest.mark.parametrize(
    ("minutes_ago", "requested", "waited_minutes"),
    [
        (6, None, 120 - 10 - 6),  # default: until 10 minutes before CodeBuild's timeout
        (20, "105", 120 - 10 - 20),  # asked for more than the build has left: what is left
        (6, "45", 45),
    ],
)
def test_a_long_pipeline_fails_the_build_with_a_message_before_codebuild_stops_it(
    aws, seed_repository, capsys, minutes_ago, requested, waited_minutes
):
    repo = seed_repository("baseline")
    executions = ScriptedPipelineExecutions(aws.client("sagemaker"), status="Executing")
    extra = {"PIPELINE_WAIT_MINUTES": requested} if requested else {}
    environ = codebuild_environment("c" * 40, minutes_ago, **extra)
    slept = []

    assert run_ci(aws, repo, environ, executions, clock=lambda: NOW, sleep=slept.append) == 1

    captured = capsys.readouterr()
    assert f"waiting at most {waited_minutes} min for the pipeline" in captured.out
    assert f"still Executing after {waited_minutes} min" in captured.err
    assert minutes_ago + sum(slept) / 60 <= 120 - 10  # the build's own message, in time


def test_a_wait_longer_than_the_build_timeout_is_refused_before_anything_runs(
    aws, seed_repository, capsys
):
    repo = seed_repository("baseline")
    environ = codebuild_environment("d" * 40, 5, PIPELINE_WAIT_MINUTES="150")

    assert run_ci(aws, repo, environ, clock=lambda: NOW) == 1

    assert capsys.readouterr().err == (
        "error: PIPELINE_WAIT_MINUTES=150 is more than this build can wait: CodeBuild stops "
        "it after BUILD_TIMEOUT_MINUTES=120 min and 10 min are kept to start the pipeline and "
        "report; set at most 110\n"
    )
    assert nothing_published(aws)
    assert aws.client("sagemaker").list_pipelines()["PipelineSummaries"] == []


@pytest.mark.parametrize("value", ["2h", "0", "-30", "nan", "inf", "1e999"])
def test_a_bad_pipeline_wait_is_a_one_line_error_before_anything_is_published(
    aws, seed_repository, capsys, value
):
    repo = seed_repository("baseline")
    environ = build_environment("dev", "e" * 40, PIPELINE_WAIT_MINUTES=value)

    assert run_ci(aws, repo, environ) == 1

    assert capsys.readouterr().err == (
        f"error: PIPELINE_WAIT_MINUTES={value!r} is not a positive number of minutes "
        "(for example 90)\n"
    )
    assert nothing_published(aws)
    assert aws.client("sagemaker").list_pipelines()["PipelineSummaries"] == []
