"""Approvals deploy the exact package, rejections roll back, champion and challenger share prod.

Every test sends stored "SageMaker Model Package State Change" events through the
real handler; SageMaker, DynamoDB, S3, SNS and CloudWatch are moto. What the
handler did is read back from moto: the endpoint, its config, its models, its tags.
"""

from __future__ import annotations

from typing import Any

import pytest

from lambda_project_lifecycle.naming import ProjectNames, check_name
from tests.support.deployments import MODEL_ROLE_ARN, DeployWorld

PROD_CANARY = {
    "schema_version": 1,
    "production": {
        "realtime": {
            "instance_type": "ml.m5.xlarge",
            "initial_instance_count": 2,
            "autoscaling": {"min": 2, "max": 4, "target_invocations_per_instance": 200},
        },
        "deployment": {
            "strategy": "canary",
            "canary": {"size_percent": 25, "wait_seconds": 600},
            "rollback_alarms": ["churn-model-business-kpi"],
            "termination_wait_seconds": 900,
        },
    },
}


def endpoint_requests(world: DeployWorld) -> list[str]:
    return [op for op, _ in world.gaps.calls if op == "UpdateEndpoint"]


# --- approve -------------------------------------------------------------------------------


def test_approving_a_dev_package_creates_the_development_endpoint_with_that_package(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"))

    result = world.approve(package)

    endpoint = names.endpoint("development")
    assert result["action"] == "deploying", result
    assert result["model_package_arn"] == package
    assert world.served_packages(endpoint) == {"AllTraffic": package}
    described = world.sagemaker.describe_endpoint_config(
        EndpointConfigName=world.sagemaker.describe_endpoint(EndpointName=endpoint)[
            "EndpointConfigName"
        ]
    )
    (variant,) = described["ProductionVariants"]
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    model = world.sagemaker.describe_model(ModelName=variant["ModelName"])
    assert model["ExecutionRoleArn"] == MODEL_ROLE_ARN
    tags = world.endpoint_tags(endpoint)
    assert tags["sagemaker:project-name"] == "churn-model"
    assert tags["sagemaker:project-id"] == "p-7gxpyr2wsl2k"
    assert tags["mlops-portfolio:stage"] == "development"
    assert tags["mlops-portfolio:model-package-arn:AllTraffic"] == package
    assert tags["mlops-portfolio:expires-at"] == "2026-11-23T10:00:00Z"  # ttl_hours 24
    (notice,) = world.notices()
    assert notice["status"] == "STARTED"
    assert package in notice["text"]
    assert notice["_attributes"] == {
        "project_id": "p-7gxpyr2wsl2k",
        "stage": "development",
        "status": "STARTED",
    }
    record = world.record(endpoint)
    assert record is not None
    assert record["Status"] == "Deploying"
    assert record["Desired"]["AllTraffic"]["ModelPackageArn"] == package


def test_a_feature_package_also_goes_to_the_development_endpoint(world: DeployWorld) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("feature"))
    world.approve(package)
    assert world.served_packages(names.endpoint("development")) == {"AllTraffic": package}


def test_the_handler_returns_while_sagemaker_is_still_creating_the_endpoint(
    world: DeployWorld,
) -> None:
    """Asynchronous: it starts the change and returns; it never waits for InService."""
    names = world.create_project()
    package = world.register_package(names.model_package_group("prod"))

    def still_creating(**kwargs: Any) -> None:
        world.gaps.set_endpoint_status(names.endpoint("production"), "Creating")

    world.sagemaker.meta.events.register("after-call.sagemaker.CreateEndpoint", still_creating)
    describes: list[str] = []
    world.sagemaker.meta.events.register(
        "before-call.sagemaker.DescribeEndpoint", lambda **_: describes.append("d")
    )

    result = world.approve(package)

    assert result["action"] == "deploying"
    assert len(describes) == 1, "one look at the endpoint before the change, no polling"
    status = world.sagemaker.describe_endpoint(EndpointName=names.endpoint("production"))
    assert status["EndpointStatus"] == "Creating"


