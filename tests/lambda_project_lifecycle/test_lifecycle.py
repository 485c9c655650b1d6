"""The lifecycle Lambda as CloudFormation drives it: Create, Update, Delete of a project.

Every test sends a stored event through the real handler; the answer is read
from a real HTTP listener on 127.0.0.1, the AWS side is moto.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from lambda_project_lifecycle import http_pool
from lambda_project_lifecycle.lifecycle import handle_event, handler
from lambda_project_lifecycle.naming import ProjectNames, check_name
from lambda_project_lifecycle.scenarios import SCENARIOS
from sandbox.cloudformation import LambdaContext, ResponseListener
from tests.lambda_project_lifecycle.conftest import REGISTRY_TABLE, Emulated, emulated_aws
from tests.support.events import load_event

LONGEST_NAME = "a" * 31 + "z"  # 32 characters, the Studio maximum
LONGEST_ID = "p-" + "9" * 14  # 16 characters

SCENARIO_FLAVOURS = [
    ("baseline", "sagemaker", ["prod", "dev", "feature"]),
    ("advanced", "sagemaker", ["champion", "challenger", "dev", "feature"]),
    ("baseline", "mlflow", []),
    ("advanced", "mlflow", []),
]


def properties(**overrides: str) -> dict[str, str]:
    props = dict(load_event("cfn-project-lifecycle-create.json")["ResourceProperties"])
    props.update(overrides)
    return props


def send(
    aws: Emulated,
    listener: ResponseListener,
    request: str,
    props: dict[str, Any],
    *,
    old_props: dict[str, Any] | None = None,
    physical_id: str | None = None,
    context: Any = None,
    clients: Any = None,
) -> dict[str, Any]:
    """Send one request through the handler; return the answer the listener received."""
    event = load_event(f"cfn-project-lifecycle-{request.lower()}.json", ResponseURL=listener.url())
    event["ResourceProperties"] = props
    if old_props is not None:
        event["OldResourceProperties"] = old_props
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    before = len(listener.answers)
    handle_event(
        event, context or LambdaContext(), clients=clients or aws.clients, settings=aws.settings
    )
    return listener.wait_for(before + 1)[before]


def group_tags(aws: Emulated, name: str) -> dict[str, str]:
    arn = aws.sagemaker.describe_model_package_group(ModelPackageGroupName=name)[
        "ModelPackageGroupArn"
    ]
    return {t["Key"]: t["Value"] for t in aws.sagemaker.list_tags(ResourceArn=arn)["Tags"]}


def registry_record(aws: Emulated, project_id: str) -> dict[str, Any] | None:
    item = aws.dynamodb.get_item(
        TableName=REGISTRY_TABLE, Key={"pk": {"S": f"project#{project_id}"}}
    )
    return item.get("Item")


def add_package(aws: Emulated, group: str) -> str:
    return str(
        aws.sagemaker.create_model_package(
            ModelPackageGroupName=group,
            InferenceSpecification={
                "Containers": [{"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


# --- Create ---------------------------------------------------------------------------


@pytest.mark.parametrize(("scenario", "registry", "kinds"), SCENARIO_FLAVOURS)
def test_create_makes_the_scenarios_groups_and_registry_record(
    aws: Emulated, cfn_listener: ResponseListener, scenario: str, registry: str, kinds: list[str]
) -> None:
    answer = send(aws, cfn_listener, "Create", properties(Scenario=scenario, Registry=registry))

    names = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
    expected = {names.model_package_group(kind) for kind in kinds}
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "sagemaker-churn-model-p-7gxpyr2wsl2k"
    assert answer["Data"]["ProjectPrefix"] == "sagemaker-churn-model-p-7gxpyr2wsl2k"
    assert set(filter(None, answer["Data"]["ModelGroups"].split(","))) == expected
    for kind in kinds:
        assert answer["Data"][f"ModelGroup{kind.capitalize()}"] == names.model_package_group(kind)
    assert aws.group_names() == expected
    for name in expected:
        assert group_tags(aws, name) == {
            "sagemaker:project-name": "churn-model",
            "sagemaker:project-id": "p-7gxpyr2wsl2k",
        }
        description = aws.sagemaker.describe_model_package_group(ModelPackageGroupName=name)[
            "ModelPackageGroupDescription"
        ]
        assert "churn-model" in description
    record = registry_record(aws, "p-7gxpyr2wsl2k")
    assert record is not None
    assert record["Scenario"]["S"] == scenario
    assert record["Registry"]["S"] == registry
    assert record["OnDelete"]["S"] == "retain-data"
    assert set(record["ModelGroups"]["M"]) == set(kinds)
    # The MLflow flavour's registered models (one per group kind) are the MLflow sync's.
    mlflow_models = (
        {names.model_package_group(k) for k in SCENARIOS[scenario].model_group_kinds}
        if registry == "mlflow"
        else set()
    )
    assert aws.registry_keys() == {
        "project#p-7gxpyr2wsl2k",
        "repository#sagemaker-churn-model-p-7gxpyr2wsl2k",
    } | {f"model-group#{n}" for n in expected} | {f"mlflow-model#{n}" for n in mlflow_models}


def test_create_answers_the_response_url_as_cloudformation_expects(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    event_ids = load_event("cfn-project-lifecycle-create.json")
    answer = send(aws, cfn_listener, "Create", properties(Scenario="advanced"))

    assert answer["StackId"] == event_ids["StackId"]
    assert answer["RequestId"] == event_ids["RequestId"]
    assert answer["LogicalResourceId"] == "ProjectLifecycle"
    assert len(json.dumps(answer).encode()) < 4096
    assert cfn_listener.headers[0].get("Content-Type", "") == ""


@pytest.mark.parametrize("scenario", ["baseline", "advanced"])
def test_create_with_the_longest_legal_name_and_id_fits_every_limit(
    aws: Emulated, cfn_listener: ResponseListener, scenario: str
) -> None:
    answer = send(
        aws,
        cfn_listener,
        "Create",
        properties(ProjectName=LONGEST_NAME, ProjectId=LONGEST_ID, Scenario=scenario),
    )

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    groups = aws.group_names()
    assert len(groups) == len(SCENARIOS[scenario].model_group_kinds)
    for name in groups:
        check_name("model_package_group", name)
        assert name.endswith(tuple(SCENARIOS[scenario].model_group_kinds))
        assert LONGEST_ID in name


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("ProjectName", "a" * 33, "SageMakerProjectName must be at most 32 characters"),
        ("ProjectName", "1churn", "SageMakerProjectName '1churn' does not match"),
        ("ProjectName", "churn_model", "does not match the pattern"),
        ("ProjectName", "churn-", "does not match the pattern"),
        ("ProjectName", "", "SageMakerProjectName is required"),
        ("ProjectId", "p-" + "1" * 15, "SageMakerProjectId must be at most 16 characters"),
        ("ProjectId", "p_123", "SageMakerProjectId 'p_123' does not match"),
        ("ProjectId", "", "SageMakerProjectId is required"),
        ("Scenario", "expert", "Scenario must be one of baseline, advanced (got 'expert')"),
        ("Registry", "wandb", "Registry must be one of sagemaker, mlflow"),
        ("OnDelete", "keep", "OnDelete must be one of retain-data, delete-all"),
    ],
)
def test_create_with_bad_properties_fails_naming_the_field_and_makes_nothing(
    aws: Emulated, cfn_listener: ResponseListener, field: str, value: str, reason: str
) -> None:
    props = properties(**{field: value})
    answer = send(aws, cfn_listener, "Create", props)

    assert answer["Status"] == "FAILED"
    assert reason in answer["Reason"]
    assert aws.group_names() == set()
    assert aws.registry_keys() == set()

    # CloudFormation then rolls back with a Delete of the id it was given: that succeeds.
    delete = send(aws, cfn_listener, "Delete", props, physical_id=answer["PhysicalResourceId"])
    assert delete["Status"] == "SUCCESS", delete["Reason"]


def test_a_missing_property_is_named(aws: Emulated, cfn_listener: ResponseListener) -> None:
    props = properties()
    del props["ProjectId"]
    answer = send(aws, cfn_listener, "Create", props)
    assert answer["Status"] == "FAILED"
    assert "SageMakerProjectId is required" in answer["Reason"]


def test_duplicate_create_converges(aws: Emulated, cfn_listener: ResponseListener) -> None:
    first = send(aws, cfn_listener, "Create", properties())
    created_at = registry_record(aws, "p-7gxpyr2wsl2k")["CreatedAt"]["S"]  # type: ignore[index]
    second = send(aws, cfn_listener, "Create", properties())

    assert first["Status"] == second["Status"] == "SUCCESS"
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"]
    assert first["Data"] == second["Data"]
    assert len(aws.group_names()) == 3
    for name in aws.group_names():
        tags = aws.sagemaker.list_tags(
            ResourceArn=aws.sagemaker.describe_model_package_group(ModelPackageGroupName=name)[
                "ModelPackageGroupArn"
            ]
        )["Tags"]
        assert len(tags) == 2, "a retried Create must not pile up tags"
    assert registry_record(aws, "p-7gxpyr2wsl2k")["CreatedAt"]["S"] == created_at  # type: ignore[index]


def test_create_never_takes_over_another_projects_group(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    foreign = ProjectNames("churn-model", "p-7gxpyr2wsl2k").model_package_group("dev")
    aws.sagemaker.create_model_package_group(
        ModelPackageGroupName=foreign,
        ModelPackageGroupDescription="made by hand",
        Tags=[{"Key": "owner", "Value": "someone-else"}],
    )
    package = add_package(aws, foreign)

    answer = send(aws, cfn_listener, "Create", properties())
    assert answer["Status"] == "FAILED"
    assert f"Model package group {foreign} already exists" in answer["Reason"]
    assert "left untouched" in answer["Reason"]

    delete = send(
        aws,
        cfn_listener,
        "Delete",
        properties(OnDelete="delete-all"),
        physical_id=answer["PhysicalResourceId"],
    )
    assert delete["Status"] == "SUCCESS", delete["Reason"]
    assert aws.group_names() == {foreign}, "the other project's group survives our Delete"
    assert group_tags(aws, foreign) == {"owner": "someone-else"}
    assert (
        aws.sagemaker.describe_model_package(ModelPackageName=package)["ModelPackageArn"] == package
    )


# --- Update ---------------------------------------------------------------------------


def test_update_reconciles_settings_and_missing_groups_but_deletes_nothing(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    send(aws, cfn_listener, "Create", properties())
    names = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
    package = add_package(aws, names.model_package_group("prod"))
    aws.sagemaker.delete_model_package_group(
        ModelPackageGroupName=names.model_package_group("feature")
    )
    arn = aws.sagemaker.describe_model_package_group(
        ModelPackageGroupName=names.model_package_group("dev")
    )["ModelPackageGroupArn"]
    aws.sagemaker.delete_tags(ResourceArn=arn, TagKeys=["sagemaker:project-name"])
    created_at = registry_record(aws, "p-7gxpyr2wsl2k")["CreatedAt"]["S"]  # type: ignore[index]

    answer = send(
        aws,
        cfn_listener,
        "Update",
        properties(OnDelete="delete-all", PortfolioVersion="0.1.1"),
        old_props=properties(),
        physical_id="sagemaker-churn-model-p-7gxpyr2wsl2k",
    )

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert answer["PhysicalResourceId"] == "sagemaker-churn-model-p-7gxpyr2wsl2k"
    assert aws.group_names() == {names.model_package_group(k) for k in ("prod", "dev", "feature")}
    assert (
        group_tags(aws, names.model_package_group("dev"))["sagemaker:project-name"] == "churn-model"
    )
    assert (
        aws.sagemaker.describe_model_package(ModelPackageName=package)["ModelPackageArn"] == package
    )
    record = registry_record(aws, "p-7gxpyr2wsl2k")
    assert record["OnDelete"]["S"] == "delete-all"  # type: ignore[index]
    assert record["CreatedAt"]["S"] == created_at  # type: ignore[index]
    assert [op for op, _ in aws.gaps.calls] == ["DeleteModelPackageGroup"]  # only the test's own


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ProjectName", "other-name"),
        ("ProjectId", "p-other"),
        ("Scenario", "advanced"),
        ("Registry", "mlflow"),
    ],
)
def test_update_refuses_to_change_what_identifies_the_project(
    aws: Emulated, cfn_listener: ResponseListener, field: str, value: str
) -> None:
    send(aws, cfn_listener, "Create", properties())
    answer = send(
        aws,
        cfn_listener,
        "Update",
        properties(**{field: value}),
        old_props=properties(),
        physical_id="sagemaker-churn-model-p-7gxpyr2wsl2k",
    )
    assert answer["Status"] == "FAILED"
    assert f"{field} cannot change after the project is created" in answer["Reason"]
    assert answer["PhysicalResourceId"] == "sagemaker-churn-model-p-7gxpyr2wsl2k"
    assert len(aws.group_names()) == 3


@pytest.mark.parametrize(
    "change",
    [
        {"Scenario": "advanced"},
        {"Registry": "mlflow"},
        {"ProjectId": "p-other"},
        {"ProjectName": "other-name"},
        {"RepositoryProvider": "git", "RepositoryUrl": "https://git.example.com/x.git"},
        {"RepositoryName": "another-name"},
    ],
    ids=lambda change: ",".join(change),
)
def test_cloudformations_rollback_of_a_refused_update_succeeds(
    aws: Emulated, cfn_listener: ResponseListener, change: dict[str, str]
) -> None:
    created = send(aws, cfn_listener, "Create", properties())
    original = properties(OnDelete="retain-data")
    changed = properties(OnDelete="delete-all", **change)
    physical_id = created["PhysicalResourceId"]

    forward = send(
        aws, cfn_listener, "Update", changed, old_props=original, physical_id=physical_id
    )
    # CloudFormation rolls back with the properties swapped: the refused ones are now "old".
    rollback = send(
        aws, cfn_listener, "Update", original, old_props=changed, physical_id=physical_id
    )

    assert forward["Status"] == "FAILED"
    assert "cannot change after the project is created" in forward["Reason"]
    assert rollback["Status"] == "SUCCESS", rollback["Reason"]  # not UPDATE_ROLLBACK_FAILED
    assert rollback["PhysicalResourceId"] == physical_id
    assert rollback["Data"] == created["Data"]
    assert len(aws.group_names()) == 3
    assert aws.repository_names() == {"sagemaker-churn-model-p-7gxpyr2wsl2k"}
    record = registry_record(aws, "p-7gxpyr2wsl2k")
    assert record is not None and record["OnDelete"]["S"] == "retain-data"
    assert record["Scenario"]["S"] == "baseline"
    # A later real change is still refused: the rollback did not accept the refused values.
    again = send(aws, cfn_listener, "Update", changed, old_props=original, physical_id=physical_id)
    assert again["Status"] == "FAILED"


# --- Delete ---------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["baseline", "advanced"])
def test_delete_retain_data_keeps_groups_that_hold_packages(
    aws: Emulated, cfn_listener: ResponseListener, scenario: str
) -> None:
    send(aws, cfn_listener, "Create", properties(Scenario=scenario))
    names = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
    dev_group = names.model_package_group("dev")
    packages = [add_package(aws, dev_group), add_package(aws, dev_group)]

    answer = send(aws, cfn_listener, "Delete", properties(Scenario=scenario))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert aws.group_names() == {dev_group}
    for package in packages:
        assert (
            aws.sagemaker.describe_model_package(ModelPackageName=package)["ModelPackageArn"]
            == package
        )
    assert aws.registry_keys() == set()
    assert all(op == "DeleteModelPackageGroup" for op, _ in aws.gaps.calls)


@pytest.mark.parametrize("scenario", ["baseline", "advanced"])
def test_delete_all_removes_packages_then_groups(
    aws: Emulated, cfn_listener: ResponseListener, scenario: str
) -> None:
    send(aws, cfn_listener, "Create", properties(Scenario=scenario, OnDelete="delete-all"))
    names = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
    for kind in ("dev", "feature", "feature"):
        add_package(aws, names.model_package_group(kind))

    answer = send(aws, cfn_listener, "Delete", properties(Scenario=scenario, OnDelete="delete-all"))

    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert aws.group_names() == set()
    assert aws.sagemaker.list_model_packages()["ModelPackageSummaryList"] == []
    assert aws.registry_keys() == set()
    operations = [op for op, _ in aws.gaps.calls]
    assert operations.count("DeleteModelPackage") == 3
    assert operations.count("DeleteModelPackageGroup") == len(SCENARIOS[scenario].model_group_kinds)
    group_deleted_at = {
        params["ModelPackageGroupName"]: index
        for index, (op, params) in enumerate(aws.gaps.calls)
        if op == "DeleteModelPackageGroup"
    }
    for index, (op, params) in enumerate(aws.gaps.calls):
        if op == "DeleteModelPackage":
            group = params["ModelPackageName"].split(":model-package/")[1].split("/")[0]
            assert index < group_deleted_at[group], "packages go before their group"


def test_delete_of_an_mlflow_project_removes_its_registry_record(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    send(aws, cfn_listener, "Create", properties(Registry="mlflow"))
    names = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
    assert aws.registry_keys() == {
        "project#p-7gxpyr2wsl2k",
        "repository#sagemaker-churn-model-p-7gxpyr2wsl2k",
    } | {f"mlflow-model#{names.model_package_group(k)}" for k in ("prod", "dev", "feature")}
    answer = send(aws, cfn_listener, "Delete", properties(Registry="mlflow"))
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert aws.registry_keys() == set()


def test_delete_twice_succeeds(aws: Emulated, cfn_listener: ResponseListener) -> None:
    send(aws, cfn_listener, "Create", properties())
    assert send(aws, cfn_listener, "Delete", properties())["Status"] == "SUCCESS"
    assert send(aws, cfn_listener, "Delete", properties())["Status"] == "SUCCESS"
    assert aws.group_names() == set()


class GroupDeletedMeanwhile:
    """SageMaker as a Delete sees it while someone else deletes the project's first group
    (the undo of a Create answered while it ran): the group vanishes under ListTags."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.deleted: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._real, name)
        if name != "list_tags" or self.deleted:
            return method

        def list_tags(**kwargs: Any) -> Any:
            group = kwargs["ResourceArn"].rsplit("/", 1)[1]
            self._real.delete_model_package_group(ModelPackageGroupName=group)
            self.deleted.append(group)
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "no such group"}}, "ListTags"
            )

        return list_tags


