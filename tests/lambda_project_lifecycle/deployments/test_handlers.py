"""The Lambda entry points: settings from the environment the platform stack sets, no client
at import, one client set per warm container."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import deployer, endpoint_events, model_deploy, reaper
from lambda_project_lifecycle.deployments.settings import DeploySettings
from lambda_project_lifecycle.errors import LifecycleError
from tests.support.deployments import (
    DATA_BUCKET,
    MODEL_ROLE_ARN,
    REGISTRY_TABLE,
    DeployWorld,
    HandlerContext,
)
from tests.support.events import load_event


def test_the_entry_points_read_the_environment_and_deploy(
    world: DeployWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "PROJECT_REGISTRY_TABLE": REGISTRY_TABLE,
        "NOTIFICATION_TOPIC_ARN": world.settings.topic_arn,
        "PROJECT_DATA_BUCKET": DATA_BUCKET,
        "MODEL_EXECUTION_ROLE_ARN": MODEL_ROLE_ARN,
        "NOTIFICATION_WEBHOOK_SECRET_ARN": "",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(deployer, "CONTAINER_CLIENTS", AwsClients())
    monkeypatch.setattr(reaper, "_CLIENTS", AwsClients())
    names = world.create_project()
    package = world.register_package(names.model_package_group("dev"))
    world.set_status(package, "Approved")

    deployed = model_deploy.handler(world.package_event(package, "Approved"), HandlerContext())
    endpoint = names.endpoint("development")
    event = load_event("sagemaker-endpoint-state-change-in-service.json")
    event["detail"]["EndpointName"] = endpoint
    tested = endpoint_events.handler(event, HandlerContext())
    reaped = reaper.handler(load_event("scheduled-event-reaper.json"), HandlerContext())

    assert deployed["action"] == "deploying", deployed
    assert world.served_packages(endpoint) == {"AllTraffic": package}
    assert tested["action"] == "untested"
    assert reaped == {"action": "reaped", "endpoints": []}  # its TTL is a day away (real clock)
    assert [n["status"] for n in world.notices()] == ["STARTED", "UNTESTED"]


def test_missing_settings_name_the_variables() -> None:
    with pytest.raises(LifecycleError, match="NOTIFICATION_TOPIC_ARN, PROJECT_DATA_BUCKET"):
        DeploySettings.from_environment({"PROJECT_REGISTRY_TABLE": "t"})


def test_importing_the_handlers_creates_no_client() -> None:
    code = (
        "import boto3, boto3.session\n"
        "def refuse(*a, **k): raise SystemExit('client created at import time')\n"
        "boto3.client = refuse; boto3.session.Session.client = refuse\n"
        "import lambda_project_lifecycle.deployments.model_deploy\n"
        "import lambda_project_lifecycle.deployments.endpoint_events\n"
        "import lambda_project_lifecycle.deployments.reaper\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