def test_approving_a_prod_package_deploys_production_realtime_without_a_ttl(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    world.publish_config(names, "prod", PROD_CANARY)
    package = world.register_package(names.model_package_group("prod"))

    world.approve(package)

    endpoint = names.endpoint("production")
    config = world.sagemaker.describe_endpoint_config(
        EndpointConfigName=world.sagemaker.describe_endpoint(EndpointName=endpoint)[
            "EndpointConfigName"
        ]
    )
    (variant,) = config["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.m5.xlarge", 2)
    assert world.served_packages(endpoint) == {"AllTraffic": package}
    tags = world.endpoint_tags(endpoint)
    assert tags["mlops-portfolio:stage"] == "production"
    assert "mlops-portfolio:expires-at" not in tags
    assert world.alarm_names() == {f"{endpoint}-AllTraffic-5xx"}


def test_a_second_approval_updates_the_endpoint_blue_green_with_the_stage_settings(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    world.publish_config(names, "prod", PROD_CANARY)
    group = names.model_package_group("prod")
    first, second = world.register_package(group), world.register_package(group)
    world.approve(first)

    result = world.approve(second)

    endpoint = names.endpoint("production")
    assert result["action"] == "deploying"
    assert result["guardrails"] == "blue/green, canary"
    assert world.served_packages(endpoint) == {"AllTraffic": second}
    (update,) = world.gap_calls("UpdateEndpoint")
    assert update["EndpointName"] == endpoint
    assert update["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 600,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
            },
            "TerminationWaitInSeconds": 900,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [
                {"AlarmName": f"{endpoint}-AllTraffic-5xx"},
                {"AlarmName": "churn-model-business-kpi"},
            ]
        },
    }
    assert world.endpoint_tags(endpoint)["mlops-portfolio:model-package-arn:AllTraffic"] == second


