"""Stages in accounts of their own: endpoints in the stage's account, through its deployment
role (AssumeRole into each target account; moto keeps accounts apart by the credentials),
the staging gate, FAILED notices for an unusable account, delete and reaper everywhere.

Each target account gets the generated target-account stack (moto's CloudFormation), so
the roles the engine assumes are those the template makes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.sagemakerruntime.models import sagemakerruntime_backends

from lambda_project_lifecycle.deployments import endpoint_events
from lambda_project_lifecycle.stage_accounts import AFTER_TESTS, SECOND_APPROVAL, StageAccountIds
from portfolio import target_account
from template_common.settings import TemplateSettings
from tests.support.deployments import (
    ACCOUNT,
    DATA_BUCKET,
    REGION,
    DeployWorld,
    HandlerContext,
    deploy_world,
)
from tests.support.events import load_event

DEV, STAGING, PROD = "111111111111", "222222222222", "333333333333"
HANDLER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-portfolio-ModelDeployFunctionRole"
PAYLOAD = {
    "description": "One record as CSV",
    "content_type": "text/csv",
    "accept": "application/json",
    "body": "13.54,14.36,87.46,566.3",
    "expect": {"status": 200, "prediction_count": 1, "labels_in": [0, 1]},
}
ANSWER = json.dumps({"predictions": [{"label": 1, "probability": 0.93}]})
WRONG = json.dumps({"predictions": [{"label": 7}]})


def account_session(world: DeployWorld, account: str) -> boto3.Session:
    """An administrator's session in ``account`` (moto: credentials of an assumed role)."""
    credentials = world.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/administrator", RoleSessionName="test"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def roll_out_target_stack(world: DeployWorld, account: str) -> None:
    """The target-account stack as ``publish`` makes it, in ``account``."""
    body = json.dumps(target_account.build(TemplateSettings()).to_dict())
    cloudformation = account_session(world, account).client("cloudformation")
    cloudformation.create_stack(
        StackName="mlops-portfolio-target",
        TemplateBody=body,
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[
            {"ParameterKey": "PlatformAccountId", "ParameterValue": ACCOUNT},
            {"ParameterKey": "PlatformHandlerRoleArns", "ParameterValue": HANDLER_ROLE},
            {"ParameterKey": "ProjectDataBucket", "ParameterValue": DATA_BUCKET},
        ],
    )
    status = cloudformation.describe_stacks(StackName="mlops-portfolio-target")["Stacks"][0]
    assert status["StackStatus"] == "CREATE_COMPLETE", status


def accounts_world(*, staging: bool, promotion: str = AFTER_TESTS) -> Iterator[DeployWorld]:
    with deploy_world() as world:
        ids = StageAccountIds(
            development=DEV,
            production=PROD,
            staging=STAGING if staging else "",
            promotion=promotion,
        )
        for account in ids.accounts:
            roll_out_target_stack(world, account)
        world.stage_accounts = ids
        world.lifecycle_settings = dataclasses.replace(world.lifecycle_settings, stage_accounts=ids)
        yield world


@pytest.fixture
def world() -> Iterator[DeployWorld]:
    yield from accounts_world(staging=False)


@pytest.fixture
def gated() -> Iterator[DeployWorld]:
    yield from accounts_world(staging=True)


@pytest.fixture
def second_approval() -> Iterator[DeployWorld]:
    yield from accounts_world(staging=True, promotion=SECOND_APPROVAL)


def sagemaker_of(world: DeployWorld, account: str) -> Any:
    return account_session(world, account).client("sagemaker")


def endpoints_in(world: DeployWorld, account: str) -> set[str]:
    reply = sagemaker_of(world, account).list_endpoints()
    return {e["EndpointName"] for e in reply["Endpoints"]}


def endpoint_event(world: DeployWorld, account: str, name: str) -> dict[str, Any]:
    """The endpoint's "Endpoint State Change" (InService), as the account's rule forwards
    it to the platform's bus: from ``account``."""
    endpoint = sagemaker_of(world, account).describe_endpoint(EndpointName=name)
    event = load_event("sagemaker-endpoint-state-change-in-service.json")
    event["account"] = account
    event["resources"] = [endpoint["EndpointArn"]]
    event["detail"].update(
        EndpointName=name,
        EndpointArn=endpoint["EndpointArn"],
        EndpointConfigName=endpoint["EndpointConfigName"],
        EndpointStatus="IN_SERVICE",
    )
    return endpoint_events.handle_event(event, HandlerContext(), world.deployer())


def model_answers(account: str, *bodies: str) -> None:
    backend = sagemakerruntime_backends[account][REGION]
    backend.results.clear()
    backend.results_queue[:] = [(body, "application/json", "AllTraffic", "") for body in bodies]


