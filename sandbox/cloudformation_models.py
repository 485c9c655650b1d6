"""CloudFormation resources moto skips that the sandbox's parts depend on, made through moto's
own service backends, and the way support code adds resource types to moto's CloudFormation.

moto's CloudFormation skips ``AWS::Lambda::EventInvokeConfig`` (the lifecycle
Lambda's "never retry" setting would be lost, and the runtime would retry a
failed custom-resource request twice) and ``AWS::CodeBuild::Project`` (a
project's training build would not exist for StartBuild). :class:`ResourceModels`
adds both to moto's resource map:

- EventInvokeConfig: PutFunctionEventInvokeConfig on moto's Lambda, deleted
  with the stack;
- function URL: CreateFunctionUrlConfig on moto's Lambda (``Fn::GetAtt FunctionUrl``);
- secret: CreateSecret on moto's Secrets Manager (a generated value as AWS generates it);
- managed policy: moto's own create; deleted as CloudFormation deletes it, detached from
  its roles, users and groups first (moto's model cannot delete, so the stack's roles could
  never go: "must detach all policies first");
- CodeBuild project: CreateProject on moto's CodeBuild with the template's
  properties (named as the API names them), ``Ref`` the name, ``Fn::GetAtt Arn``
  the ARN; an update replaces it under the same name; deleted with the stack.

:class:`ModelMap` adds resource types only while it is installed (moto looks its
models up through ``parsing.get_model_map``, which it wraps): the models are
plain classes with the methods moto calls, not ``CloudFormationModel``
subclasses, which moto would pick up for every later stack of the process.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from moto.cloudformation import parsing
from moto.core.utils import get_service_model

from sandbox.emulator import Emulator


def api_shaped(value: Any, shape: Any) -> Any:
    """CloudFormation's property names (``BuildSpec``) as the API's (``buildspec``)."""
    if isinstance(value, list) and shape is not None and shape.type_name == "list":
        return [api_shaped(item, shape.member) for item in value]
    if not isinstance(value, dict) or shape is None or shape.type_name != "structure":
        return value
    members = {name.lower(): name for name in shape.members}
    shaped = {}
    for key, item in value.items():
        name = members.get(key.lower())
        if name is not None:
            shaped[name] = api_shaped(item, shape.members[name])
    return shaped


def function_name(reference: Any) -> str:
    """A function's name from its name or ARN (with or without a qualifier)."""
    return str(reference).split(":function:")[-1].split(":")[0]


class ResourceModel:
    """What moto's CloudFormation asks of a resource model, with the plain answers."""

    TYPE = ""
    NAME_PROPERTY = ""  # the property that names the resource ("" when none does)
    ATTRIBUTES: tuple[str, ...] = ()  # what ``Fn::GetAtt`` reads, from :meth:`attributes`

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise KeyError(attribute_name)
        return self.attributes()[attribute_name]

    def attributes(self) -> dict[str, Any]:
        return {}

    def is_created(self) -> bool:
        return True

    def _delete_by_name(*_: Any) -> None:
        """moto removes a resource dropped from a template by name through this unless it is
        abstract, as on ``CloudFormationModel``; these models delete through ``delete``."""

    _delete_by_name.__isabstractmethod__ = True  # type: ignore[attr-defined]
    delete_from_cloudformation_json = classmethod(_delete_by_name)


class MadeAgainOnUpdate(ResourceModel):
    """A model whose create also replaces what was there: an update makes it again."""

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
            new_resource_name, cloudformation_json, account_id, region_name
        )


class ReplacedOnUpdate(ResourceModel):
    """A model an update replaces: the original is deleted, then made again."""

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
            new_resource_name, cloudformation_json, account_id, region_name
        )


