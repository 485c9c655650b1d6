"""After a deployment is InService: autoscaling, integration tests, results to SNS and a webhook.

The webhook is a real HTTPS server on 127.0.0.1 (a throwaway certificate the
test trusts); SNS messages are read from an SQS queue subscribed to the topic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lambda_project_lifecycle.naming import ProjectNames
from tests.support.deployments import DeployWorld, WebhookListener, deploy_world, model_server

CSV_ONE = {
    "description": "One record as CSV",
    "content_type": "text/csv",
    "accept": "application/json",
    "body": "13.54,14.36,87.46,566.3",
    "expect": {"status": 200, "prediction_count": 1, "labels_in": [0, 1]},
}
JSON_TWO = {
    "description": "Two records as JSON",
    "content_type": "application/json",
    "body": json.dumps({"instances": [[1, 2, 3, 4], [5, 6, 7, 8]]}),
    "expect": {"prediction_count": 2, "labels_in": [0, 1]},
}
ONE = json.dumps({"predictions": [{"label": 1, "probability": 0.93}]})
TWO = json.dumps(
    {"predictions": [{"label": 0, "probability": 0.1}, {"label": 1, "probability": 0.8}]}
)
PROD_SCALING = {
    "schema_version": 1,
    "production": {
        "realtime": {"autoscaling": {"min": 1, "max": 4, "target_invocations_per_instance": 150}}
    },
}


@pytest.fixture
def webhook() -> Iterator[WebhookListener]:
    listener = WebhookListener().start()
    yield listener
    listener.stop()


@pytest.fixture
def hooked(webhook: WebhookListener) -> Iterator[DeployWorld]:
    """A platform configured with a webhook secret that holds the listener's https URL."""
    with deploy_world(
        webhook_secret=json.dumps({"url": webhook.url}), ssl_context=webhook.client_context
    ) as emulated:
        yield emulated


def deployed(
    world: DeployWorld, kind: str = "prod", config: dict[str, Any] | None = None
) -> tuple[ProjectNames, str]:
    names = world.create_project()
    if config is not None:
        world.publish_config(names, "prod" if kind == "prod" else "dev", config)
    package = world.register_package(names.model_package_group(kind))
    world.approve(package)
    world.notices()
    return names, package