def test_approving_an_older_package_again_deploys_exactly_that_package(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    group = names.model_package_group("prod")
    v1, v2 = world.register_package(group), world.register_package(group)
    world.approve(v1)
    world.approve(v2)
    world.approve(v1)  # re-approve the older one: the event's package wins, not "the latest"
    assert world.served_packages(names.endpoint("production")) == {"AllTraffic": v1}


def test_a_duplicated_event_changes_nothing(world: DeployWorld) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"))
    world.set_status(package, "Approved")
    event = world.package_event(package, "Approved")
    world.deploy_event(event)
    configs, models = world.config_names(), world.model_names()
    world.notices()

    again = world.deploy_event(event)

    assert again["action"] == "unchanged"
    assert (world.config_names(), world.model_names()) == (configs, models)
    assert endpoint_requests(world) == []
    assert world.notices() == []


def test_an_approval_event_older_than_the_last_change_is_ignored(world: DeployWorld) -> None:
    names = world.create_project()
    group = names.model_package_group("dev")
    v1, v2 = world.register_package(group), world.register_package(group)
    world.set_status(v1, "Approved")
    late = world.package_event(v1, "Approved")  # happened first, arrives last
    world.approve(v2)

    result = world.deploy_event(late)

    assert result["action"] == "ignored"
    assert "later change" in result["detail"]
    assert world.served_packages(names.endpoint("development")) == {"AllTraffic": v2}


def test_a_stale_approval_of_a_package_rejected_since_is_ignored(world: DeployWorld) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"))
    world.set_status(package, "Approved")
    event = world.package_event(package, "Approved")
    world.set_status(package, "Rejected")

    result = world.deploy_event(event)

    assert result["action"] == "ignored"
    assert "stale" in result["detail"]
    assert world.endpoint_names() == set()


def test_an_approval_while_the_endpoint_is_busy_waits_and_is_applied_when_in_service(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    group = names.model_package_group("dev")
    v1, v2 = world.register_package(group), world.register_package(group)
    endpoint = names.endpoint("development")
    world.approve(v1)
    world.gaps.set_endpoint_status(endpoint, "Creating")

    waiting = world.approve(v2)

    assert waiting["action"] == "pending"
    assert world.served_packages(endpoint) == {"AllTraffic": v1}
    world.gaps.set_endpoint_status(endpoint, "InService")
    applied = world.endpoint_event(endpoint)
    assert applied["action"] == "deploying"
    assert world.served_packages(endpoint) == {"AllTraffic": v2}
    assert [n["status"] for n in world.notices()] == ["STARTED", "PENDING", "STARTED"]


# --- reject --------------------------------------------------------------------------------


def test_rejecting_the_serving_package_rolls_back_to_the_newest_previous_approved_one(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    group = names.model_package_group("prod")
    v1, v2, v3 = (world.register_package(group) for _ in range(3))
    for package in (v1, v2, v3):
        world.approve(package)

    result = world.reject(v3)

    assert result["rolled_back_to"] == v2, "the previous approved, not the oldest"
    assert world.served_packages(names.endpoint("production")) == {"AllTraffic": v2}
    (rollback,) = [n for n in world.notices() if n["details"].get("rejected") == v3]
    assert rollback["status"] == "STARTED"
    assert f"rolling back to {v2}" in rollback["summary"]


def test_rejecting_the_only_approved_package_removes_the_endpoint(world: DeployWorld) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"))
    world.approve(package)
    assert world.endpoint_names() == {names.endpoint("development")}

    result = world.reject(package)

    assert result["action"] == "removed"
    assert world.endpoint_names() == set()
    assert world.config_names() == set()
    assert world.model_names() == set()
    assert world.alarm_names() == set()
    assert world.notices()[-1]["status"] == "REMOVED"


def test_rejecting_a_package_that_is_not_deployed_changes_nothing(world: DeployWorld) -> None:
    names = world.create_project()
    group = names.model_package_group("dev")
    serving, other = world.register_package(group), world.register_package(group)
    world.approve(serving)

    result = world.reject(other)

    assert result["action"] == "ignored"
    assert world.served_packages(names.endpoint("development")) == {"AllTraffic": serving}
    assert endpoint_requests(world) == []


# --- advanced: champion and challenger ------------------------------------------------------


def advanced(world: DeployWorld, pair: dict[str, Any] | None = None) -> ProjectNames:
    names = world.create_project(Scenario="advanced")
    if pair is not None:
        world.publish_config(
            names, "prod", {"schema_version": 1, "production": {"champion_challenger": pair}}
        )
    return names


def production_variants(world: DeployWorld, names: ProjectNames) -> dict[str, Any]:
    endpoint = world.sagemaker.describe_endpoint(EndpointName=names.endpoint("production"))
    config = world.sagemaker.describe_endpoint_config(
        EndpointConfigName=endpoint["EndpointConfigName"]
    )
    return {
        "production": {
            v["VariantName"]: v["InitialVariantWeight"] for v in config["ProductionVariants"]
        },
        "shadow": {
            v["VariantName"]: v["InitialVariantWeight"]
            for v in config.get("ShadowProductionVariants", [])
        },
    }


def test_champion_and_challenger_split_traffic_90_10_by_default(world: DeployWorld) -> None:
    names = advanced(world)
    champion = world.register_package(names.model_package_group("champion"))
    challenger = world.register_package(names.model_package_group("challenger"))
    world.approve(champion)
    assert production_variants(world, names) == {"production": {"champion": 1.0}, "shadow": {}}

    result = world.approve(challenger)

    assert result["guardrails"] == "blue/green all at once (the variants changed)"
    assert production_variants(world, names) == {
        "production": {"champion": 90.0, "challenger": 10.0},
        "shadow": {},
    }
    assert world.served_packages(names.endpoint("production")) == {
        "champion": champion,
        "challenger": challenger,
    }
    endpoint = names.endpoint("production")
    assert world.alarm_names() == {f"{endpoint}-champion-5xx", f"{endpoint}-challenger-5xx"}


def test_the_split_is_configurable(world: DeployWorld) -> None:
    names = advanced(world, {"mode": "split", "challenger_weight": 30})
    world.approve(world.register_package(names.model_package_group("champion")))
    world.approve(world.register_package(names.model_package_group("challenger")))
    assert production_variants(world, names)["production"] == {
        "champion": 70.0,
        "challenger": 30.0,
    }


def test_the_challenger_can_run_as_a_shadow_of_the_champion(world: DeployWorld) -> None:
    names = advanced(world, {"mode": "shadow", "challenger_weight": 20})
    champion = world.register_package(names.model_package_group("champion"))
    challenger = world.register_package(names.model_package_group("challenger"))
    world.approve(champion)
    world.approve(challenger)

    assert production_variants(world, names) == {
        "production": {"champion": 1.0},
        "shadow": {"challenger": 0.2},
    }
    assert world.served_packages(names.endpoint("production")) == {
        "champion": champion,
        "challenger": challenger,
    }
    endpoint = names.endpoint("production")
    assert world.alarm_names() == {f"{endpoint}-champion-5xx"}, "shadows answer no caller"


def test_approving_a_new_challenger_changes_only_the_challenger_variant(
    world: DeployWorld,
) -> None:
    names = advanced(world)
    champion = world.register_package(names.model_package_group("champion"))
    first = world.register_package(names.model_package_group("challenger"))
    second = world.register_package(names.model_package_group("challenger"))
    for package in (champion, first):
        world.approve(package)
    models_before = world.served_packages(names.endpoint("production"))

    result = world.approve(second)

    assert result["guardrails"] == "blue/green, all-at-once", "same variants: guardrails apply"
    after = world.served_packages(names.endpoint("production"))
    assert after == {"champion": champion, "challenger": second}
    assert after["champion"] == models_before["champion"]


def test_a_challenger_without_a_champion_waits(world: DeployWorld) -> None:
    names = advanced(world)
    challenger = world.register_package(names.model_package_group("challenger"))

    result = world.approve(challenger)

    assert result["action"] == "waiting"
    assert world.endpoint_names() == set()
    assert world.notices()[-1]["status"] == "WAITING"
    champion = world.register_package(names.model_package_group("champion"))
    world.approve(champion)
    assert world.served_packages(names.endpoint("production")) == {
        "champion": champion,
        "challenger": challenger,
    }


def test_rejecting_the_only_challenger_removes_only_its_variant(world: DeployWorld) -> None:
    names = advanced(world)
    champion = world.register_package(names.model_package_group("champion"))
    challenger = world.register_package(names.model_package_group("challenger"))
    world.approve(champion)
    world.approve(challenger)

    result = world.reject(challenger)

    assert result["action"] == "deploying"
    assert world.served_packages(names.endpoint("production")) == {"champion": champion}
    endpoint = names.endpoint("production")
    assert world.alarm_names() == {f"{endpoint}-champion-5xx"}
    assert "mlops-portfolio:model-package-arn:challenger" not in world.endpoint_tags(endpoint)


# --- what is not ours ----------------------------------------------------------------------


def sagemaker_writes(world: DeployWorld) -> list[str]:
    writes: list[str] = []
    world.sagemaker.meta.events.register(
        "before-call.sagemaker.*",
        lambda model, **_: (
            writes.append(model.name)
            if model.name.startswith(("Create", "Update", "Delete", "AddTags"))
            else None
        ),
    )
    return writes


def test_a_group_that_is_not_a_projects_is_ignored(world: DeployWorld) -> None:
    world.create_project()
    world.sagemaker.create_model_package_group(ModelPackageGroupName="team-fraud-models")
    package = world.register_package("team-fraud-models")
    world.set_status(package, "Approved")
    writes = sagemaker_writes(world)

    result = world.deploy_event(world.package_event(package, "Approved"))

    assert result["action"] == "ignored"
    assert "team-fraud-models is not a project's" in result["detail"]
    assert writes == [] and world.endpoint_names() == set() and world.notices() == []


@pytest.mark.parametrize("where", ["package", "event"])
def test_a_package_from_another_account_is_ignored(world: DeployWorld, where: str) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"))
    world.set_status(package, "Approved")
    event = world.package_event(package, "Approved")
    if where == "package":
        foreign = package.replace(":123456789012:", ":210987654321:")
        event["detail"]["ModelPackageArn"] = foreign
    else:
        event["account"] = "210987654321"
    writes = sagemaker_writes(world)

    result = world.deploy_event(event)

    assert result["action"] == "ignored"
    assert "210987654321" in result["detail"]
    assert writes == [] and world.endpoint_names() == set()


def test_an_event_of_another_kind_is_ignored(world: DeployWorld) -> None:
    event = world.package_event(
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/x/1", "Approved"
    )
    event["detail-type"] = "SageMaker Training Job State Change"
    assert world.deploy_event(event)["action"] == "ignored"


# --- bad deployment configs ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "key", "problem"),
    [
        (
            {"schema_version": 1, "development": {"mode": "gpu"}},
            "development.mode",
            "'gpu' is not one of 'realtime', 'serverless'",
        ),
        (
            {"schema_version": 1, "development": {"ttl_hours": 0}},
            "development.ttl_hours",
            "less than the minimum 1",
        ),
        (
            {"schema_version": 1, "development": {"serverless": {"memory_gb": 2}}},
            "development.serverless.memory_gb",
            "is not a known setting",
        ),
        ({"development": {}}, "schema_version", "is required"),
        (
            {"schema_version": 1, "development": {"realtime": {"instance_type": "ml.m5.huge"}}},
            "development.realtime.instance_type",
            "not an instance type SageMaker offers for hosting",
        ),
        (
            {"schema_version": 1, "development": {"realtime": {"instance_type": "ml.t3.micro"}}},
            "development.realtime.instance_type",
            "not an instance type SageMaker offers for hosting",
        ),
        (
            {
                "schema_version": 1,
                "development": {"realtime": {"autoscaling": {"min": 3, "max": 2}}},
            },
            "development.realtime.autoscaling",
            "min 3 is above max 2",
        ),
    ],
)
def test_a_config_that_breaks_its_schema_fails_naming_the_key_and_changes_no_endpoint(
    world: DeployWorld, config: dict[str, Any], key: str, problem: str
) -> None:
    names = world.create_project()
    group = names.model_package_group("dev")
    serving, candidate = world.register_package(group), world.register_package(group)
    world.approve(serving)
    configs = world.config_names()
    world.notices()
    world.publish_config(names, "dev", config)

    result = world.approve(candidate)

    assert result["action"] == "failed"
    assert key in result["detail"] and problem in result["detail"]
    (notice,) = world.notices()
    assert notice["status"] == "FAILED"
    assert f"key '{key}'" in notice["summary"]
    assert "config.json" in notice["summary"]
    assert world.served_packages(names.endpoint("development")) == {"AllTraffic": serving}
    assert world.config_names() == configs
    assert endpoint_requests(world) == []
    record = world.record(names.endpoint("development"))
    assert record is not None and record["LastResult"]["status"] == "FAILED"


def test_champion_challenger_settings_in_a_baseline_project_are_refused(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    world.publish_config(
        names, "prod", {"schema_version": 1, "production": {"champion_challenger": {}}}
    )
    result = world.approve(world.register_package(names.model_package_group("prod")))
    assert result["action"] == "failed"
    assert "'production.champion_challenger' is for the advanced scenario only" in result["detail"]
    assert world.endpoint_names() == set()


@pytest.mark.parametrize(
    ("deployment", "key", "problem"),
    [
        (
            {"strategy": "canary", "canary": {"size_percent": 60}},
            "production.deployment.canary.size_percent",
            "greater than the maximum 50",
        ),
        (
            {"strategy": "linear", "linear": {"size_percent": 5}},
            "production.deployment.linear.size_percent",
            "less than the minimum 10",
        ),
    ],
)
def test_traffic_shifting_sagemaker_would_refuse_fails_naming_the_key_before_any_update(
    world: DeployWorld, deployment: dict[str, Any], key: str, problem: str
) -> None:
    names = world.create_project()
    group = names.model_package_group("prod")
    serving, candidate = world.register_package(group), world.register_package(group)
    world.approve(serving)
    world.publish_config(
        names, "prod", {"schema_version": 1, "production": {"deployment": deployment}}
    )

    result = world.approve(candidate)

    assert result["action"] == "failed"
    assert f"key '{key}'" in result["detail"] and problem in result["detail"]
    assert world.served_packages(names.endpoint("production")) == {"AllTraffic": serving}
    assert endpoint_requests(world) == []


def test_serverless_production_in_the_advanced_scenario_is_refused_naming_the_key(
    world: DeployWorld,
) -> None:
    """Champion and challenger are two variants; Serverless Inference serves only one."""
    names = world.create_project(Scenario="advanced")
    world.publish_config(names, "prod", {"schema_version": 1, "production": {"mode": "serverless"}})

    result = world.approve(world.register_package(names.model_package_group("champion")))

    assert result["action"] == "failed"
    assert "key 'production.mode': serverless is not available in the advanced" in result["detail"]
    assert world.endpoint_names() == set() and world.config_names() == set()
    (notice,) = world.notices()
    assert notice["status"] == "FAILED"


def test_too_many_rollback_alarms_with_the_platforms_own_are_refused(world: DeployWorld) -> None:
    names = world.create_project()
    alarms = [f"kpi-{n}" for n in range(10)]
    world.publish_config(
        names,
        "prod",
        {"schema_version": 1, "production": {"deployment": {"rollback_alarms": alarms}}},
    )
    result = world.approve(world.register_package(names.model_package_group("prod")))
    assert result["action"] == "failed"
    assert "'production.deployment.rollback_alarms'" in result["detail"]
    assert "list at most 9" in result["detail"]


# --- names at the limits -------------------------------------------------------------------


def test_the_longest_legal_project_gets_names_within_sagemakers_limits(world: DeployWorld) -> None:
    names = world.create_project("a" * 31 + "z", "p-" + "9" * 14, Scenario="advanced")
    champion = world.register_package(names.model_package_group("champion"))
    challenger = world.register_package(names.model_package_group("challenger"))
    dev = world.register_package(names.model_package_group("dev"))
    for package in (champion, challenger, dev):
        assert world.approve(package)["action"] == "deploying"

    assert len(world.endpoint_names()) == 2
    for endpoint in world.endpoint_names():
        check_name("endpoint", endpoint)
    for config in world.config_names():
        check_name("endpoint_config", config)
    for model in world.model_names():
        check_name("model", model)
    for alarm in world.alarm_names():
        check_name("cloudwatch_alarm", alarm)
    assert all(names.project_id in n for n in world.config_names() | world.model_names())


def test_an_aws_error_is_announced_and_the_invocation_fails_so_eventbridge_retries(
    world: DeployWorld,
) -> None:
    from botocore.awsrequest import AWSResponse

    from lambda_project_lifecycle.errors import AwsCallError

    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"))
    world.set_status(package, "Approved")
    event = world.package_event(package, "Approved")

    def throttled(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Code": "ThrottlingException", "Message": "Rate exceeded"}
        return AWSResponse("https://x", 400, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 400, "MaxAttemptsReached": True},
        }

    world.sagemaker.meta.events.register_first("before-call.sagemaker.CreateEndpoint", throttled)
    with pytest.raises(AwsCallError, match="ThrottlingException"):
        world.deploy_event(event)
    (notice,) = world.notices()
    assert notice["status"] == "FAILED" and "the event is retried" in notice["summary"]

    world.sagemaker.meta.events.unregister("before-call.sagemaker.CreateEndpoint", throttled)
    assert world.deploy_event(event)["action"] == "deploying"  # the retry converges
    assert world.served_packages(names.endpoint("development")) == {"AllTraffic": package}
