"""``AWS::CloudFormation::Stack`` (nested stacks) on moto's CloudFormation, made through the
emulator's endpoint.

moto makes a nested stack inside its own process state, past the endpoint: the template is
not processed (no ``AWS::LanguageExtensions``, no ``{{resolve:ssm:...}}``), its ``Ref`` is
the logical id, ``Fn::GetAtt Outputs.X`` is not answered, and on delete it ignores the
order ``DependsOn`` gives. :class:`NestedStacks` replaces moto's model, while the emulator
runs, with :class:`NestedStackModel`, which does what CloudFormation documents:

- Create: ``CreateStack`` of ``<parent>-<logical id>-<suffix>`` from ``TemplateURL`` with the
  resource's ``Parameters`` and every capability (the parent was granted them), through the
  endpoint, so template processing and custom resources apply; a nested stack that does
  not reach ``CREATE_COMPLETE`` fails the parent (rolled back as a failed custom resource);
- ``Ref`` is the nested stack's id, ``Fn::GetAtt Outputs.<name>`` its output;
- Delete: ``DeleteStack`` through the endpoint, only once no resource of the parent that
  depends on it is left (moto tries the others first and comes back).
"""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import ClientError
from moto.cloudformation.models import cloudformation_backends

from sandbox.cloudformation_models import ModelMap, ResourceModel
from sandbox.custom_resources import CustomResourceFailed
from sandbox.emulator import Emulator

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


class DependentsLeft(Exception):
    """A nested stack that other resources of its parent still depend on (moto retries)."""


class NestedStackModel(ResourceModel):
    """One nested stack of a parent stack."""

    TYPE = "AWS::CloudFormation::Stack"

    emulator: ClassVar[Emulator | None] = None

    def __init__(self, stack_id: str, logical_id: str, parent_id: str, region: str) -> None:
        self.stack_id = stack_id
        self.logical_id = logical_id
        self.parent_id = parent_id
        self.region = region

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr.startswith("Outputs.")

    @property
    def physical_resource_id(self) -> str:
        return self.stack_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        name = attribute_name.removeprefix("Outputs.")
        backend = cloudformation_backends[self.parent_id.split(":")[4]][self.region]
        stack = backend.stacks.get(self.stack_id) or backend.deleted_stacks.get(self.stack_id)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack.outputs or [])} if stack else {}
        if name not in outputs:
            raise KeyError(f"the nested stack {self.stack_id} has no output {name}")
        return outputs[name]

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> NestedStackModel:
        properties = cloudformation_json.get("Properties") or {}
        logical_id = str(kwargs.get("LogicalId", resource_name))
        cloudformation = _client(account_id, region_name)
        try:
            stack_id = cloudformation.create_stack(
                StackName=resource_name,
                TemplateURL=properties["TemplateURL"],
                Parameters=[
                    {"ParameterKey": key, "ParameterValue": str(value)}
                    for key, value in (properties.get("Parameters") or {}).items()
                ],
                Capabilities=CAPABILITIES,
            )["StackId"]
        except ClientError as exc:  # refused before anything was made, e.g. no template
            raise CustomResourceFailed(logical_id, exc.response["Error"]["Message"]) from exc
        stack = cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            reason = stack.get("StackStatusReason") or stack["StackStatus"]
            raise CustomResourceFailed(
                logical_id, f"Embedded stack {stack_id} was not successfully created: {reason}"
            )
        return cls(stack_id, logical_id, str(kwargs.get("StackId", "")), region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        left = self._dependents(account_id, region_name)
        if left:
            raise DependentsLeft(f"{self.logical_id} is still needed by {', '.join(left)}")
        cloudformation = _client(account_id, region_name)
        cloudformation.delete_stack(StackName=self.stack_id)
        status = cloudformation.describe_stacks(StackName=self.stack_id)["Stacks"][0]
        if status["StackStatus"] != "DELETE_COMPLETE":
            raise RuntimeError(f"the nested stack {self.stack_id} is {status['StackStatus']}")

    def _dependents(self, account_id: str, region_name: str) -> list[str]:
        """The parent's resources, not deleted yet, whose ``DependsOn`` names this one."""
        parent = cloudformation_backends[account_id][region_name].stacks.get(self.parent_id)
        if parent is None:
            return []
        resource_map = parent.resource_map
        left = []
        for logical_id, resource in resource_map._resource_json_map.items():
            depends_on = resource.get("DependsOn") or []
            depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
            if self.logical_id in depends_on and logical_id in resource_map._parsed_resources:
                left.append(logical_id)
        return left


def _client(account_id: str, region: str) -> Any:
    if NestedStackModel.emulator is None:
        raise RuntimeError("nested stacks need a running emulator (NestedStacks)")
    return NestedStackModel.emulator.client("cloudformation", region, account_id=account_id)


class NestedStacks:
    """Nested stacks made through the endpoint while ``emulator`` runs."""

    def __init__(self, emulator: Emulator) -> None:
        NestedStackModel.emulator = emulator
        self._map = ModelMap({NestedStackModel.TYPE: NestedStackModel})
        self._map.install()
        emulator.on_stop(self.stop)

    def stop(self) -> None:
        self._map.uninstall()
        NestedStackModel.emulator = None