def test_a_group_deleted_by_someone_else_meanwhile_counts_as_deleted(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    send(aws, cfn_listener, "Create", properties())
    meanwhile = GroupDeletedMeanwhile(aws.sagemaker)

    answer = send(
        aws, cfn_listener, "Delete", properties(), clients=aws.clients_with(sagemaker=meanwhile)
    )

    assert meanwhile.deleted, "a group vanished under the Delete"
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert aws.group_names() == set()
    assert aws.registry_keys() == set()


# --- Every request gets an answer -------------------------------------------------------


class FaultAtCall:
    """Fails the n-th AWS call (counted over all clients) with a service error."""

    def __init__(self, clients: list[Any], fail_at: int | None) -> None:
        self.fail_at = fail_at
        self.operations: list[str] = []
        for client in clients:
            client.meta.events.register_first("before-call.*.*", self._before_call)

    def _before_call(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        self.operations.append(model.name)
        if len(self.operations) - 1 != self.fail_at:
            return None
        error = {"Code": "ServiceUnavailable", "Message": f"injected fault in {model.name}"}
        return AWSResponse("https://fault", 503, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 503},
        }


def create_calls(scenario: str) -> list[str]:
    """The AWS operations of a successful Create, in order (recorded, not assumed)."""
    listener = ResponseListener().start()
    try:
        with emulated_aws() as aws:
            recorder = FaultAtCall(aws.boto_clients, None)
            send(aws, listener, "Create", properties(Scenario=scenario))
            return recorder.operations
    finally:
        listener.stop()


@pytest.mark.parametrize(
    ("scenario", "fail_at"),
    [(s, i) for s in ("baseline", "advanced") for i in range(len(create_calls(s)))],
)
def test_a_fault_at_any_aws_call_of_create_fails_cleanly_and_delete_removes_everything(
    aws: Emulated, cfn_listener: ResponseListener, scenario: str, fail_at: int
) -> None:
    fault = FaultAtCall(aws.boto_clients, fail_at)
    answer = send(aws, cfn_listener, "Create", properties(Scenario=scenario))

    failed_operation = fault.operations[fail_at]
    assert answer["Status"] == "FAILED"
    assert "ServiceUnavailable" in answer["Reason"]
    assert f"injected fault in {failed_operation}" in answer["Reason"]
    assert answer["PhysicalResourceId"] == "sagemaker-churn-model-p-7gxpyr2wsl2k"

    fault.fail_at = None
    delete = send(
        aws,
        cfn_listener,
        "Delete",
        properties(Scenario=scenario),
        physical_id=answer["PhysicalResourceId"],
    )
    assert delete["Status"] == "SUCCESS", delete["Reason"]
    assert aws.group_names() == set()
    assert aws.registry_keys() == set()
    assert aws.repository_names() == set(), "a failed Create takes back the repository it made"


def test_create_calls_are_what_the_fault_table_covers() -> None:
    assert create_calls("baseline") == [
        "GetObject",
        "CreateRepository",
        "ListModelPackageGroups",
        "CreateModelPackageGroup",
        "CreateModelPackageGroup",
        "CreateModelPackageGroup",
        "GetItem",
        "TransactWriteItems",
        "PutItem",
    ]


class ExplodingSageMaker:
    def list_model_package_groups(self, **_: Any) -> Any:
        raise KeyError("ModelPackageGroupSummaryList")


def test_an_unexpected_exception_becomes_a_failed_answer(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    answer = send(
        aws,
        cfn_listener,
        "Create",
        properties(),
        clients=aws.clients_with(sagemaker=ExplodingSageMaker()),
    )
    assert answer["Status"] == "FAILED"
    assert "Unexpected error: KeyError" in answer["Reason"]
    assert "see CloudWatch Logs /aws/lambda/mlops-portfolio-lifecycle" in answer["Reason"]


class SlowSageMaker:
    """A client that takes longer than the Lambda has left; it notes each call it starts and
    whether CloudFormation had its answer by then."""

    def __init__(
        self,
        real: Any,
        delay: float,
        listener: ResponseListener,
        held: threading.Event | None = None,
    ) -> None:
        """``held``: a call still under way when the answer went out waits for it (a Create
        kept running while the test sends the rollback Delete)."""
        self._real = real
        self._delay = delay
        self._listener = listener
        self._answers_before = len(listener.answers)
        self._held = held
        self.started: list[tuple[str, bool]] = []  # (operation, after the answer)

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.started.append((name, self._answered()))
            time.sleep(self._delay)
            if self._held is not None and self._answered():
                self._held.wait(30)
            return getattr(self._real, name)(**kwargs)

        return call

    def _answered(self) -> bool:
        return len(self._listener.answers) > self._answers_before

    def changes_after_the_answer(
        self, kinds: tuple[str, ...] = ("create_", "add_tags")
    ) -> list[str]:
        return [name for name, late in self.started if late and name.startswith(kinds)]


# The slow client's delay and the Lambda's time: ListModelPackageGroups is done before the
# deadline timer answers (at 90% of the time), the first CreateModelPackageGroup is under way.
SLOW_CALL_SECONDS = 0.8
LAMBDA_SECONDS = 1.6


def test_an_approaching_timeout_answers_failed_once_and_the_work_stops(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    event = load_event("cfn-project-lifecycle-create.json", ResponseURL=cfn_listener.url())
    slow = SlowSageMaker(aws.sagemaker, SLOW_CALL_SECONDS, cfn_listener)

    handle_event(
        event,
        LambdaContext(timeout_seconds=LAMBDA_SECONDS),
        clients=aws.clients_with(sagemaker=slow),
        settings=aws.settings,
    )

    answers = cfn_listener.wait_for(1)
    assert answers[0]["Status"] == "FAILED"
    assert "about to time out" in answers[0]["Reason"]
    time.sleep(0.2)
    assert len(cfn_listener.answers) == 1, "no late SUCCESS"
    assert slow.changes_after_the_answer() == [], "nothing was made once the answer was out"
    # What the Create made before its answer went out is taken back (the rollback Delete
    # that CloudFormation sends next may run at any time, even before the Create stops).
    assert aws.group_names() == set()
    assert aws.repository_names() == set()
    assert aws.registry_keys() == set()


def test_a_rollback_delete_arriving_while_the_create_still_runs_leaves_nothing(
    aws: Emulated, cfn_listener: ResponseListener
) -> None:
    event = load_event("cfn-project-lifecycle-create.json", ResponseURL=cfn_listener.url())
    held = threading.Event()  # the Create's call under way at its answer waits for the Delete
    slow = SlowSageMaker(aws.sagemaker, SLOW_CALL_SECONDS, cfn_listener, held)
    create = threading.Thread(
        target=handle_event,
        args=(event, LambdaContext(timeout_seconds=LAMBDA_SECONDS)),
        kwargs={"clients": aws.clients_with(sagemaker=slow), "settings": aws.settings},
    )
    create.start()
    failed = cfn_listener.wait_for(1)[0]
    assert failed["Status"] == "FAILED"

    # CloudFormation's rollback: a Delete of the resource, in another invocation.
    delete = send(
        aws, cfn_listener, "Delete", properties(), physical_id=failed["PhysicalResourceId"]
    )
    assert create.is_alive(), "the Delete ran while the Create was still running"
    held.set()
    create.join(timeout=30)

    assert delete["Status"] == "SUCCESS", delete["Reason"]
    assert not create.is_alive()
    assert len(cfn_listener.answers) == 2
    assert slow.changes_after_the_answer() == []
    assert aws.group_names() == set(), "no orphan model group"
    assert aws.repository_names() == set(), "no orphan repository"
    assert aws.registry_keys() == set(), "no orphan registry record"


@pytest.mark.parametrize("request_type", ["Update", "Delete"])
def test_an_update_or_delete_stops_changing_things_once_answered(
    aws: Emulated, cfn_listener: ResponseListener, request_type: str
) -> None:
    props = properties(OnDelete="delete-all")
    send(aws, cfn_listener, "Create", props)
    names = ProjectNames("churn-model", "p-7gxpyr2wsl2k")
    if request_type == "Update":  # the Update has groups to make again
        for kind in ("prod", "dev", "feature"):
            aws.sagemaker.delete_model_package_group(
                ModelPackageGroupName=names.model_package_group(kind)
            )
    slow = SlowSageMaker(aws.sagemaker, SLOW_CALL_SECONDS, cfn_listener)

    answer = send(
        aws,
        cfn_listener,
        request_type,
        props,
        old_props=props,
        physical_id="sagemaker-churn-model-p-7gxpyr2wsl2k",
        context=LambdaContext(timeout_seconds=LAMBDA_SECONDS),
        clients=aws.clients_with(sagemaker=slow),
    )

    assert answer["Status"] == "FAILED" and "about to time out" in answer["Reason"]
    # The model registry is the lifecycle's (endpoint teardown is the deployments' code).
    assert slow.changes_after_the_answer(("create_", "add_tags", "delete_model_package")) == []
    if request_type == "Delete":  # stopped before the groups: CloudFormation will retry
        assert len(aws.group_names()) == 3
        assert "project#p-7gxpyr2wsl2k" in aws.registry_keys()
        assert send(aws, cfn_listener, "Delete", props)["Status"] == "SUCCESS"
        assert aws.group_names() == set() and aws.registry_keys() == set()


def test_a_missing_table_setting_is_a_failed_answer_naming_the_variable(
    cfn_listener: ResponseListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROJECT_REGISTRY_TABLE", raising=False)
    event = load_event("cfn-project-lifecycle-create.json", ResponseURL=cfn_listener.url())
    from moto import mock_aws

    with mock_aws():
        handler(event, LambdaContext())
    answer = cfn_listener.wait_for(1)[0]
    assert answer["Status"] == "FAILED"
    assert "PROJECT_REGISTRY_TABLE is not set" in answer["Reason"]


def test_the_lambda_entry_point_creates_a_project(
    aws: Emulated, cfn_listener: ResponseListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJECT_REGISTRY_TABLE", REGISTRY_TABLE)
    monkeypatch.setenv("ARTIFACTS_BUCKET", aws.settings.artifacts_bucket)
    monkeypatch.setenv("PROJECT_DATA_BUCKET", aws.settings.project_data_bucket)
    for scenario, key in aws.settings.seed_code_keys.items():
        monkeypatch.setenv(f"SEED_CODE_KEY_{scenario.upper()}", key)
    # The one test seam: the HTTP layer routes CodeCommit's git host to the local server.
    monkeypatch.setattr(http_pool, "new_pool_manager", lambda: aws.http)
    event = load_event("cfn-project-lifecycle-create.json", ResponseURL=cfn_listener.url())
    handler(event, LambdaContext())
    answer = cfn_listener.wait_for(1)[0]
    assert answer["Status"] == "SUCCESS", answer["Reason"]
    assert len(aws.group_names()) == 3
    assert aws.repository_names() == {"sagemaker-churn-model-p-7gxpyr2wsl2k"}


def test_importing_the_handler_creates_no_client() -> None:
    code = (
        "import boto3, boto3.session\n"
        "def refuse(*a, **k): raise SystemExit('client created at import time')\n"
        "boto3.client = refuse; boto3.session.Session.client = refuse\n"
        "import lambda_project_lifecycle.lifecycle\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
