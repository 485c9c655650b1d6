"""The training trigger: which CodeCommit events start which build, with which environment.

Events are real "CodeCommit Repository State Change" payloads stored under
tests/events/; the project is made by a real Create first, so the repository
record the trigger reads is the one the lifecycle wrote. CodeBuild is moto
(which drops environment overrides, so the StartBuild parameters are read from
the recorded call).
"""

from __future__ import annotations

from typing import Any

import pytest

from lambda_project_lifecycle import training_trigger
from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.training_trigger import Ignored, handle_event, route_push
from lambda_project_lifecycle.triggers import BRANCH_PATTERN_FOR_WEBHOOKS
from sandbox.cloudformation import LambdaContext, ResponseListener
from tests.lambda_project_lifecycle.conftest import REGISTRY_TABLE, Emulated
from tests.support.events import load_event

NAMES = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
REPOSITORY = NAMES.repository()


class StartBuildRecorder:
    def __init__(self, codebuild: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        codebuild.meta.events.register("before-parameter-build.codebuild.StartBuild", self._record)

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(dict(params))


def make_project(aws: Emulated, listener: ResponseListener, scenario: str) -> StartBuildRecorder:
    from lambda_project_lifecycle.lifecycle import handle_event as lifecycle_event

    event = load_event("cfn-project-lifecycle-create.json", ResponseURL=listener.url())
    event["ResourceProperties"]["Scenario"] = scenario
    lifecycle_event(event, LambdaContext(), clients=aws.clients, settings=aws.settings)
    assert listener.wait_for(1)[0]["Status"] == "SUCCESS"
    aws.codebuild.create_project(
        name=NAMES.training_project(),
        source={"type": "CODECOMMIT", "location": f"https://example/v1/repos/{REPOSITORY}"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=f"arn:aws:iam::123456789012:role/{NAMES.training_role()}",
    )
    return StartBuildRecorder(aws.codebuild)


def trigger(aws: Emulated, name: str, **detail: Any) -> dict[str, Any]:
    event = load_event(name)
    event["detail"].update(detail)
    return handle_event(event, None, clients=aws.clients, table=REGISTRY_TABLE)


ROUTES = [
    (
        "codecommit-branch-created-feature.json",
        "baseline",
        "feature-better-features",
        "feature",
        ["feature"],
    ),
    ("codecommit-branch-updated-dev.json", "baseline", "dev", "dev", ["dev"]),
    ("codecommit-branch-updated-prod-merge.json", "baseline", "prod", "prod", ["prod"]),
    (
        "codecommit-branch-updated-prod-merge.json",
        "advanced",
        "prod",
        "prod",
        ["champion", "challenger"],
    ),
    ("codecommit-branch-updated-dev.json", "advanced", "dev", "dev", ["dev"]),
]


@pytest.mark.parametrize(("event_file", "scenario", "branch", "kind", "groups"), ROUTES)
def test_a_push_starts_the_projects_build_with_the_branch(
    aws: Emulated,
    cfn_listener: ResponseListener,
    event_file: str,
    scenario: str,
    branch: str,
    kind: str,
    groups: list[str],
) -> None:
    recorder = make_project(aws, cfn_listener, scenario)
    event = load_event(event_file)

    result = trigger(aws, event_file)

    assert result["started"] is True
    assert result["project"] == NAMES.training_project()
    assert recorder.calls == [
        {
            "projectName": NAMES.training_project(),
            "sourceVersion": event["detail"]["commitId"],
            "environmentVariablesOverride": [
                {"name": "BRANCH_KIND", "value": kind, "type": "PLAINTEXT"},
                {
                    "name": "MODEL_GROUPS",
                    "value": ",".join(NAMES.model_package_group(g) for g in groups),
                    "type": "PLAINTEXT",
                },
                {"name": "SOURCE_BRANCH", "value": branch, "type": "PLAINTEXT"},
            ],
            "idempotencyToken": event["id"],
        }
    ]
    build = aws.codebuild.batch_get_builds(ids=[result["buildId"]])["builds"][0]
    assert build["projectName"] == NAMES.training_project()


IGNORED = [
    (
        "codecommit-branch-deleted-feature.json",
        "referenceDeleted of branch feature-better-features",
    ),
    ("codecommit-branch-created-other.json", "branch experiment-lr does not train"),
    ("codecommit-tag-created.json", "tag v1.0: not a branch"),
]


@pytest.mark.parametrize(("event_file", "reason"), IGNORED)
def test_deletions_tags_and_other_branches_start_nothing(
    aws: Emulated, cfn_listener: ResponseListener, event_file: str, reason: str
) -> None:
    recorder = make_project(aws, cfn_listener, "baseline")

    result = trigger(aws, event_file)

    assert result == {"started": False, "reason": result["reason"]}
    assert reason in result["reason"]
    assert recorder.calls == []


def test_a_repository_of_no_project_starts_nothing(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    recorder = make_project(aws, cfn_listener, "baseline")

    result = trigger(
        aws, "codecommit-branch-updated-dev.json", repositoryName="sagemaker-other-p-1"
    )

    assert result["started"] is False
    assert "belongs to no project" in result["reason"]
    assert recorder.calls == []


def test_after_the_project_is_deleted_pushes_start_nothing(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    recorder = make_project(aws, cfn_listener, "baseline")
    from lambda_project_lifecycle.lifecycle import handle_event as lifecycle_event

    delete = load_event("cfn-project-lifecycle-delete.json", ResponseURL=cfn_listener.url())
    lifecycle_event(delete, LambdaContext(), clients=aws.clients, settings=aws.settings)
    assert cfn_listener.wait_for(2)[1]["Status"] == "SUCCESS"

    assert trigger(aws, "codecommit-branch-updated-dev.json")["started"] is False
    assert recorder.calls == []


@pytest.mark.parametrize(
    ("event", "branch", "trains"),
    [
        ("referenceCreated", "prod", True),
        ("referenceUpdated", "dev", True),
        ("referenceUpdated", "feature-x", True),
        ("referenceUpdated", "feature-", False),
        ("referenceUpdated", "features-x", False),
        ("referenceUpdated", "main", False),
        ("referenceUpdated", "Prod", False),
        ("referenceDeleted", "dev", False),
        ("referenceDeleted", "prod", False),
    ],
)
def test_routing_table(event: str, branch: str, trains: bool) -> None:
    payload = load_event("codecommit-branch-updated-dev.json")
    payload["detail"].update(event=event, referenceName=branch)
    routed = route_push(payload)
    assert (not isinstance(routed, Ignored)) is trains
    if trains:
        assert routed == (REPOSITORY, branch, payload["detail"]["commitId"])


def test_the_webhook_filter_routes_the_same_branches() -> None:
    import re

    pattern = re.compile(BRANCH_PATTERN_FOR_WEBHOOKS)
    for branch, trains in [
        ("prod", True),
        ("dev", True),
        ("feature-x", True),
        ("main", False),
        ("feature-", False),
        ("prod-old", False),
    ]:
        assert bool(pattern.fullmatch(f"refs/heads/{branch}")) is trains, branch


def test_a_missing_table_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROJECT_REGISTRY_TABLE", raising=False)
    from lambda_project_lifecycle.errors import LifecycleError

    with pytest.raises(LifecycleError, match="PROJECT_REGISTRY_TABLE is not set"):
        training_trigger.handler(load_event("codecommit-branch-updated-dev.json"), None)


@pytest.mark.parametrize("branch", ["prod", "dev"])
def test_the_seed_push_itself_starts_no_build(
    aws: Emulated, cfn_listener: ResponseListener, branch: str
) -> None:
    recorder = make_project(aws, cfn_listener, "baseline")
    seed = cfn_listener.answers[0]["Data"]["SeedCommit"]

    # What CodeCommit emits for the Create's own push: both branches made at the seed commit.
    seeded = trigger(
        aws,
        "codecommit-branch-created-feature.json",
        referenceName=branch,
        referenceFullName=f"refs/heads/{branch}",
        commitId=seed,
    )

    assert seeded["started"] is False
    assert "the project's seed commit" in seeded["reason"]
    assert recorder.calls == [], "no prod promotion without a dev model, no dev build of the seed"
    # The first real push trains as usual.
    assert trigger(aws, "codecommit-branch-updated-dev.json")["started"] is True
