"""Promotion on a push to prod: a dev model copied into production, never retrained.

A real git history in a temporary directory; the registry under moto (SageMaker
flavour) or a local MLflow store (MLflow flavour).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pipelines import lineage
from pipelines.errors import PromotionError
from pipelines.model_registry import SageMakerModelRegistry
from pipelines.project import parse_project
from pipelines.promotion import promote

from lambda_project_lifecycle.scenarios import SCENARIOS
from sandbox.emulator_gaps import SageMakerGaps
from tests.seed_code.conftest import BUCKET, SCENARIO_NAMES, create_groups, project_document
from tests.support.git_repository import GitRepository

SKLEARN_IMAGE = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"


@dataclass
class History:
    """prod: seed, merge; dev: seed, c1, c2 (merged into prod as merge), c4 (after the merge)."""

    repo: GitRepository
    seed: str
    c1: str
    c2: str
    merge: str
    c4: str


@pytest.fixture
def history(tmp_path: Path) -> History:
    repo = GitRepository(tmp_path / "repo")
    seed = repo.commit("seed code")
    repo.checkout("dev", create=True)
    c1 = repo.commit("dev: first model")
    c2 = repo.commit("dev: deeper trees")
    repo.checkout("prod")
    merge = repo.merge("dev", "merge dev into prod")
    repo.checkout("dev")
    c4 = repo.commit("dev: after the release")
    repo.checkout("prod")
    return History(repo, seed, c1, c2, merge, c4)


def register(sagemaker: Any, group: str, commit: str, status: str = "PendingManualApproval") -> str:
    """A package as the pipeline's RegisterModel step leaves it."""
    response = sagemaker.create_model_package(
        ModelPackageGroupName=group,
        ModelPackageDescription=f"Trained from dev at {commit[:12]}",
        InferenceSpecification={
            "Containers": [
                {
                    "Image": SKLEARN_IMAGE,
                    "ModelDataUrl": f"s3://{BUCKET}/models/{commit}/model.tar.gz",
                    "Environment": {"SAGEMAKER_PROGRAM": "inference.py"},
                }
            ],
            "SupportedContentTypes": ["text/csv", "application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": f"s3://{BUCKET}/evaluation/{commit}/evaluation.json",
                }
            }
        },
        MetadataProperties={
            "CommitId": commit,
            "GeneratedBy": "arn:aws:sagemaker:pipeline-execution",
        },
        CustomerMetadataProperties={
            lineage.COMMIT_ID: commit,
            lineage.BRANCH: "dev",
            lineage.DATASET_URI: f"s3://{BUCKET}/datasets/sample.csv",
            lineage.DATASET_SHA256: "5e28a8f97bb7",
            lineage.metric_key("accuracy"): "0.94",
        },
        ModelApprovalStatus=status,
    )
    return str(response["ModelPackageArn"])


def packages(sagemaker: Any, group: str) -> list[dict[str, Any]]:
    summaries = sagemaker.list_model_packages(ModelPackageGroupName=group)[
        "ModelPackageSummaryList"
    ]
    return [
        sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]) for s in summaries
    ]


@pytest.fixture
def registry(aws):
    client = aws.client("sagemaker")
    SageMakerGaps(client)  # DeleteModelPackage, which moto lacks
    return SageMakerModelRegistry(client)