def test_in_service_after_a_deployment_runs_the_tests_and_reports_to_sns_and_the_webhook(
    hooked: DeployWorld, webhook: WebhookListener
) -> None:
    names, package = deployed(hooked, config=PROD_SCALING)
    hooked.publish_payloads(names, "prod", {"csv-one": CSV_ONE, "json-two": JSON_TWO})
    hooked.model_answers(ONE, TWO)
    endpoint = names.endpoint("production")

    result = hooked.endpoint_event(endpoint)

    assert result["action"] == "passed", result
    assert result["tests"]["summary"].startswith("2 integration test(s) passed")
    assert [c["payload"] for c in result["tests"]["cases"]] == ["csv-one", "json-two"]
    (notice,) = hooked.notices()
    assert notice["status"] == "PASSED"
    assert notice["_subject"] == "[mlops] churn-model production: PASSED"
    assert notice["details"]["variants"] == {"AllTraffic": package}
    # The webhook got Slack-compatible messages over TLS: deployment started, then the result.
    started, post = webhook.wait_for(2)
    assert started["body"]["text"].startswith("STARTED: churn-model")
    assert post["content_type"] == "application/json"
    assert post["body"]["text"].startswith("PASSED: churn-model (p-7gxpyr2wsl2k) production")
    assert result["notified"]["webhook"] == "sent (200)"
    # The result is on the endpoint's registry entry.
    record = hooked.record(endpoint)
    assert record is not None
    assert record["Status"] == "InService"
    assert record["LastResult"]["status"] == "PASSED"
    assert record["LastResult"]["tests"]["passed"] is True
    # Autoscaling is registered now that the endpoint is InService.
    assert hooked.scalable_targets() == {f"endpoint/{endpoint}/variant/AllTraffic"}
    policy = hooked.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="sagemaker"
    )["ScalingPolicies"][0]
    assert policy["PolicyName"] == f"{endpoint}-AllTraffic-invocations"
    target = policy["TargetTrackingScalingPolicyConfiguration"]
    assert target["TargetValue"] == 150.0
    assert target["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }


def test_wrong_answers_fail_the_tests_and_say_which_payload_and_why(
    hooked: DeployWorld, webhook: WebhookListener
) -> None:
    names, _ = deployed(hooked)
    hooked.publish_payloads(names, "prod", {"csv-one": CSV_ONE, "json-two": JSON_TWO})
    hooked.model_answers(ONE, json.dumps({"predictions": [{"label": 7}]}))

    result = hooked.endpoint_event(names.endpoint("production"))

    assert result["action"] == "tests-failed"
    assert "1 of 2 integration test(s) failed" in result["detail"]
    assert (
        "json-two on AllTraffic: 1 predictions, expected 2; labels [7] not in [0, 1]"
        in (result["detail"])
    )
    (notice,) = hooked.notices()
    assert notice["status"] == "FAILED"
    assert webhook.wait_for(2)[-1]["body"]["text"].startswith("FAILED: churn-model")
    record = hooked.record(names.endpoint("production"))
    assert record is not None and record["Status"] == "TestsFailed"


def test_an_answer_slower_than_the_latency_budget_fails(world: DeployWorld) -> None:
    names, _ = deployed(world)
    world.publish_config(
        names, "prod", {"schema_version": 1, "production": {"tests": {"latency_budget_ms": 50}}}
    )
    world.publish_payloads(names, "prod", {"csv-one": CSV_ONE})

    with model_server([ONE], delay=0.12) as model:
        result = world.endpoint_event(names.endpoint("production"))

    assert result["action"] == "tests-failed"
    (case,) = result["tests"]["cases"]
    assert case["latency_ms"] >= 120
    assert case["problems"] == [f"took {case['latency_ms']} ms, over the 50 ms budget"]
    assert model.requests == [
        {"path": f"/endpoints/{names.endpoint('production')}/invocations", "variant": "AllTraffic"}
    ]


def test_a_model_that_never_answers_fails_each_case_soon_after_the_budget(
    world: DeployWorld,
) -> None:
    """Without a deadline of its own a call would wait a minute, and retry (botocore's
    defaults); the Lambda would time out with no result and no notice."""
    names, _ = deployed(world)
    world.publish_config(
        names, "prod", {"schema_version": 1, "production": {"tests": {"latency_budget_ms": 200}}}
    )
    world.publish_payloads(names, "prod", {"csv-one": CSV_ONE, "json-two": JSON_TWO})

    with model_server([ONE], delay=60) as model:
        started = time.monotonic()
        result = world.endpoint_event(names.endpoint("production"))
        took = time.monotonic() - started

    assert result["action"] == "tests-failed"
    assert [c["problems"] for c in result["tests"]["cases"]] == [
        ["no answer within 1.2 s (the call was abandoned)"]
    ] * 2
    assert len(model.requests) == 2, "one attempt per case, no retries"
    assert took < 6, f"two hanging calls took {took:.1f} s"
    (notice,) = world.notices()
    assert notice["status"] == "FAILED"


def test_tests_stop_while_the_lambda_can_still_report_and_say_they_timed_out(
    world: DeployWorld,
) -> None:
    names, _ = deployed(world)
    world.publish_config(
        names, "prod", {"schema_version": 1, "production": {"tests": {"latency_budget_ms": 200}}}
    )
    payloads = {f"case-{n}": CSV_ONE for n in range(6)}
    world.publish_payloads(names, "prod", payloads)
    endpoint = names.endpoint("production")

    # 15 s are kept for what follows the tests; each hanging call takes 1.2 s.
    with model_server([ONE], delay=60) as model:
        result = world.endpoint_event(endpoint, lambda_seconds=18.0)

    assert result["action"] == "tests-timed-out"
    assert 1 <= len(model.requests) < 6
    assert result["tests"]["timed_out"].startswith(
        f"stopped after {len(model.requests)} of 6 case(s)"
    )
    (notice,) = world.notices()
    assert notice["status"] == "TIMED_OUT"
    assert "integration tests timed out" in notice["summary"]
    record = world.record(endpoint)
    assert record is not None
    assert record["LastResult"]["status"] == "TIMED_OUT"
    assert record["Status"] == "TestsFailed", "not left in Deploying"


def test_every_production_variant_is_tested_and_the_shadow_is_not(world: DeployWorld) -> None:
    names = world.create_project(Scenario="advanced")
    world.publish_config(
        names,
        "prod",
        {
            "schema_version": 1,
            "production": {"champion_challenger": {"mode": "split", "challenger_weight": 20}},
        },
    )
    for kind in ("champion", "challenger"):
        world.approve(world.register_package(names.model_package_group(kind)))
    world.publish_payloads(names, "prod", {"csv-one": CSV_ONE})
    world.model_answers(ONE, ONE)

    result = world.endpoint_event(names.endpoint("production"))

    assert result["action"] == "passed"
    assert {c["variant"] for c in result["tests"]["cases"]} == {"champion", "challenger"}


def test_no_published_payloads_is_reported_as_untested(world: DeployWorld) -> None:
    names, _ = deployed(world, "dev")
    result = world.endpoint_event(names.endpoint("development"))
    assert result["action"] == "untested"
    assert world.notices()[0]["status"] == "UNTESTED"
    record = world.record(names.endpoint("development"))
    assert record is not None and record["LastResult"]["status"] == "UNTESTED"


def test_a_malformed_payload_fails_the_tests_naming_it(world: DeployWorld) -> None:
    names, _ = deployed(world)
    world.publish_payloads(names, "prod", {"broken": {"content_type": "text/csv"}})
    result = world.endpoint_event(names.endpoint("production"))
    assert result["action"] == "tests-failed"
    assert "payload broken.json: key 'body' is required" in result["detail"]


def test_failed_reports_sagemakers_reason_and_clears_the_failed_endpoint(
    hooked: DeployWorld, webhook: WebhookListener
) -> None:
    names, _ = deployed(hooked)
    endpoint = names.endpoint("production")
    reason = (
        "The primary container for production variant AllTraffic did not pass the ping "
        "health check."
    )
    hooked.gaps.set_endpoint_status(endpoint, "Failed", reason)

    result = hooked.endpoint_event(endpoint, "FAILED", reason)

    assert result["action"] == "failed"
    assert reason in result["detail"]
    (notice,) = hooked.notices()
    assert notice["status"] == "FAILED" and reason in notice["summary"]
    assert reason in webhook.wait_for(2)[-1]["body"]["text"]
    assert hooked.endpoint_names() == set()
    assert hooked.alarm_names() == set()
    record = hooked.record(endpoint)
    assert record is not None and record["LastResult"]["reason"] == reason


def test_a_rolled_back_update_is_reported_with_the_reason(world: DeployWorld) -> None:
    names = world.create_project()
    group = names.model_package_group("prod")
    first, second = world.register_package(group), world.register_package(group)
    endpoint = names.endpoint("production")
    world.approve(first)
    old_config = world.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    world.endpoint_event(endpoint)
    world.approve(second)
    world.notices()
    world.gaps.roll_back(
        endpoint, old_config, f"Alarm {endpoint}-AllTraffic-5xx fired during the deployment"
    )

    result = world.endpoint_event(endpoint)

    assert result["action"] == "rolled-back"
    assert "5xx fired" in result["detail"]
    assert world.notices()[0]["status"] == "ROLLED_BACK"
    assert world.served_packages(endpoint) == {"AllTraffic": first}


def test_an_in_service_deployment_prunes_superseded_configs_and_models(world: DeployWorld) -> None:
    names = world.create_project()
    group = names.model_package_group("dev")
    endpoint = names.endpoint("development")
    for _ in range(3):
        world.approve(world.register_package(group))
    assert len(world.config_names()) == 3 and len(world.model_names()) == 3

    world.endpoint_event(endpoint)

    current = world.sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    assert world.config_names() == {current}
    assert world.model_names() == {names.model("dev", 3)}


def test_endpoint_events_that_are_not_ours_or_not_after_a_deployment_are_ignored(
    world: DeployWorld,
) -> None:
    names, _ = deployed(world)
    endpoint = names.endpoint("production")
    world.endpoint_event(endpoint)
    world.notices()
    # Another InService (for example after autoscaling changed the instance count).
    assert world.endpoint_event(endpoint)["action"] == "ignored"
    # An endpoint someone made by hand.
    world.sagemaker.create_endpoint(
        EndpointName="sagemaker-handmade", EndpointConfigName=world.config_names().pop()
    )
    assert "not deployed by the platform" in world.endpoint_event("sagemaker-handmade")["detail"]
    assert world.notices() == []


def test_a_webhook_url_that_is_not_https_is_never_called(webhook: WebhookListener) -> None:
    plain = WebhookListener(tls=False).start()
    try:
        with deploy_world(webhook_secret=plain.url) as world:
            names, _ = deployed(world, "dev")
            result = world.endpoint_event(names.endpoint("development"))
            assert result["notified"]["webhook"].startswith("refused: the webhook URL")
            assert "is not https (http://127.0.0.1)" in result["notified"]["webhook"]
            (notice,) = world.notices()
            assert notice["webhook"].startswith("refused"), "SNS readers learn why"
        time.sleep(0.2)
        assert plain.posts == []
    finally:
        plain.stop()


def test_a_config_broken_after_the_deployment_does_not_turn_scaling_events_into_alarms(
    world: DeployWorld,
) -> None:
    names, _ = deployed(world)
    endpoint = names.endpoint("production")
    world.endpoint_event(endpoint)
    world.notices()
    world.publish_config(names, "prod", {"schema_version": 1, "production": {"mode": "gpu"}})
    assert world.endpoint_event(endpoint)["action"] == "ignored"
    assert world.notices() == []