def test_approvals_deploy_into_the_stage_account_with_its_model_role(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"))

    result = world.approve(package)

    endpoint = names.endpoint("development")
    assert result["action"] == "deploying", result
    assert endpoints_in(world, DEV) == {endpoint}
    assert world.endpoint_names() == set()  # nothing in the platform's account
    assert endpoints_in(world, PROD) == set()
    (model,) = sagemaker_of(world, DEV).list_models()["Models"]
    described = sagemaker_of(world, DEV).describe_model(ModelName=model["ModelName"])
    assert described["PrimaryContainer"]["ModelPackageName"] == package
    assert described["ExecutionRoleArn"] == f"arn:aws:iam::{DEV}:role/mlops-portfolio-model"


def test_the_endpoint_event_from_the_stage_account_runs_the_tests_there(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    world.publish_payloads(names, "prod", {"csv-one": PAYLOAD})
    world.approve(world.register_package(names.model_package_group("prod")))
    endpoint = names.endpoint("production")
    assert endpoints_in(world, PROD) == {endpoint}
    model_answers(PROD, ANSWER)

    result = endpoint_event(world, PROD, endpoint)

    assert result["action"] == "passed", result
    notices = world.notices()
    assert [n["status"] for n in notices][-1] == "PASSED"
    # The same event from another account is not the endpoint's: ignored.
    stray = endpoint_event_from(world, DEV, endpoint, hosted_in=PROD)
    assert stray["action"] == "ignored"
    assert f"hosted in account {PROD}" in stray["detail"]


def endpoint_event_from(
    world: DeployWorld, sender: str, name: str, *, hosted_in: str
) -> dict[str, Any]:
    endpoint = sagemaker_of(world, hosted_in).describe_endpoint(EndpointName=name)
    event = load_event("sagemaker-endpoint-state-change-in-service.json")
    event["account"] = sender
    event["detail"].update(
        EndpointName=name,
        EndpointConfigName=endpoint["EndpointConfigName"],
        EndpointStatus="IN_SERVICE",
    )
    return endpoint_events.handle_event(event, HandlerContext(), world.deployer())


def test_the_staging_gate_promotes_to_production_only_after_the_tests_pass(
    gated: DeployWorld,
) -> None:
    world = gated
    names = world.create_project()
    world.publish_payloads(names, "prod", {"csv-one": PAYLOAD})
    first = world.register_package(names.model_package_group("prod"))

    approved = world.approve(first)

    staging, production = names.endpoint("staging"), names.endpoint("production")
    assert approved["stage"] == "staging", approved
    assert endpoints_in(world, STAGING) == {staging}
    assert endpoints_in(world, PROD) == set()
    # Tests fail in staging: nothing reaches production.
    model_answers(STAGING, WRONG)
    failed = endpoint_event(world, STAGING, staging)
    assert failed["action"] == "tests-failed", failed
    assert "promotion" not in failed
    assert endpoints_in(world, PROD) == set()
    # A fixed model passes in staging and is promoted, exactly that package.
    second = world.register_package(names.model_package_group("prod"))
    world.approve(second)
    model_answers(STAGING, ANSWER)
    passed = endpoint_event(world, STAGING, staging)
    assert passed["action"] == "passed", passed
    assert passed["promotion"]["action"] == "deploying", passed["promotion"]
    assert endpoints_in(world, PROD) == {production}
    assert served_package(world, PROD, production) == second
    # People are told at each gate: staging failed, staging passed, production started.
    statuses = [(n["stage"], n["status"]) for n in world.notices()]
    assert [s for s in statuses if s[0] == "staging"][-3:] == [
        ("staging", "FAILED"),
        ("staging", "STARTED"),
        ("staging", "PASSED"),
    ]
    assert ("production", "STARTED") in statuses
    # A rejection rolls staging and production back to the previous approved package.
    rejected = world.reject(second)
    assert rejected["action"] == "deploying", rejected
    assert [r["stage"] for r in [rejected, *rejected.get("also", [])]] == ["staging", "production"]
    for account, endpoint in ((STAGING, staging), (PROD, production)):
        assert served_package(world, account, endpoint) == first, account


def served_package(world: DeployWorld, account: str, endpoint: str) -> str:
    """The model package the endpoint's only variant serves, read in ``account``."""
    sagemaker = sagemaker_of(world, account)
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    )
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    return str(model["PrimaryContainer"]["ModelPackageName"])


def test_a_stage_account_without_the_target_stack_fails_naming_account_and_stage(
    world: DeployWorld,
) -> None:
    names = world.create_project()
    role = "mlops-portfolio-deployment"
    iam = account_session(world, DEV).client("iam")
    for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=policy)
    iam.delete_role(RoleName=role)

    result = world.approve(world.register_package(names.model_package_group("dev")))

    assert result["action"] == "failed", result
    assert f"stage development (account {DEV})" in result["detail"]
    assert "does not exist" in result["detail"]
    assert endpoints_in(world, DEV) == set()
    (notice,) = [n for n in world.notices() if n["status"] == "FAILED"]
    assert DEV in notice["summary"] and "development" in notice["summary"]