@pytest.fixture
def mlflow_client(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.chdir(tmp_path)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    return MlflowClient(tracking_uri=store, registry_uri=store)


def register_mlflow(client: Any, group: str, commit: str, status: str = "PendingManualApproval"):
    """A version as the MLflow flavour's RegisterModel step leaves it."""
    return client.create_model_version(
        group,
        source=f"s3://{BUCKET}/models/{commit}/model.tar.gz",
        tags={lineage.COMMIT_ID: commit, "approval_status": status},
    )


class ConcurrentBuild:
    """The registry as one prod build sees it, while another prod build runs in between.

    ``other_build`` runs once, when this build is about to copy: both builds
    have then found the production groups without the model. Records what this
    build copied and approved.
    """

    def __init__(self, registry: Any, other_build: Any) -> None:
        self.registry = registry
        self.other_build = other_build
        self.copies: list[str] = []
        self.approved: list[str] = []

    def list_versions(self, group: str) -> Any:
        return self.registry.list_versions(group)

    def copy(self, *args: Any) -> str:
        if self.other_build is not None:
            other_build, self.other_build = self.other_build, None
            other_build()
        ref = self.registry.copy(*args)
        self.copies.append(ref)
        return ref

    def set_approval_status(self, ref: str, approval_status: str) -> None:
        self.approved.append(ref)
        self.registry.set_approval_status(ref, approval_status)

    def delete(self, ref: str) -> None:
        self.registry.delete(ref)


def setup_project(aws, scenario: str):
    document = project_document(scenario)
    create_groups(aws, document)
    return parse_project(document), document["model_groups"], aws.client("sagemaker")


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_the_model_of_the_merged_commit_is_copied_into_every_production_group(
    aws, registry, history, scenario
):
    project, groups, sagemaker = setup_project(aws, scenario)
    history.repo.git("reset", "--quiet", "--hard", history.c2)  # fast-forward: prod's head is c2
    register(sagemaker, groups["dev"], history.c1, "Approved")
    source = register(sagemaker, groups["dev"], history.c2)

    outcome = promote(project, history.c2, registry, history.repo.path)

    assert outcome.source.ref == source
    production = SCENARIOS[scenario].production_kinds
    assert set(outcome.created) == {groups[k] for k in production}
    original = sagemaker.describe_model_package(ModelPackageName=source)
    for kind in production:
        [copy] = packages(sagemaker, groups[kind])
        assert copy["ModelApprovalStatus"] == "PendingManualApproval"
        for field in ("InferenceSpecification", "ModelMetrics", "MetadataProperties"):
            assert copy[field] == original[field], field
        metadata = copy["CustomerMetadataProperties"]
        assert metadata == {
            **original["CustomerMetadataProperties"],
            lineage.PROMOTED_FROM: source,
            lineage.PROMOTED_COMMIT: history.c2,
        }
    assert len(packages(sagemaker, groups["dev"])) == 2  # the source stays where it was


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_a_merge_commit_promotes_its_nearest_trained_ancestor(aws, registry, history, scenario):
    project, groups, sagemaker = setup_project(aws, scenario)
    register(sagemaker, groups["dev"], history.c1)
    expected = register(sagemaker, groups["dev"], history.c2)
    register(sagemaker, groups["dev"], history.c4, "Approved")  # newer, but not merged into prod

    outcome = promote(project, history.merge, registry, history.repo.path)

    assert outcome.source.ref == expected
    assert outcome.source.commit == history.c2
    for kind in SCENARIOS[scenario].production_kinds:
        [copy] = packages(sagemaker, groups[kind])
        assert copy["CustomerMetadataProperties"][lineage.PROMOTED_COMMIT] == history.merge


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_nothing_to_promote_is_a_clear_error(aws, registry, history, scenario):
    project, groups, sagemaker = setup_project(aws, scenario)
    register(sagemaker, groups["dev"], history.c4)  # only a commit prod does not contain

    with pytest.raises(PromotionError) as raised:
        promote(project, history.merge, registry, history.repo.path)

    message = str(raised.value)
    assert groups["dev"] in message
    assert history.merge[:12] in message
    assert history.c4[:12] in message  # what dev does have
    for kind in SCENARIOS[scenario].production_kinds:
        assert packages(sagemaker, groups[kind]) == []


def test_an_empty_dev_group_is_a_clear_error(aws, registry, history):
    project, _, _ = setup_project(aws, "baseline")
    with pytest.raises(PromotionError, match="it has no usable model"):
        promote(project, history.merge, registry, history.repo.path)


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_promoting_twice_creates_no_duplicate(aws, registry, history, scenario):
    project, groups, sagemaker = setup_project(aws, scenario)
    source = register(sagemaker, groups["dev"], history.c2)
    first = promote(project, history.merge, registry, history.repo.path)
    history.repo.commit("prod: README fix")  # a later push to prod, same model
    second = promote(project, history.repo.head(), registry, history.repo.path)

    assert second.created == {}
    assert second.existing == first.created
    for kind in SCENARIOS[scenario].production_kinds:
        [copy] = packages(sagemaker, groups[kind])
        assert copy["CustomerMetadataProperties"][lineage.PROMOTED_FROM] == source
    assert "already promoted" in second.describe()


@pytest.mark.parametrize(
    ("statuses", "chosen"),
    [
        (["Approved", "PendingManualApproval"], 0),  # approved first, even if older
        (["PendingManualApproval", "PendingManualApproval"], 1),  # then the newest
        (["Approved", "Approved"], 1),
        (["PendingManualApproval", "Rejected"], 0),  # rejected never
    ],
)
def test_among_models_of_one_commit_approved_comes_first_then_newest(
    aws, registry, history, statuses, chosen
):
    project, groups, sagemaker = setup_project(aws, "baseline")
    arns = [register(sagemaker, groups["dev"], history.c2, status) for status in statuses]
    outcome = promote(project, history.merge, registry, history.repo.path)
    assert outcome.source.ref == arns[chosen]


def test_a_rejected_model_falls_back_to_an_older_ancestor(aws, registry, history):
    project, groups, sagemaker = setup_project(aws, "baseline")
    older = register(sagemaker, groups["dev"], history.c1)
    register(sagemaker, groups["dev"], history.c2, "Rejected")
    assert promote(project, history.merge, registry, history.repo.path).source.ref == older


def test_the_production_approval_status_comes_from_the_config(aws, registry, history):
    project, groups, sagemaker = setup_project(aws, "advanced")
    register(sagemaker, groups["dev"], history.c2)
    promote(project, history.merge, registry, history.repo.path, approval_status="Approved")
    for kind in ("champion", "challenger"):
        [copy] = packages(sagemaker, groups[kind])
        assert copy["ModelApprovalStatus"] == "Approved"


def test_a_shallow_clone_is_deepened_to_find_the_ancestor(aws, registry, history, tmp_path):
    project, groups, sagemaker = setup_project(aws, "baseline")
    expected = register(sagemaker, groups["dev"], history.c2)
    clone = tmp_path / "shallow"
    subprocess.run(
        [
            "git",
            "clone",
            "--quiet",
            "--depth",
            "1",
            "--branch",
            "prod",
            history.repo.path.as_uri(),
            str(clone),
        ],
        check=True,
    )
    assert promote(project, history.merge, registry, clone).source.ref == expected


def test_an_unknown_commit_is_a_clear_error(aws, registry, history):
    project, groups, sagemaker = setup_project(aws, "baseline")
    register(sagemaker, groups["dev"], history.c2)
    with pytest.raises(PromotionError, match="git rev-list"):
        promote(project, "0" * 40, registry, history.repo.path)


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_the_mlflow_flavour_promotes_registered_model_versions(
    history, tmp_path, monkeypatch, scenario
):
    from mlflow import MlflowClient
    from pipelines.mlflow_registry import MlflowModelRegistry

    monkeypatch.chdir(tmp_path)
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=store, registry_uri=store)
    document = project_document(scenario, "mlflow")
    groups = document["model_groups"]
    client.create_registered_model(groups["dev"])
    for commit in (history.c1, history.c2, history.c4):
        client.create_model_version(
            groups["dev"],
            source=f"s3://{BUCKET}/models/{commit}/model.tar.gz",
            tags={lineage.COMMIT_ID: commit, "approval_status": "PendingManualApproval"},
        )
    registry = MlflowModelRegistry(client)
    project = parse_project(document)

    first = promote(project, history.merge, registry, history.repo.path)
    second = promote(project, history.merge, registry, history.repo.path)

    assert first.source.ref == f"{groups['dev']}/2"  # c2: the merged one, not c4
    assert second.created == {} and second.existing == first.created
    for kind in SCENARIOS[scenario].production_kinds:
        [copy] = client.search_model_versions(f"name = '{groups[kind]}'")
        assert copy.tags[lineage.COMMIT_ID] == history.c2
        assert copy.tags[lineage.PROMOTED_FROM] == f"{groups['dev']}/2"
        assert copy.tags["approval_status"] == "PendingManualApproval"


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_a_retried_build_adds_no_second_copy_of_the_same_commit(aws, registry, history, scenario):
    project, groups, sagemaker = setup_project(aws, scenario)
    first_run = register(sagemaker, groups["dev"], history.c2)
    retried_run = register(sagemaker, groups["dev"], history.c2)  # a retried dev build of c2
    first = promote(project, history.merge, registry, history.repo.path)
    assert first.source.ref == retried_run
    # The data scientist approves the other model of c2 in dev, then retries the prod build.
    sagemaker.update_model_package(ModelPackageArn=first_run, ModelApprovalStatus="Approved")

    retried = promote(project, history.merge, registry, history.repo.path)

    assert retried.source.ref == first_run  # now the preferred model of c2 ...
    assert retried.created == {} and retried.existing == first.created  # ... but not copied
    for kind in SCENARIOS[scenario].production_kinds:
        [copy] = packages(sagemaker, groups[kind])
        assert copy["CustomerMetadataProperties"][lineage.PROMOTED_FROM] == retried_run
        assert f"already promoted as {copy['ModelPackageArn']}" in retried.describe()


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_rejecting_the_promoted_model_in_dev_never_promotes_an_older_one(
    aws, registry, history, scenario
):
    project, groups, sagemaker = setup_project(aws, scenario)
    register(sagemaker, groups["dev"], history.c1)
    c2_model = register(sagemaker, groups["dev"], history.c2)
    first = promote(project, history.merge, registry, history.repo.path, approval_status="Approved")
    # Rolling the dev endpoint back (README: reject the deployed model), then a README fix on prod.
    sagemaker.update_model_package(ModelPackageArn=c2_model, ModelApprovalStatus="Rejected")
    history.repo.commit("prod: README fix")

    again = promote(
        project, history.repo.head(), registry, history.repo.path, approval_status="Approved"
    )

    assert again.created == {}
    assert again.existing == first.created
    assert set(again.existing_commits.values()) == {history.c2}
    for kind in SCENARIOS[scenario].production_kinds:
        [copy] = packages(sagemaker, groups[kind])  # c1's older model was not copied
        assert copy["MetadataProperties"]["CommitId"] == history.c2
    # A newer dev model merged into prod is still promoted.
    history.repo.git("merge", "--quiet", "--no-ff", "-X", "ours", "-m", "merge dev again", "dev")
    c4_model = register(sagemaker, groups["dev"], history.c4)
    newer = promote(project, history.repo.head(), registry, history.repo.path)
    assert newer.source.ref == c4_model and set(newer.created) == set(first.created)