class EventInvokeConfigModel(MadeAgainOnUpdate):
    """``AWS::Lambda::EventInvokeConfig``: a function's asynchronous-invocation settings."""

    TYPE = "AWS::Lambda::EventInvokeConfig"

    def __init__(self, function_name: str, qualifier: str, account_id: str, region: str):
        self.function_name = function_name
        self.qualifier = qualifier
        self.account_id = account_id
        self.region = region

    @property
    def physical_resource_id(self) -> str:
        return f"{self.function_name}:{self.qualifier}"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EventInvokeConfigModel:
        from moto.awslambda.models import lambda_backends

        properties = dict(cloudformation_json.get("Properties") or {})
        name = function_name(properties.pop("FunctionName"))
        qualifier = str(properties.pop("Qualifier", "$LATEST"))
        lambda_backends[account_id][region_name].put_function_event_invoke_config(name, properties)
        return cls(name, qualifier, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.awslambda.models import lambda_backends

        backend = lambda_backends[account_id][region_name]
        try:
            backend.delete_function_event_invoke_config(self.function_name)
        except Exception:  # moto's not-found errors: the function or its config went first
            return


class CodeBuildProjectModel(ResourceModel):
    """``AWS::CodeBuild::Project``, made in moto's CodeBuild backend."""

    TYPE = "AWS::CodeBuild::Project"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Arn",)

    def __init__(self, name: str, arn: str, account_id: str, region: str) -> None:
        self.name = name
        self.arn = arn
        self.account_id = account_id
        self.region = region

    def attributes(self) -> dict[str, Any]:
        return {"Arn": self.arn}

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CodeBuildProjectModel:
        from moto.codebuild.models import codebuild_backends

        shape = get_service_model("codebuild").operation_model("CreateProject").input_shape
        request = api_shaped(dict(cloudformation_json.get("Properties") or {}), shape)
        name = str(request.get("name") or resource_name)
        metadata = codebuild_backends[account_id][region_name].create_project(
            project_name=name,
            description=request.get("description"),
            project_source=request.get("source") or {"type": "NO_SOURCE"},
            artifacts=request.get("artifacts") or {"type": "NO_ARTIFACTS"},
            environment=request.get("environment") or {},
            service_role=str(request.get("serviceRole", "")),
            tags=request.get("tags"),
            cache=request.get("cache"),
            timeout=request.get("timeoutInMinutes"),
            queued_timeout=request.get("queuedTimeoutInMinutes"),
            source_version=request.get("sourceVersion"),
            logs_config=request.get("logsConfig"),
            vpc_config=request.get("vpcConfig"),
        )
        return cls(name, str(metadata["arn"]), account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: CodeBuildProjectModel,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CodeBuildProjectModel:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            original_resource.name, cloudformation_json, account_id, region_name
        )

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.codebuild.models import codebuild_backends

        backend = codebuild_backends[account_id][region_name]
        if self.name in backend.codebuild_projects:
            backend.delete_project(self.name)


class FunctionUrlModel(MadeAgainOnUpdate):
    """``AWS::Lambda::Url``: a function's URL (the MLflow webhook receiver's), made in moto's
    Lambda; ``Fn::GetAtt FunctionUrl`` and ``FunctionArn`` as CloudFormation documents them."""

    TYPE = "AWS::Lambda::Url"
    ATTRIBUTES = ("FunctionUrl", "FunctionArn")

    def __init__(self, function_name: str, answer: dict[str, Any]) -> None:
        self.function_name = function_name
        self.answer = answer

    def attributes(self) -> dict[str, Any]:
        return self.answer

    @property
    def physical_resource_id(self) -> str:
        return str(self.answer["FunctionArn"])

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FunctionUrlModel:
        from moto.awslambda.models import lambda_backends

        properties = dict(cloudformation_json.get("Properties") or {})
        name = function_name(properties.pop("TargetFunctionArn"))
        properties.pop("Qualifier", None)
        backend = lambda_backends[account_id][region_name]
        with contextlib.suppress(Exception):  # moto's not-found error: there was none
            backend.delete_function_url_config(name)  # an update replaces it
        answer = backend.create_function_url_config(name, properties).to_dict()
        return cls(name, answer)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.awslambda.models import lambda_backends

        try:
            lambda_backends[account_id][region_name].delete_function_url_config(self.function_name)
        except Exception:  # moto's not-found errors: the function or its URL went first
            return


class SecretModel(ResourceModel):
    """``AWS::SecretsManager::Secret`` (the MLflow webhook's signing secret), made in moto's
    Secrets Manager: ``SecretString``, or one generated as ``GenerateSecretString`` asks
    (GetRandomPassword's options; ``SecretStringTemplate`` with ``GenerateStringKey``: that
    JSON with the password under the key); ``Ref`` the ARN; deleted with the stack, without
    a recovery window, as CloudFormation deletes it."""

    TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("Id",)

    def __init__(self, arn: str) -> None:
        self.arn = arn

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    def attributes(self) -> dict[str, Any]:
        return {"Id": self.arn}

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> SecretModel:
        from moto.secretsmanager.models import secretsmanager_backends

        backend = secretsmanager_backends[account_id][region_name]
        properties = dict(cloudformation_json.get("Properties") or {})
        value = properties.get("SecretString")
        if value is None:
            value = generated_secret(backend, dict(properties.get("GenerateSecretString") or {}))
        created = backend.create_secret(
            name=str(properties.get("Name") or resource_name),
            secret_string=str(value),
            secret_binary=None,
            description=properties.get("Description"),
            tags=properties.get("Tags"),
            kms_key_id=properties.get("KmsKeyId"),
            client_request_token=None,
            replica_regions=[],
            force_overwrite=False,
        )
        return cls(str(json.loads(created)["ARN"]))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: SecretModel,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> SecretModel:
        return original_resource  # the value stays: CloudFormation regenerates nothing

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.secretsmanager.models import secretsmanager_backends

        with contextlib.suppress(Exception):  # moto's not-found error: it went first
            secretsmanager_backends[account_id][region_name].delete_secret(
                self.arn, recovery_window_in_days=None, force_delete_without_recovery=True
            )


class ManagedPolicyModel(ReplacedOnUpdate):
    """``AWS::IAM::ManagedPolicy`` made by moto's own model (``Ref`` the ARN), deleted with the
    stack as CloudFormation deletes it: detached from every role, user and group, then
    deleted. moto's model has no delete, which left the policy attached and every role of
    the stack undeletable."""

    TYPE = "AWS::IAM::ManagedPolicy"
    ATTRIBUTES = ("PolicyArn",)

    def __init__(self, policy: Any) -> None:
        self.policy = policy

    @property
    def physical_resource_id(self) -> str:
        return str(self.policy.arn)

    def attributes(self) -> dict[str, Any]:
        return {"PolicyArn": self.policy.arn}

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> ManagedPolicyModel:
        from moto.iam.models import ManagedPolicy

        return cls(
            ManagedPolicy.create_from_cloudformation_json(
                resource_name, cloudformation_json, account_id, region_name
            )
        )

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.iam.models import iam_backends

        backend = iam_backends[account_id][self.policy.partition]
        arn = str(self.policy.arn)
        holders = (
            (backend.roles, backend.detach_role_policy),
            (backend.users, backend.detach_user_policy),
            (backend.groups, backend.detach_group_policy),
        )
        for entities, detach in holders:
            for entity in list(entities.values()):
                if arn in entity.managed_policies:
                    detach(arn, entity.name)
        with contextlib.suppress(Exception):  # moto's not-found error: it went first
            backend.delete_policy(arn)


def generated_secret(backend: Any, options: dict[str, Any]) -> str:
    """A value as ``GenerateSecretString`` makes it (GetRandomPassword's defaults)."""
    answer = backend.get_random_password(
        password_length=int(options.get("PasswordLength", 32)),
        exclude_characters=str(options.get("ExcludeCharacters", "")),
        exclude_numbers=_flag(options, "ExcludeNumbers"),
        exclude_punctuation=_flag(options, "ExcludePunctuation"),
        exclude_uppercase=_flag(options, "ExcludeUppercase"),
        exclude_lowercase=_flag(options, "ExcludeLowercase"),
        include_space=_flag(options, "IncludeSpace"),
        require_each_included_type=_flag(options, "RequireEachIncludedType", default=True),
    )
    password = str(json.loads(answer)["RandomPassword"])
    template, key = options.get("SecretStringTemplate"), options.get("GenerateStringKey")
    if template and key:
        return json.dumps({**json.loads(str(template)), str(key): password})
    return password


def _flag(options: dict[str, Any], key: str, *, default: bool = False) -> bool:
    return str(options.get(key, default)).lower() == "true"


class ModelMap:
    """Resource types added to moto's CloudFormation while installed."""

    def __init__(self, models: dict[str, Any]) -> None:
        self._models = dict(models)
        self._saved: tuple[Any, Any] | None = None

    def install(self) -> None:
        if self._saved is not None:
            return
        saved_models, saved_names = parsing.get_model_map, parsing.get_name_type_map
        self._saved = (saved_models, saved_names)
        models = self._models

        def get_model_map() -> dict[str, Any]:
            return {**saved_models(), **models}

        def get_name_type_map() -> dict[str, str]:
            names = {kind: model.cloudformation_name_type() for kind, model in models.items()}
            return {**saved_names(), **names}

        parsing.get_model_map = get_model_map  # type: ignore[assignment]
        parsing.get_name_type_map = get_name_type_map  # type: ignore[assignment]

    def uninstall(self) -> None:
        if self._saved is not None:
            parsing.get_model_map, parsing.get_name_type_map = self._saved  # type: ignore[assignment]
            self._saved = None


class ResourceModels:
    """EventInvokeConfig, function URLs, CodeBuild projects, secrets and managed policies in moto's
    CloudFormation while ``emulator`` runs."""

    def __init__(self, emulator: Emulator) -> None:
        self._map = ModelMap(
            {
                model.cloudformation_type(): model
                for model in (
                    EventInvokeConfigModel,
                    FunctionUrlModel,
                    CodeBuildProjectModel,
                    SecretModel,
                    ManagedPolicyModel,
                )
            }
        )
        self._map.install()
        emulator.on_stop(self._map.uninstall)
