"""CloudFormation custom resources on moto's CloudFormation, answered through the Lambda runtime.

moto's own support runs the function in docker, sends only Create and ignores
FAILED. :class:`CustomResources` replaces it (moto's ``CustomModel``) with
:class:`CustomResourceModel`, which plays the documented protocol:

- Create, Update (with ``OldResourceProperties``) and Delete requests go to the
  ``ServiceToken`` function as asynchronous invocations (as CloudFormation
  sends them), through :class:`sandbox.lambda_runtime.LambdaRuntime`, with a
  ``ResponseURL`` on a local listener; property values arrive as strings;
- the operation waits for the answer up to the resource's ``ServiceTimeout``
  (default one hour); the answer is checked (status, ids, 4096 bytes);
  ``PhysicalResourceId`` and ``Data`` (for ``Fn::GetAtt``) are kept;
- an Update that returns a new physical id replaces the resource: the old one
  gets a Delete once the stack update is complete;
- FAILED (or no answer in time) fails the stack operation with the reason: a
  failed Create rolls back (Delete of what was made, the failed resource too)
  to ``ROLLBACK_COMPLETE``, or stays ``CREATE_FAILED`` with rollback disabled;
  a failed Update rolls back to the old template and properties
  (``UPDATE_ROLLBACK_COMPLETE``); a failed Delete leaves ``DELETE_FAILED``.

Stack operations stay synchronous, as moto's are: CreateStack, UpdateStack and
DeleteStack return once every custom resource has answered.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend, Event, Stack

from sandbox.cloudformation import ResponseListener
from sandbox.cloudformation_models import ModelMap, ResourceModel
from sandbox.emulator import AwsError, Emulator
from sandbox.lambda_runtime import LambdaRuntime

logger = logging.getLogger(__name__)

DEFAULT_SERVICE_TIMEOUT_SECONDS = 3600
MAX_RESPONSE_BYTES = 4096
MAX_PHYSICAL_ID_BYTES = 1024


class CustomResourceFailed(Exception):
    """A custom resource answered FAILED, or could not be asked; fails the stack operation."""

    def __init__(self, logical_id: str, reason: str, physical_id: str = "") -> None:
        super().__init__(reason)
        self.logical_id = logical_id
        self.reason = reason
        self.physical_id = physical_id
        self.model: CustomResourceModel | None = None  # a failed Create, for its rollback Delete


@dataclass
class Request:
    """What one custom resource is asked: its identity and the request's properties."""

    model: CustomResourceModel
    request_type: str
    properties: dict[str, Any]
    old_properties: dict[str, Any] | None = None


class CustomResourceModel(ResourceModel):
    """One ``Custom::*`` (or ``AWS::CloudFormation::CustomResource``) resource of a stack.

    A plain model (see :class:`sandbox.cloudformation_models.ModelMap` for why it is no
    ``CloudFormationModel``)."""

    TYPE = "AWS::CloudFormation::CustomResource"

    provider: ClassVar[CustomResources | None] = None

    def __init__(
        self,
        *,
        stack_id: str,
        logical_id: str,
        resource_type: str,
        account_id: str,
        region: str,
        properties: dict[str, Any],
    ) -> None:
        self.stack_id = stack_id
        self.logical_id = logical_id
        self.logical_resource_id = logical_id
        self.resource_type = resource_type
        self.cf_resource_type = resource_type
        self.account_id = account_id
        self.region_name = region
        self.properties = properties
        self.physical_id = ""
        self.data: dict[str, Any] = {}
        self.attempted: dict[str, Any] | None = None  # the properties of a failed Update
        # Failed in the current stack operation: moto tries again, CloudFormation does not.
        self.update_failure: CustomResourceFailed | None = None
        self.delete_failure: CustomResourceFailed | None = None

    # -- what moto calls --------------------------------------------------------------------

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True  # whatever the function's Data holds

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def is_created(self) -> bool:
        return bool(self.physical_id)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CustomResourceModel:
        resource = cls(
            stack_id=kwargs["StackId"],
            logical_id=kwargs["LogicalId"],
            resource_type=kwargs["ResourceType"],
            account_id=account_id,
            region=region_name,
            properties=stringified(cloudformation_json.get("Properties") or {}),
        )
        try:
            answer = _provider().request(Request(resource, "Create", resource.properties))
        except CustomResourceFailed as failure:
            resource.physical_id = failure.physical_id
            failure.model = resource
            raise
        resource.physical_id = answer["PhysicalResourceId"]
        resource.data = dict(answer.get("Data") or {})
        return resource

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: CustomResourceModel,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CustomResourceModel:
        original = original_resource
        properties = stringified(cloudformation_json.get("Properties") or {})
        if properties.get("ServiceToken") != original.properties.get("ServiceToken"):
            raise CustomResourceFailed(
                original.logical_id, "Modifying service token is not allowed."
            )
        if original.update_failure is not None and original.attempted == properties:
            raise original.update_failure
        old = original.attempted if original.attempted is not None else original.properties
        updated = cls(
            stack_id=original.stack_id,
            logical_id=original.logical_id,
            resource_type=original.resource_type,
            account_id=account_id,
            region=region_name,
            properties=properties,
        )
        updated.physical_id = original.physical_id
        try:
            answer = _provider().request(Request(updated, "Update", properties, old))
        except CustomResourceFailed as failure:
            original.attempted = properties
            original.update_failure = failure
            raise
        original.attempted = None
        updated.physical_id = answer["PhysicalResourceId"]
        updated.data = dict(answer.get("Data") or {})
        if updated.physical_id != original.physical_id:
            _provider().replaced(original)
        return updated

    def delete(self, account_id: str, region_name: str) -> None:
        if self.delete_failure is not None:
            raise self.delete_failure
        try:
            _provider().request(Request(self, "Delete", self.properties))
        except CustomResourceFailed as failure:
            self.delete_failure = failure
            raise

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.data:
            # CloudFormation would fail the stack; moto reads attributes lazily (outputs at
            # DescribeStacks), where raising would break every later call: absent instead.
            logger.warning(
                "%s answered no %s in Data: Fn::GetAtt reads nothing",
                self.logical_id,
                attribute_name,
            )
            return None
        return self.data[attribute_name]