def test_production_up_to_date_is_no_error_when_dev_rejected_its_only_model(
    aws, registry, history, capsys
):
    project, groups, sagemaker = setup_project(aws, "baseline")
    only = register(sagemaker, groups["dev"], history.c2)
    first = promote(project, history.merge, registry, history.repo.path)
    sagemaker.update_model_package(ModelPackageArn=only, ModelApprovalStatus="Rejected")
    history.repo.commit("prod: hotfix of the buildspec")

    again = promote(project, history.repo.head(), registry, history.repo.path)

    assert again.source is None and again.created == {}
    assert again.existing == first.created
    assert again.describe().splitlines() == [
        f"no usable dev model for prod commit {history.repo.head()[:12]}",
        f"  {groups['prod']}: already promoted as {first.created[groups['prod']]} "
        f"(commit {history.c2[:12]}), unchanged",
    ]
    assert len(packages(sagemaker, groups["prod"])) == 1


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_two_prod_builds_at_once_leave_one_approved_copy(aws, registry, history, scenario):
    project, groups, sagemaker = setup_project(aws, scenario)
    register(sagemaker, groups["dev"], history.c2)
    history.repo.commit("prod: README fix")  # the second of two quick pushes
    second_push = history.repo.head()
    outcomes = {}

    def second_build() -> None:
        outcomes["second"] = promote(
            project, second_push, registry, history.repo.path, approval_status="Approved"
        )

    first_build = ConcurrentBuild(registry, second_build)
    outcomes["first"] = promote(
        project, history.merge, first_build, history.repo.path, approval_status="Approved"
    )

    second, first = outcomes["second"], outcomes["first"]
    assert first.created == {} and first.existing == second.created
    assert first_build.approved == []  # its own copies were never approved, so never deployed
    for kind in SCENARIOS[scenario].production_kinds:
        [copy] = packages(sagemaker, groups[kind])
        assert copy["ModelPackageArn"] == second.created[groups[kind]]
        assert copy["ModelApprovalStatus"] == "Approved"
    for ref in first_build.copies:  # the first build deleted its own second copies
        with pytest.raises(sagemaker.exceptions.ClientError):
            sagemaker.describe_model_package(ModelPackageName=ref)


