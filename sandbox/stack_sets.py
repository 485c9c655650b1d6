"""CloudFormation StackSets as AWS documents them, where moto falls short (rows of the gaps
table).

moto keeps service-managed StackSets and makes their instances' resources in the
organization's accounts under the units named, but drops ``AutoDeployment``: it is kept
here per StackSet (account, region, name) from CreateStackSet and UpdateStackSet, and
DescribeStackSet returns it, as CloudFormation does for a service-managed StackSet
(``{"Enabled": false}`` when none was given). Moving an account into a unit later does not
deploy to it on the emulator (AWS does, with automatic deployment on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.emulator import Call

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

WHY = "AutoDeployment not kept"


class StackSetGaps:
    def __init__(self) -> None:
        self.auto_deployment: dict[tuple[str, str, str], dict[str, Any]] = {}

    def register(self, emulator: Emulator) -> None:
        for operation in ("CreateStackSet", "UpdateStackSet"):
            emulator.after("cloudformation", operation, WHY)(self._keep)
        emulator.after("cloudformation", "DescribeStackSet", WHY)(self._describe)
        emulator.on_stop(self.auto_deployment.clear)

    def _keep(self, call: Call, answer: dict[str, Any]) -> None:
        given = call.params.get("AutoDeployment")
        if given is not None:
            self.auto_deployment[self._key(call)] = {
                "Enabled": _flag(given.get("Enabled")),
                "RetainStacksOnAccountRemoval": _flag(given.get("RetainStacksOnAccountRemoval")),
            }

    def _describe(self, call: Call, answer: dict[str, Any]) -> dict[str, Any] | None:
        stack_set = dict(answer.get("StackSet") or {})
        if stack_set.get("PermissionModel") != "SERVICE_MANAGED":
            return None
        stack_set["AutoDeployment"] = self.auto_deployment.get(self._key(call), {"Enabled": False})
        return {**answer, "StackSet": stack_set}

    @staticmethod
    def _key(call: Call) -> tuple[str, str, str]:
        return (call.account_id, call.region, str(call.params["StackSetName"]))


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