def stringified(value: Any) -> Any:
    """Property values as CloudFormation hands them to a custom resource: scalars as strings."""
    if isinstance(value, dict):
        return {key: stringified(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stringified(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return value
    return value if isinstance(value, str) else str(value)


def _provider() -> CustomResources:
    provider = CustomResourceModel.provider
    if provider is None:
        raise CustomResourceFailed("", "no custom-resource provider runs beside this emulator")
    return provider


class CustomResources:
    """Installs the custom-resource protocol on moto's CloudFormation while ``emulator`` runs."""

    def __init__(self, emulator: Emulator, runtime: LambdaRuntime) -> None:
        self._emulator = emulator
        self._runtime = runtime
        self._listener = ResponseListener().start()
        self._cleanups: dict[str, list[CustomResourceModel]] = {}
        self.requests: list[dict[str, Any]] = []  # every request sent, for reports and tests
        self._saved: dict[str, Any] = {}
        self._install()
        emulator.on_stop(self.stop)

    # -- one request --------------------------------------------------------------------

    def request(self, request: Request) -> dict[str, Any]:
        """Send the request to the ServiceToken function; the checked SUCCESS answer."""
        model = request.model
        token = str(request.properties.get("ServiceToken") or "")
        request_id = str(uuid.uuid4())
        url = self._listener.url()
        event: dict[str, Any] = {
            "RequestType": request.request_type,
            "ServiceToken": token,
            "ResponseURL": url,
            "StackId": model.stack_id,
            "RequestId": request_id,
            "LogicalResourceId": model.logical_id,
            "ResourceType": model.resource_type,
            "ResourceProperties": request.properties,
        }
        if request.request_type != "Create":
            event["PhysicalResourceId"] = model.physical_id
        if request.old_properties is not None:
            event["OldResourceProperties"] = request.old_properties
        self.requests.append(event)
        if ":lambda:" not in token:
            raise CustomResourceFailed(
                model.logical_id,
                f"ServiceToken {token!r} is not a Lambda function ARN (the sandbox "
                "answers custom resources through Lambda only)",
            )
        try:
            self._runtime.invoke(
                token,
                json.dumps(event).encode(),
                invocation_type="Event",
                region=model.region_name,
                account_id=model.account_id,
            )
        except AwsError as exc:
            raise CustomResourceFailed(model.logical_id, str(exc.message)) from exc
        timeout = service_timeout(request.properties)
        answer = self._listener.answer_to(url, timeout)
        if answer is None:
            raise CustomResourceFailed(
                model.logical_id,
                f"CloudFormation did not receive a response from your Custom Resource within "
                f"its ServiceTimeout of {timeout:g} seconds (RequestId: {request_id})",
            )
        return checked(answer, event)

    def replaced(self, old: CustomResourceModel) -> None:
        """``old`` gets a Delete once its stack's update completes."""
        self._cleanups.setdefault(old.stack_id, []).append(old)

    # -- stack operations ----------------------------------------------------------------

    def _install(self) -> None:
        self._saved = {
            "CustomModel": parsing.CustomModel,
            "create_resources": Stack.create_resources,
            "update": Stack.update,
            "delete_stack": CloudFormationBackend.delete_stack,
        }
        parsing.CustomModel = CustomResourceModel  # type: ignore[misc, assignment]
        self._types = ModelMap({CustomResourceModel.cloudformation_type(): CustomResourceModel})
        self._types.install()
        CustomResourceModel.provider = self
        Stack.create_resources = _wrap_create(self._saved["create_resources"])  # type: ignore[method-assign]
        Stack.update = _wrap_update(self, self._saved["update"])  # type: ignore[method-assign]
        CloudFormationBackend.delete_stack = _wrap_delete(self._saved["delete_stack"])  # type: ignore[method-assign]

    def stop(self) -> None:
        if self._saved:
            self._types.uninstall()
            parsing.CustomModel = self._saved["CustomModel"]
            Stack.create_resources = self._saved["create_resources"]  # type: ignore[method-assign]
            Stack.update = self._saved["update"]  # type: ignore[method-assign]
            CloudFormationBackend.delete_stack = self._saved["delete_stack"]  # type: ignore[method-assign]
            self._saved = {}
        if CustomResourceModel.provider is self:
            CustomResourceModel.provider = None
        self._listener.stop()

    def run_cleanups(self, stack: Stack) -> None:
        """Delete what an update replaced, between UPDATE_COMPLETE_CLEANUP_IN_PROGRESS and
        UPDATE_COMPLETE (moto has added the latter already: it moves after the cleanup)."""
        replaced = self._cleanups.pop(stack.stack_id, [])
        if not replaced:
            return
        complete = stack.events.pop()
        stack._add_stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        for old in replaced:
            try:
                old.delete(stack.account_id, stack.region_name)
            except CustomResourceFailed as failure:  # a cleanup failure does not fail the update
                resource_event(stack, old, "DELETE_FAILED", failure.reason)
        stack.events.append(complete)

    def drop_cleanups(self, stack: Stack) -> None:
        self._cleanups.pop(stack.stack_id, None)


def service_timeout(properties: dict[str, Any]) -> float:
    raw = properties.get("ServiceTimeout")
    try:
        return float(raw) if raw not in (None, "") else DEFAULT_SERVICE_TIMEOUT_SECONDS
    except ValueError:
        return DEFAULT_SERVICE_TIMEOUT_SECONDS


def checked(answer: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The answer, if it is one CloudFormation accepts as SUCCESS; else the failure it is."""
    logical_id = str(event["LogicalResourceId"])
    physical_id = str(answer.get("PhysicalResourceId") or "")
    if len(json.dumps(answer).encode()) > MAX_RESPONSE_BYTES:
        raise CustomResourceFailed(logical_id, "Response object is too long.", physical_id)
    for key in ("RequestId", "StackId", "LogicalResourceId"):
        if answer.get(key) != event[key]:
            raise CustomResourceFailed(
                logical_id, f"Invalid response: {key} does not match the request", physical_id
            )
    status = answer.get("Status")
    if status == "FAILED":
        raise CustomResourceFailed(
            logical_id,
            "Received response status [FAILED] from custom resource. Message returned: "
            f"{answer.get('Reason') or 'See the details in CloudWatch Log Stream'} "
            f"(RequestId: {event['RequestId']})",
            physical_id,
        )
    if status != "SUCCESS":
        raise CustomResourceFailed(logical_id, f"Invalid response status {status!r}", physical_id)
    if not physical_id or len(physical_id.encode()) > MAX_PHYSICAL_ID_BYTES:
        raise CustomResourceFailed(logical_id, "Invalid PhysicalResourceId", physical_id)
    data = answer.get("Data") or {}
    if not isinstance(data, dict):
        raise CustomResourceFailed(logical_id, "Value of property Data must be an object")
    return answer


# -- moto's stack operations, wrapped ------------------------------------------------------


def resource_event(stack: Stack, resource: Any, status: str, reason: str = "") -> None:
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=getattr(resource, "logical_id", "") or str(resource),
            physical_resource_id=getattr(resource, "physical_id", ""),
            resource_type=getattr(resource, "resource_type", "AWS::CloudFormation::CustomResource"),
            resource_status=status,
            resource_status_reason=reason or None,
            resource_properties=None,
        )
    )


def custom_resources_of(stack: Stack) -> list[CustomResourceModel]:
    parsed = stack.resource_map._parsed_resources.values()
    return [resource for resource in parsed if isinstance(resource, CustomResourceModel)]


def _wrap_create(original: Callable[[Stack], None]) -> Callable[[Stack], None]:
    def create_resources(stack: Stack) -> None:
        try:
            original(stack)
        except CustomResourceFailed as failure:
            _roll_back_create(stack, failure)

    return create_resources


def _roll_back_create(stack: Stack, failure: CustomResourceFailed) -> None:
    failed = failure.model if failure.model is not None and failure.physical_id else None
    resource_event(stack, failed or failure.logical_id, "CREATE_FAILED", failure.reason)
    if stack.disable_rollback:
        stack.status = "CREATE_FAILED"
        stack._add_stack_event(
            "CREATE_FAILED", f"The following resource(s) failed to create: [{failure.logical_id}]. "
        )
        return
    stack.status = "ROLLBACK_IN_PROGRESS"
    stack._add_stack_event(
        "ROLLBACK_IN_PROGRESS",
        f"The following resource(s) failed to create: [{failure.logical_id}]. "
        "Rollback requested by user.",
    )
    try:
        if failed is not None:
            failed.delete(stack.account_id, stack.region_name)
        stack.resource_map.delete()
    except Exception as exc:
        stack.status = "ROLLBACK_FAILED"
        stack._add_stack_event("ROLLBACK_FAILED", f"Rollback failed: {exc}")
        return
    forget_resources(stack)
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")


def forget_resources(stack: Stack) -> None:
    """A rolled-back stack holds no resources and no outputs: moto's resource map creates
    whatever it is asked for, so it must hold nothing it could be asked for."""
    stack.resource_map._resource_json_map = {}
    stack.output_map = parsing.OutputMap(stack.resource_map, {}, stack.stack_id)


def _wrap_update(provider: CustomResources, original: Callable[..., None]) -> Callable[..., None]:
    def update(
        stack: Stack,
        template: str,
        role_arn: str | None = None,
        parameters: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        old_template = stack.template
        old_parameters = dict(stack.resource_map.input_parameters)
        for resource in custom_resources_of(stack):
            resource.update_failure = None
        try:
            original(stack, template, role_arn, parameters, tags)
        except CustomResourceFailed as failure:
            provider.drop_cleanups(stack)
            _roll_back_update(stack, failure, old_template, old_parameters)
            return
        provider.run_cleanups(stack)

    return update


def _roll_back_update(
    stack: Stack, failure: CustomResourceFailed, template: Any, parameters: dict[str, Any]
) -> None:
    resource_event(stack, failure.logical_id, "UPDATE_FAILED", failure.reason)
    stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    stack._add_stack_event(
        "UPDATE_ROLLBACK_IN_PROGRESS",
        f"The following resource(s) failed to update: [{failure.logical_id}]. ",
    )
    stack.template = template
    stack._parse_template()
    try:
        stack.resource_map.update(stack.template_dict, parameters)
    except Exception as exc:
        stack.status = "UPDATE_ROLLBACK_FAILED"
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED", f"Rollback failed: {exc}")
        return
    stack.output_map = stack._create_output_map()
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")


def _wrap_delete(
    original: Callable[[CloudFormationBackend, str], None],
) -> Callable[[CloudFormationBackend, str], None]:
    def delete_stack(backend: CloudFormationBackend, name_or_stack_id: str) -> None:
        stacks = [s for s in backend.stacks.values() if name_or_stack_id in (s.name, s.stack_id)]
        for stack in stacks:
            for resource in custom_resources_of(stack):
                resource.delete_failure = None
        try:
            original(backend, name_or_stack_id)
        except CustomResourceFailed as failure:
            for stack in stacks:
                resource_event(stack, failure.logical_id, "DELETE_FAILED", failure.reason)
                stack.status = "DELETE_FAILED"
                stack._add_stack_event(
                    "DELETE_FAILED",
                    f"The following resource(s) failed to delete: [{failure.logical_id}]. ",
                )
                backend.stacks[stack.stack_id] = stack

    return delete_stack