def test_a_new_copy_gets_the_approval_status_once_it_is_the_only_one(aws, registry, history):
    project, groups, sagemaker = setup_project(aws, "advanced")
    register(sagemaker, groups["dev"], history.c2)
    build = ConcurrentBuild(registry, other_build=None)

    outcome = promote(project, history.merge, build, history.repo.path, approval_status="Approved")

    assert build.approved == build.copies == list(outcome.created.values())


def test_the_mlflow_flavour_never_copies_a_commit_twice(history, mlflow_client):
    from pipelines.mlflow_registry import MlflowModelRegistry

    document = project_document("advanced", "mlflow")
    groups = document["model_groups"]
    project = parse_project(document)
    mlflow_client.create_registered_model(groups["dev"])
    first_run = register_mlflow(mlflow_client, groups["dev"], history.c2)
    register_mlflow(mlflow_client, groups["dev"], history.c2)
    registry = MlflowModelRegistry(mlflow_client)
    outcomes = {}

    def concurrent_build() -> None:
        outcomes["concurrent"] = promote(project, history.merge, registry, history.repo.path)

    build = ConcurrentBuild(registry, concurrent_build)
    outcomes["first"] = promote(project, history.merge, build, history.repo.path)
    mlflow_client.set_model_version_tag(
        groups["dev"], first_run.version, "approval_status", "Approved"
    )
    outcomes["retried"] = promote(project, history.merge, registry, history.repo.path)

    concurrent = outcomes["concurrent"].created
    assert outcomes["first"].existing == concurrent
    assert outcomes["retried"].source.ref == f"{groups['dev']}/{first_run.version}"
    assert outcomes["retried"].existing == concurrent
    for kind in ("champion", "challenger"):
        [copy] = mlflow_client.search_model_versions(f"name = '{groups[kind]}'")
        assert f"{groups[kind]}/{copy.version}" == concurrent[groups[kind]]