def test_a_deployment_role_that_trusts_another_account_is_refused(world: DeployWorld) -> None:
    names = world.create_project()
    stranger = "999999999999"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": [HANDLER_ROLE, f"arn:aws:iam::{stranger}:root"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    account_session(world, PROD).client("iam").update_assume_role_policy(
        RoleName="mlops-portfolio-deployment", PolicyDocument=json.dumps(trust)
    )

    result = world.approve(world.register_package(names.model_package_group("prod")))

    assert result["action"] == "failed", result
    assert f"stage production (account {PROD})" in result["detail"]
    assert f"arn:aws:iam::{stranger}:root" in result["detail"]
    assert endpoints_in(world, PROD) == set()


def test_project_delete_and_the_reaper_reach_every_account(gated: DeployWorld) -> None:
    world = gated
    names = world.create_project()
    world.publish_config(names, "dev", {"schema_version": 1, "development": {"ttl_hours": 1}})
    world.approve(world.register_package(names.model_package_group("dev")))
    world.publish_payloads(names, "prod", {"csv-one": PAYLOAD})
    world.approve(world.register_package(names.model_package_group("prod")))
    model_answers(STAGING, ANSWER)
    endpoint_event(world, STAGING, names.endpoint("staging"))
    assert endpoints_in(world, DEV) == {names.endpoint("development")}
    assert endpoints_in(world, STAGING) == {names.endpoint("staging")}
    assert endpoints_in(world, PROD) == {names.endpoint("production")}

    # The development endpoint expires: the reaper finds it in the development account.
    world.clock[0] = world.clock[0].replace(hour=world.clock[0].hour + 2)
    reaped = world.reap()
    assert reaped["endpoints"] == [names.endpoint("development")], reaped
    assert endpoints_in(world, DEV) == set()

    answer = world.delete_project(names)

    assert answer["Status"] == "SUCCESS", answer
    for account in (DEV, STAGING, PROD):
        sagemaker = sagemaker_of(world, account)
        assert endpoints_in(world, account) == set(), account
        assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == [], account
        assert sagemaker.list_models()["Models"] == [], account
        alarms = account_session(world, account).client("cloudwatch").describe_alarms()
        assert alarms["MetricAlarms"] == [], account
    assert world.record(names.endpoint("production")) is None


def test_model_groups_are_shared_only_with_their_stage_accounts(gated: DeployWorld) -> None:
    names = gated.create_project()

    policies = {
        kind: json.loads(gated.gaps.group_policy(names.model_package_group(kind)) or "{}")
        for kind in ("prod", "dev", "feature")
    }

    def principals(policy: dict[str, Any]) -> set[str]:
        return {
            s["Condition"]["ArnEquals"]["aws:PrincipalArn"] for s in policy.get("Statement", [])
        }

    assert principals(policies["prod"]) == {
        f"arn:aws:iam::{STAGING}:role/mlops-portfolio-deployment",
        f"arn:aws:iam::{PROD}:role/mlops-portfolio-deployment",
    }
    assert (
        principals(policies["dev"])
        == principals(policies["feature"])
        == {f"arn:aws:iam::{DEV}:role/mlops-portfolio-deployment"}
    )


def test_without_stage_accounts_no_group_gets_a_policy() -> None:
    with deploy_world() as world:
        names = world.create_project()
        for kind in ("prod", "dev", "feature"):
            assert world.gaps.group_policy(names.model_package_group(kind)) is None


def test_a_stage_account_outside_the_platforms_organization_is_a_failed_notice(
    world: DeployWorld,
) -> None:
    organization = world.client("organizations").create_organization(FeatureSet="ALL")
    names = world.create_project()

    result = world.approve(world.register_package(names.model_package_group("dev")))

    assert result["action"] == "failed", result
    assert f"stage development (account {DEV})" in result["detail"]
    org_id = organization["Organization"]["Id"]
    assert f"account {DEV} is not in the platform's organization {org_id}" in result["detail"]
    assert "(it is in no organization)" in result["detail"]
    assert endpoints_in(world, DEV) == set()
    (notice,) = [n for n in world.notices() if n["status"] == "FAILED"]
    assert DEV in notice["summary"] and "development" in notice["summary"]


def test_without_organizations_stage_accounts_are_used_and_that_is_logged(
    world: DeployWorld, caplog: pytest.LogCaptureFixture
) -> None:
    names = world.create_project()
    caplog.set_level("INFO", logger="lambda_project_lifecycle.deployments.accounts")

    result = world.approve(world.register_package(names.model_package_group("dev")))

    assert result["action"] == "deploying", result
    assert "Organizations is not in use" in caplog.text


