"""StackSets on the emulator keep AutoDeployment as CloudFormation does (moto drops it)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from sandbox.emulator import Emulator
from sandbox.stack_sets import StackSetGaps
from tests.support.network import loopback_only

TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    running = Emulator()
    StackSetGaps().register(running)
    with loopback_only(), running:
        yield running


@pytest.mark.parametrize(
    ("given", "described"),
    [
        (
            {"Enabled": True, "RetainStacksOnAccountRemoval": False},
            {"Enabled": True, "RetainStacksOnAccountRemoval": False},
        ),
        (None, {"Enabled": False}),
    ],
)
def test_a_service_managed_stack_set_describes_its_auto_deployment(
    emulator: Emulator, given: dict[str, bool] | None, described: dict[str, bool]
) -> None:
    cloudformation = emulator.client("cloudformation")
    extra = {"AutoDeployment": given} if given else {}
    cloudformation.create_stack_set(
        StackSetName="units", TemplateBody=TEMPLATE, PermissionModel="SERVICE_MANAGED", **extra
    )

    found = cloudformation.describe_stack_set(StackSetName="units")["StackSet"]

    assert found["AutoDeployment"] == described


def test_an_update_changes_it_and_a_self_managed_stack_set_has_none(emulator: Emulator) -> None:
    cloudformation = emulator.client("cloudformation")
    cloudformation.create_stack_set(
        StackSetName="units", TemplateBody=TEMPLATE, PermissionModel="SERVICE_MANAGED"
    )
    cloudformation.update_stack_set(
        StackSetName="units",
        TemplateBody=TEMPLATE,
        AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": True},
    )
    cloudformation.create_stack_set(StackSetName="own", TemplateBody=TEMPLATE)

    updated = cloudformation.describe_stack_set(StackSetName="units")["StackSet"]
    own = cloudformation.describe_stack_set(StackSetName="own")["StackSet"]

    assert updated["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": True}
    assert "AutoDeployment" not in own
