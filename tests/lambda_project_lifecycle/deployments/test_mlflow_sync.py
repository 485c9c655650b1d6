"""An alias on an MLflow model version deploys it: a real MLflow server's webhooks reach the
real handler through a local receiver; SageMaker, S3 and DynamoDB are moto.

One MLflow server for the module (each test its own project, so its own models).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from lambda_project_lifecycle.deployments import mlflow_webhook
from lambda_project_lifecycle.deployments.mlflow_sync import MlflowSync
from lambda_project_lifecycle.deployments.outcomes import Outcome
from lambda_project_lifecycle.deployments.webhook_signature import signature
from tests.lambda_project_lifecycle.deployments.mlflow_world import (
    DELIVERY_WAIT_SECONDS,
    SECRET,
    Delivery,
    MlflowProject,
    Receiver,
    function_url_event,
    mlflow_project,
    webhook_server,
)
from tests.support.deployments import IMAGE, DeployWorld


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Receiver]]:
    with webhook_server(Path(tmp_path_factory.mktemp("mlflow"))) as running:
        yield running


@pytest.fixture
def project(world: DeployWorld, server: tuple[str, Receiver], request: pytest.FixtureRequest):
    url, target = server
    # one project per test on the shared server: its id from the test's position
    index = len(target.deliveries) + int(time.monotonic() * 1000) % 100000
    made = mlflow_project(world, url, "churn", f"p-{index:012d}"[:16])
    target.target = made.webhook_event()
    start = len(target.deliveries)
    yield made, target, start
    target.target = None


def deliveries(target: Receiver, start: int, count: int) -> list:
    return target.wait(start + count)[start:]


def delivery_of(
    target: Receiver, start: int, model: str, version: str = "", action: str = "created"
) -> Delivery:
    """The first delivery after ``start`` of ``action`` on ``model``'s alias (of ``version``,
    when given) that
    was not a repeat: MLflow retries a delivery it timed out on (a loaded machine), so the
    n-th delivery is not always the n-th alias change."""
    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    while time.monotonic() < deadline:
        with target.lock:
            for delivery in target.deliveries[start:]:
                payload = json.loads(delivery.body)
                data = payload.get("data", {})
                about = (
                    payload.get("action") == action
                    and data.get("name") == model
                    and version in ("", data.get("version"))
                )
                repeat = "handled already" in delivery.result.get("detail", "")
                if about and not repeat:
                    return delivery
        time.sleep(0.05)
    raise AssertionError(f"no {action} delivery about {model} {version} arrived")


def serving(mlflow: MlflowProject) -> set[str]:
    try:
        return set(mlflow.served("production"))
    except ClientError:  # no production endpoint yet
        return set()


def test_setting_moving_and_removing_the_alias_deploys_updates_and_rolls_back(project) -> None:
    mlflow, target, start = project
    model = mlflow.model("dev")
    first, second = mlflow.register(), mlflow.register()

    mlflow.client.set_registered_model_alias(model, "approved", first)
    (set_first,) = deliveries(target, start, 1)
    assert set_first.answer["statusCode"] == 200
    assert set_first.result["action"] == "deploying", set_first.result
    served = mlflow.served()["AllTraffic"]
    assert served["Image"] == IMAGE
    assert served["ModelDataUrl"].endswith(f"/models/dev-{first}/model.tar.gz")
    assert served["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    tags = mlflow.world.endpoint_tags(mlflow.names.endpoint("development"))
    assert tags["mlops-portfolio:mlflow:AllTraffic:model-name"] == model
    assert tags["mlops-portfolio:mlflow:AllTraffic:version"] == first
    assert tags["mlops-portfolio:mlflow:AllTraffic:commit_id"] == f"{int(first):040x}"
    assert tags["mlops-portfolio:mlflow:AllTraffic:metric.accuracy"] == "0.91"
    assert "mlops-portfolio:mlflow:AllTraffic:hyperparameters" not in tags  # no JSON in tags

    mlflow.client.set_registered_model_alias(model, "approved", second)  # moved
    moved = deliveries(target, start, 2)[1]
    assert moved.result["action"] == "deploying", moved.result
    assert "updating the endpoint" in moved.result["detail"]
    assert mlflow.served()["AllTraffic"]["ModelDataUrl"].endswith(f"/dev-{second}/model.tar.gz")
    tags = mlflow.world.endpoint_tags(mlflow.names.endpoint("development"))
    assert tags["mlops-portfolio:mlflow:AllTraffic:version"] == second

    mlflow.client.delete_registered_model_alias(model, "approved")  # removed
    removed = deliveries(target, start, 3)[2]
    assert removed.result["action"] == "deploying", removed.result
    assert removed.result["rolled_back_to"] == f"mlflow:{model}/{first}"
    assert mlflow.served()["AllTraffic"]["ModelDataUrl"].endswith(f"/dev-{first}/model.tar.gz")


def test_removing_the_alias_of_the_only_version_served_removes_the_endpoint(project) -> None:
    mlflow, target, start = project
    model = mlflow.model("dev")
    only = mlflow.register()
    mlflow.client.set_registered_model_alias(model, "approved", only)
    deliveries(target, start, 1)

    mlflow.client.delete_registered_model_alias(model, "approved")

    removed = deliveries(target, start, 2)[1]
    assert removed.result["action"] == "removed", removed.result
    assert mlflow.names.endpoint("development") not in mlflow.world.endpoint_names()


def test_tampered_unsigned_stale_and_replayed_deliveries_change_nothing(project, caplog) -> None:
    mlflow, target, start = project
    model = mlflow.model("dev")
    mlflow.client.set_registered_model_alias(model, "approved", mlflow.register())
    (real,) = deliveries(target, start, 1)
    assert real.result["action"] == "deploying"
    handler = mlflow.webhook_event()
    endpoints_before = mlflow.world.endpoint_names()

    replayed = handler(real.event())
    assert replayed["statusCode"] == 200
    assert "handled already" in replayed["body"]

    tampered = function_url_event(real.headers, real.body.replace(model, mlflow.model("prod")))
    unsigned = real.event(**{"X-MLflow-Signature": ""})
    other_secret = mlflow.webhook_event(secret="another-secret")(real.event())
    old = str(int(time.time()) - 301)
    stale = real.event(
        **{
            "X-MLflow-Timestamp": old,
            "X-MLflow-Signature": signature(
                SECRET, real.headers["x-mlflow-delivery-id"], old, real.body
            ),
        }
    )
    caplog.set_level("WARNING", logger=mlflow_webhook.__name__)
    caplog.clear()
    answers = [handler(tampered), handler(unsigned), other_secret, handler(stale)]

    assert [a["statusCode"] for a in answers] == [401, 401, 401, 401]
    assert mlflow.world.endpoint_names() == endpoints_before
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == mlflow_webhook.__name__)
    assert "does not match" in logged and "301 s" in logged and "missing" in logged
    assert model not in logged and mlflow.model("prod") not in logged  # never the payload


def test_an_alias_that_is_not_approved_or_a_model_that_is_not_a_projects_deploys_nothing(
    project,
) -> None:
    mlflow, target, start = project
    model = mlflow.model("dev")
    version = mlflow.register()
    mlflow.client.set_registered_model_alias(model, "candidate", version)
    stranger = f"not-a-project-model-{start}"
    mlflow.client.create_registered_model(stranger)
    mlflow.client.create_model_version(stranger, source="s3://elsewhere/model.tar.gz")
    mlflow.client.set_registered_model_alias(stranger, "approved", "1")

    first, second = deliveries(target, start, 2)

    assert first.result["action"] == second.result["action"] == "ignored"
    assert "only 'approved'" in first.result["detail"]
    assert "is not a project's" in second.result["detail"]
    assert mlflow.names.endpoint("development") not in mlflow.world.endpoint_names()


def test_a_version_whose_artifact_is_missing_fails_and_says_so(project) -> None:
    mlflow, target, start = project
    model = mlflow.model("dev")
    version = mlflow.register(archive=False)

    mlflow.client.set_registered_model_alias(model, "approved", version)

    (delivery,) = deliveries(target, start, 1)
    assert delivery.result["action"] == "failed"
    assert "does not exist" in delivery.result["detail"]
    assert mlflow.names.endpoint("development") not in mlflow.world.endpoint_names()
    (notice,) = [n for n in mlflow.world.notices() if n.get("status") == "FAILED"]
    assert "model archive" in str(notice)


def test_the_reconcile_heals_a_missed_webhook_and_then_changes_nothing(project) -> None:
    mlflow, target, start = project
    model = mlflow.model("prod")
    version = mlflow.register("prod")
    target.target = None  # the receiver is down: the delivery is missed
    mlflow.client.set_registered_model_alias(model, "approved", version)
    assert deliveries(target, start, 1)[0].answer["statusCode"] == 503

    healed = mlflow.reconcile()

    assert healed["changed"] == [model], healed
    assert healed["results"][model]["action"] == "deploying"
    assert mlflow.served("production")["AllTraffic"]["ModelDataUrl"].endswith(
        f"/prod-{version}/model.tar.gz"
    )
    again = mlflow.reconcile()
    assert again["changed"] == []
    assert again["results"][model]["action"] == "unchanged"


def test_the_reconcile_reports_an_unreachable_server_and_changes_nothing(
    project, world: DeployWorld
) -> None:
    mlflow, _, _ = project
    world.client("dynamodb").update_item(
        TableName="mlops-portfolio-project-registry",
        Key={"pk": {"S": f"project#{mlflow.names.project_id}"}},
        UpdateExpression="SET MlflowTrackingUri = :uri",
        ExpressionAttributeValues={":uri": {"S": "http://127.0.0.1:9"}},  # nothing listens
    )

    run = mlflow.reconcile()

    assert set(run["unreachable"]) >= {mlflow.model("dev"), mlflow.model("prod")}
    assert "cannot be reached" in run["unreachable"][mlflow.model("dev")]
    assert run["changed"] == []
    assert world.endpoint_names() == set()


def test_the_reconcile_is_bounded_per_run_and_resumes_where_it_stopped(project) -> None:
    mlflow, _, _ = project  # baseline: three registered models (feature, dev, prod)

    first = mlflow.reconcile(limit=2)
    second = mlflow.reconcile(limit=2)

    assert (first["models"], first["complete"]) == (2, False)
    assert (second["models"], second["complete"]) == (1, True)
    assert set(first["results"]) | set(second["results"]) == {
        mlflow.model(kind) for kind in ("feature", "dev", "prod")
    }


def test_a_delivery_that_fails_unexpectedly_is_not_taken_for_a_replay_when_retried(
    project,
) -> None:
    mlflow, _, _ = project
    body = json.dumps(
        {
            "entity": "model_version_alias",
            "action": "created",
            "timestamp": "2026-12-02T10:00:00+00:00",
            "data": {"name": mlflow.model("dev"), "alias": "approved", "version": "1"},
        }
    )
    stamp = str(int(time.time()))
    headers = {
        "X-MLflow-Delivery-Id": "delivery-1",
        "X-MLflow-Timestamp": stamp,
        "X-MLflow-Signature": signature(SECRET, "delivery-1", stamp, body),
    }
    event = function_url_event(headers, body)

    class Broken(MlflowSync):
        def alias_set(self, *args: object) -> Outcome:
            raise RuntimeError("the container ran out of memory")

    with pytest.raises(RuntimeError):
        mlflow_webhook.handle_event(
            event, None, Broken(mlflow.world.deployer(), None), secret=SECRET
        )
    retried = mlflow_webhook.handle_event(event, None, mlflow.sync, secret=SECRET)

    assert retried["statusCode"] == 200
    assert "handled already" not in retried["body"]


def test_advanced_champion_and_challenger_aliases_share_production_and_the_challenger_goes(
    world: DeployWorld, server: tuple[str, Receiver]
) -> None:
    url, target = server
    mlflow = mlflow_project(world, url, "pair", "p-advanced00001", scenario="advanced")
    target.target = mlflow.webhook_event()
    start = len(target.deliveries)
    champion, challenger = mlflow.register("champion"), mlflow.register("challenger")
    try:
        mlflow.client.set_registered_model_alias(mlflow.model("champion"), "approved", champion)
        deliveries(target, start, 1)
        # A retry's "handled already" may arrive while the champion still deploys (see
        # delivery_of): the pair starts once it serves.
        deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
        while "champion" not in serving(mlflow):
            assert time.monotonic() < deadline, "the champion was not deployed"
            time.sleep(0.1)
        mlflow.client.set_registered_model_alias(mlflow.model("challenger"), "approved", challenger)
        paired = delivery_of(target, start, mlflow.model("challenger"))
        assert paired.result["action"] == "deploying", paired.result
        assert set(mlflow.served("production")) == {"champion", "challenger"}

        mlflow.client.delete_registered_model_alias(mlflow.model("challenger"), "approved")

        removed = delivery_of(target, start, mlflow.model("challenger"), action="deleted")
        assert removed.result["action"] == "deploying", removed.result
        assert "variant challenger is removed" in removed.result["detail"]
        assert set(mlflow.served("production")) == {"champion"}
    finally:
        target.target = None


def test_deleting_the_project_removes_what_an_alias_deployed_and_later_aliases_deploy_nothing(
    project,
) -> None:
    mlflow, target, start = project
    model = mlflow.model("dev")
    first, second = mlflow.register(), mlflow.register()
    mlflow.client.set_registered_model_alias(model, "approved", first)
    deliveries(target, start, 1)

    answer = mlflow.world.delete_project(mlflow.names, Registry="mlflow")
    mlflow.client.set_registered_model_alias(model, "approved", second)

    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    assert mlflow.names.endpoint("development") not in mlflow.world.endpoint_names()
    after = delivery_of(target, start, model, second)
    assert after.result["action"] == "ignored"
    assert "is not a project's" in after.result["detail"]
    assert mlflow.world.endpoint_names() == set()


def later(world: DeployWorld, hours: float) -> None:
    world.clock[0] = world.clock[0] + dt.timedelta(hours=hours)


def development_version(mlflow: MlflowProject) -> str:
    """``<kind>-<version>`` of the archive the development endpoint serves."""
    return mlflow.served()["AllTraffic"]["ModelDataUrl"].rsplit("/", 2)[-2]


def test_the_reconcile_keeps_a_shared_endpoint_on_an_aliased_version_until_it_loses_the_alias(
    project,
) -> None:
    mlflow, target, _ = project
    target.target = None  # every alias change reaches the platform through the reconcile only
    feature, dev = mlflow.model("feature"), mlflow.model("dev")
    mlflow.register("dev")
    mlflow.register("feature")  # the newer version
    mlflow.client.set_registered_model_alias(dev, "approved", "1")
    assert mlflow.reconcile()["changed"] != []
    assert development_version(mlflow) == "dev-1"

    mlflow.client.set_registered_model_alias(feature, "approved", "1")
    runs = [mlflow.reconcile(), mlflow.reconcile()]

    # dev-1 still carries the alias: converged, though feature-1 is aliased and newer
    assert [run["changed"] for run in runs] == [[], []]
    assert {runs[0]["results"][m]["action"] for m in (feature, dev)} == {"unchanged"}
    assert development_version(mlflow) == "dev-1"

    mlflow.client.delete_registered_model_alias(dev, "approved")
    healed, again = mlflow.reconcile(), mlflow.reconcile()

    assert len(healed["changed"]) == 1, healed
    assert development_version(mlflow) == "feature-1"
    assert again["changed"] == []
    assert development_version(mlflow) == "feature-1"


def test_the_reconcile_deploys_the_aliased_version_updated_last_when_nothing_is_served(
    project,
) -> None:
    mlflow, target, _ = project
    target.target = None
    feature, dev = mlflow.model("feature"), mlflow.model("dev")
    mlflow.register("feature")
    time.sleep(0.01)
    mlflow.register("dev")
    mlflow.client.set_registered_model_alias(dev, "approved", "1")
    mlflow.client.set_registered_model_alias(feature, "approved", "1")
    updated = {
        kind: mlflow.client.get_model_version(mlflow.model(kind), "1").last_updated_timestamp
        for kind in ("feature", "dev")
    }
    newest = max(updated, key=lambda kind: updated[kind])

    first, second = mlflow.reconcile(), mlflow.reconcile()

    assert len(first["changed"]) == 1, first
    assert development_version(mlflow) == f"{newest}-1"
    assert second["changed"] == []
    assert development_version(mlflow) == f"{newest}-1"


def test_the_reconcile_does_not_bring_back_what_the_reaper_removed_until_the_alias_moves(
    project,
) -> None:
    mlflow, target, _ = project
    target.target = None
    world, dev = mlflow.world, mlflow.model("dev")
    endpoint = mlflow.names.endpoint("development")
    world.publish_config(
        mlflow.names, "dev", {"schema_version": 1, "development": {"ttl_hours": 24}}
    )
    mlflow.register("dev")
    mlflow.client.set_registered_model_alias(dev, "approved", "1")
    assert mlflow.reconcile()["changed"] == [dev]

    later(world, 25)
    assert world.reap()["endpoints"] == [endpoint]
    runs = [mlflow.reconcile() for _ in range(3)]  # the 10-minute schedule goes on

    assert [run["changed"] for run in runs] == [[], [], []]
    assert endpoint not in world.endpoint_names()
    assert "set the alias again" in runs[0]["results"][dev]["detail"]
    record = world.record(endpoint)
    assert record is not None and record["Desired"] == {}
    assert record["Reaped"] == {"AllTraffic": [f"mlflow:{dev}/1"]}

    mlflow.client.set_registered_model_alias(dev, "approved", mlflow.register("dev"))  # moved
    moved = mlflow.reconcile()

    assert moved["changed"] == [dev]
    assert development_version(mlflow) == "dev-2"
    assert world.record(endpoint)["Reaped"] == {}


def test_setting_the_alias_again_after_the_reaper_deploys_through_the_webhook(project) -> None:
    mlflow, target, start = project
    world, dev = mlflow.world, mlflow.model("dev")
    endpoint = mlflow.names.endpoint("development")
    world.publish_config(
        mlflow.names, "dev", {"schema_version": 1, "development": {"ttl_hours": 24}}
    )
    version = mlflow.register("dev")
    mlflow.client.set_registered_model_alias(dev, "approved", version)
    delivery_of(target, start, dev)
    later(world, 25)
    assert world.reap()["endpoints"] == [endpoint]
    assert mlflow.reconcile()["changed"] == []

    again = len(target.deliveries)
    mlflow.client.set_registered_model_alias(dev, "approved", version)  # the same version

    delivered = delivery_of(target, again, dev, version)
    assert delivered.result["action"] == "deploying", delivered.result
    assert development_version(mlflow) == f"dev-{version}"
    assert mlflow.reconcile()["changed"] == []