def roll_out_to_unit(world: DeployWorld, unit: str) -> None:
    """The target-account stack as ``publish`` rolls it out to an organizational unit: a
    service-managed StackSet of the platform account with an instance for the unit."""
    cloudformation = world.client("cloudformation")
    cloudformation.create_stack_set(
        StackSetName="mlops-portfolio-target",
        TemplateBody=json.dumps(target_account.build(TemplateSettings()).to_dict()),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        PermissionModel="SERVICE_MANAGED",
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
        Parameters=[
            {"ParameterKey": "PlatformAccountId", "ParameterValue": ACCOUNT},
            {"ParameterKey": "PlatformHandlerRoleArns", "ParameterValue": HANDLER_ROLE},
            {"ParameterKey": "ProjectDataBucket", "ParameterValue": DATA_BUCKET},
        ],
    )
    cloudformation.create_stack_instances(
        StackSetName="mlops-portfolio-target",
        DeploymentTargets={"OrganizationalUnitIds": [unit]},
        Regions=[REGION],
    )


def test_stage_accounts_of_a_unit_in_the_platforms_organization_are_deployed_to() -> None:
    with deploy_world() as world:
        organizations = world.client("organizations")
        organizations.create_organization(FeatureSet="ALL")
        root = organizations.list_roots()["Roots"][0]["Id"]
        unit = organizations.create_organizational_unit(ParentId=root, Name="ml")[
            "OrganizationalUnit"
        ]["Id"]
        dev, prod = (
            organizations.create_account(AccountName=name, Email=f"{name}@example.com")[
                "CreateAccountStatus"
            ]["AccountId"]
            for name in ("dev", "prod")
        )
        for account in (dev, prod):
            organizations.move_account(
                AccountId=account, SourceParentId=root, DestinationParentId=unit
            )
        roll_out_to_unit(world, unit)
        ids = StageAccountIds(development=dev, production=prod)
        world.stage_accounts = ids
        world.lifecycle_settings = dataclasses.replace(world.lifecycle_settings, stage_accounts=ids)
        names = world.create_project()

        result = world.approve(world.register_package(names.model_package_group("prod")))

        assert result["action"] == "deploying", result
        assert endpoints_in(world, prod) == {names.endpoint("production")}
        assert endpoints_in(world, dev) == set()


def test_with_second_approval_production_waits_for_the_passed_package_to_be_approved_again(
    second_approval: DeployWorld,
) -> None:
    world = second_approval
    names = world.create_project()
    world.publish_payloads(names, "prod", {"csv-one": PAYLOAD})
    package = world.register_package(names.model_package_group("prod"))
    staging, production = names.endpoint("staging"), names.endpoint("production")
    assert world.approve(package)["stage"] == "staging"
    model_answers(STAGING, ANSWER)

    passed = endpoint_event(world, STAGING, staging)

    # Staging passed: production waits, and people are told how to approve it.
    assert passed["action"] == "passed", passed
    assert passed["promotion"]["action"] == "awaiting-approval", passed["promotion"]
    assert endpoints_in(world, PROD) == set()
    waiting = world.notices()[-1]
    assert (waiting["stage"], waiting["status"]) == ("production", "AWAITING_APPROVAL")
    assert package in waiting["summary"] and "approve it again" in waiting["summary"]
    # Back to PendingManualApproval deploys nothing; the second approval promotes.
    world.set_status(package, "PendingManualApproval")
    pending = world.deploy_event(world.package_event(package, "PendingManualApproval"))
    assert pending["action"] == "ignored"
    assert endpoints_in(world, STAGING) == {staging}

    promoted = world.approve(package)

    assert promoted["action"] == "deploying", promoted
    assert promoted["stage"] == "production" and promoted["second_approval"]
    assert endpoints_in(world, PROD) == {production}
    assert served_package(world, PROD, production) == package
    last = world.notices()[-1]  # (reading the notices takes them)
    assert (last["stage"], last["status"]) == ("production", "STARTED")


def test_with_second_approval_a_package_that_failed_in_staging_is_not_promoted(
    second_approval: DeployWorld,
) -> None:
    world = second_approval
    names = world.create_project()
    world.publish_payloads(names, "prod", {"csv-one": PAYLOAD})
    package = world.register_package(names.model_package_group("prod"))
    world.approve(package)
    model_answers(STAGING, WRONG)
    assert endpoint_event(world, STAGING, names.endpoint("staging"))["action"] == "tests-failed"

    world.set_status(package, "PendingManualApproval")
    again = world.approve(package)

    # Not what passed: an approval like the first, for staging; production gets nothing.
    assert again["stage"] == "staging", again
    assert endpoints_in(world, PROD) == set()