def test_the_mlflow_flavour_promotes_the_version_with_the_approved_alias_first(
    history, mlflow_client
):
    """With MLflow the ``approved`` alias is the approval (README), another alias is not; the
    SQL store's search results carry none."""
    from pipelines.mlflow_registry import MlflowModelRegistry

    document = project_document("baseline", "mlflow")
    groups = document["model_groups"]
    mlflow_client.create_registered_model(groups["dev"])
    aliased = register_mlflow(mlflow_client, groups["dev"], history.c2)
    other = register_mlflow(mlflow_client, groups["dev"], history.c2)  # newer, still pending
    mlflow_client.set_registered_model_alias(groups["dev"], "approved", aliased.version)
    mlflow_client.set_registered_model_alias(groups["dev"], "candidate", other.version)

    outcome = promote(
        parse_project(document),
        history.merge,
        MlflowModelRegistry(mlflow_client),
        history.repo.path,
    )

    assert outcome.source.ref == f"{groups['dev']}/{aliased.version}"
    assert outcome.source.approval_status == "Approved"
    [copy] = mlflow_client.search_model_versions(f"name = '{groups['prod']}'")
    assert copy.tags[lineage.PROMOTED_FROM] == f"{groups['dev']}/{aliased.version}"


def test_the_seed_and_the_platform_deploy_on_the_same_alias() -> None:
    from pipelines.mlflow_registry import DEPLOY_ALIAS

    from lambda_project_lifecycle.deployments import mlflow_models

    assert DEPLOY_ALIAS == mlflow_models.DEPLOY_ALIAS == "approved"
