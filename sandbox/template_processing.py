"""What CloudFormation does to a template before it creates anything, and moto does not.

- ``TemplateURL``: the template is read from S3 (moto's S3, any account's bucket);
- the ``AWS::LanguageExtensions`` transform: ``Fn::ForEach`` loops are expanded (over
  a list or a ``CommaDelimitedList`` parameter), as the transform's documentation
  describes: ``${Id}`` and ``&{Id}`` (alphanumerics only) in the fragment's keys, and
  ``Ref: Id`` and ``${Id}`` in ``Fn::Sub`` strings in its values;
- ``{{resolve:ssm:name[:version]}}`` dynamic references are resolved from moto's SSM
  parameters; a missing parameter fails the request with ``ValidationError``;
- the capabilities CloudFormation requires (``CAPABILITY_IAM``/``CAPABILITY_NAMED_IAM``
  for IAM resources, ``CAPABILITY_AUTO_EXPAND`` for a transform in CreateStack/UpdateStack)
  are checked (``InsufficientCapabilitiesException``).

:class:`sandbox.cloudformation_gaps.CloudFormationGaps` calls :func:`process_request`
before moto sees CreateStack, UpdateStack and CreateChangeSet, and keeps the template
as the caller sent it for GetTemplate's ``Original`` stage.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from moto.cloudformation.utils import yaml_tag_constructor
from moto.s3.models import s3_backends

from sandbox.emulator import AwsError, Call

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
FOR_EACH = "Fn::ForEach::"
SSM_REFERENCE = re.compile(r"\{\{resolve:ssm:([a-zA-Z0-9_./-]+)(?::(\d+))?\}\}")
IAM_TYPES = frozenset(
    {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::User",
        "AWS::IAM::Group",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::AccessKey",
        "AWS::IAM::UserToGroupAddition",
    }
)
IAM_NAME_PROPERTIES = ("RoleName", "ManagedPolicyName", "UserName", "GroupName")


def process_request(call: Call) -> tuple[dict[str, Any], str] | None:
    """The request's parameters with the processed template as ``TemplateBody``, and the
    template as sent; None when the request reuses the stack's template."""
    params = dict(call.params)
    body = params.get("TemplateBody")
    if body is None and params.get("TemplateURL"):
        body = read_template_url(params["TemplateURL"], call.account_id)
    if body is None:
        return None  # UsePreviousTemplate: moto keeps the stack's processed template
    template = parse_template(body)
    parameters = parameter_values(call, template)
    has_transform = _transforms(template)
    _check_capabilities(call, template, has_transform)
    if LANGUAGE_EXTENSIONS in has_transform:
        template = expand_language_extensions(template, parameters)
    template = resolve_dynamic_references(template, call)
    params.pop("TemplateURL", None)
    params["TemplateBody"] = json.dumps(template)
    params["Parameters"] = [
        {
            "ParameterKey": name,
            "ParameterValue": ",".join(value) if isinstance(value, list) else str(value),
        }
        for name, value in parameters.items()
        if name in (template.get("Parameters") or {})
    ]
    return params, body


# -- reading --------------------------------------------------------------------------------


def parse_template(body: str) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:
        loader = type("TemplateLoader", (yaml.SafeLoader,), {})
        loader.add_multi_constructor("!", yaml_tag_constructor)
        try:
            parsed = yaml.load(body, Loader=loader)
        except yaml.YAMLError as exc:
            raise AwsError("ValidationError", f"Template format error: {exc}") from exc
    if not isinstance(parsed, dict):
        raise AwsError("ValidationError", "Template format error: not a JSON or YAML object")
    return parsed


def bucket_and_key(url: str) -> tuple[str, str]:
    """The bucket and key of an S3 URL in any of the forms CloudFormation accepts."""
    parts = urlsplit(url)
    host, path = parts.hostname or "", unquote(parts.path.lstrip("/"))
    if parts.scheme == "s3":
        return host, path
    labels = host.split(".")
    if "s3" in labels and labels.index("s3") > 0:  # virtual-hosted: bucket.s3.region.domain
        return ".".join(labels[: labels.index("s3")]), path
    bucket, _, key = path.partition("/")  # path style: s3.region.domain/bucket/key
    return bucket, key


def read_template_url(url: str, account_id: str) -> str:
    bucket_name, key = bucket_and_key(url)
    owner = s3_backends.bucket_accounts.get(bucket_name)
    backend = s3_backends[owner[1] if owner else account_id]["aws"]
    bucket = backend.buckets.get(bucket_name)
    found = bucket.keys.get(key) if bucket is not None else None
    if found is None:
        raise AwsError(
            "ValidationError", f"TemplateURL must reference a valid S3 object: {url} not found"
        )
    return found.value.decode()


def parameter_values(call: Call, template: dict[str, Any]) -> dict[str, Any]:
    """Each parameter's value for this request: given, previous, or the template's default."""
    previous: dict[str, str] = {}
    if call.operation != "CreateStack":
        backend = call.backend()
        stack = next(
            (s for s in backend.stacks.values() if s.name == call.params.get("StackName")), None
        )
        previous = dict(stack.parameters) if stack is not None else {}
    values: dict[str, Any] = {}
    for name, declared in (template.get("Parameters") or {}).items():
        if "Default" in declared:
            values[name] = declared["Default"]
        if name in previous:
            values[name] = previous[name]
    for given in call.params.get("Parameters") or []:
        if given.get("UsePreviousValue"):
            continue
        values[given["ParameterKey"]] = given.get("ParameterValue", "")
    for name, declared in (template.get("Parameters") or {}).items():
        if declared.get("Type") == "CommaDelimitedList" and isinstance(values.get(name), str):
            values[name] = [item.strip() for item in values[name].split(",")]
    return values


# -- the transform --------------------------------------------------------------------------


def _transforms(template: dict[str, Any]) -> list[str]:
    transform = template.get("Transform") or []
    return [transform] if isinstance(transform, str) else list(transform)


def expand_language_extensions(
    template: dict[str, Any], parameters: dict[str, Any]
) -> dict[str, Any]:
    expanded = {key: value for key, value in template.items() if key != "Transform"}
    others = [t for t in _transforms(template) if t != LANGUAGE_EXTENSIONS]
    if others:
        expanded["Transform"] = others
    for section in ("Resources", "Outputs", "Conditions"):
        if section in expanded:
            expanded[section] = _expand_section(expanded[section], parameters)
    return expanded


def _expand_section(section: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in section.items():
        if not key.startswith(FOR_EACH):
            result[key] = value
            continue
        identifier, collection, fragments = value
        for item in _collection(collection, parameters):
            for fragment_key, fragment in fragments.items():
                name = fragment_key.replace("${" + identifier + "}", item).replace(
                    "&{" + identifier + "}", re.sub(r"[^A-Za-z0-9]", "", item)
                )
                result[name] = _substitute(fragment, identifier, item)
        result = _expand_section(result, parameters) if _has_loop(result) else result
    return result


def _has_loop(section: dict[str, Any]) -> bool:
    return any(key.startswith(FOR_EACH) for key in section)


def _collection(collection: Any, parameters: dict[str, Any]) -> list[str]:
    if isinstance(collection, dict) and set(collection) == {"Ref"}:
        value = parameters.get(collection["Ref"])
        if value is None:
            raise AwsError(
                "ValidationError",
                f"Template error: Fn::ForEach collection refers to {collection['Ref']}, "
                "which is not a parameter",
            )
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    if isinstance(collection, list):
        return [str(v) for v in collection]
    raise AwsError(
        "ValidationError", "Template error: Fn::ForEach collection must be a list or a Ref"
    )


def _substitute(value: Any, identifier: str, item: str) -> Any:
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return item
        if set(value) == {"Fn::Sub"}:
            sub = value["Fn::Sub"]
            if isinstance(sub, str):
                return {"Fn::Sub": sub.replace("${" + identifier + "}", item)}
            return {"Fn::Sub": [sub[0].replace("${" + identifier + "}", item), *sub[1:]]}
        return {k: _substitute(v, identifier, item) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, identifier, item) for v in value]
    return value


# -- dynamic references ---------------------------------------------------------------------


def resolve_dynamic_references(template: dict[str, Any], call: Call) -> dict[str, Any]:
    ssm = call.backend("ssm")

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and "{{resolve:ssm:" in value:
            return SSM_REFERENCE.sub(lambda m: _ssm_value(ssm, m.group(1), m.group(2)), value)
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    return {
        key: resolve(value) if key in ("Resources", "Outputs") else value
        for key, value in template.items()
    }


def _ssm_value(ssm: Any, name: str, version: str | None) -> str:
    """The parameter's value through moto's own lookup (it normalizes ``/name`` to ``name``)."""
    wanted = f"{name}:{version}" if version else name
    try:
        parameter = ssm.get_parameter(wanted)
    except Exception:  # moto raises for an unknown version
        parameter = None
    if parameter is None:
        raise AwsError("ValidationError", f"Parameters: [ssm:{wanted}] cannot be found.")
    return str(parameter.value)


# -- capabilities ---------------------------------------------------------------------------


def _check_capabilities(call: Call, template: dict[str, Any], transforms: list[str]) -> None:
    given = set(call.params.get("Capabilities") or [])
    resources = [r for r in (template.get("Resources") or {}).values() if isinstance(r, dict)] + [
        fragment
        for key, loop in (template.get("Resources") or {}).items()
        if key.startswith(FOR_EACH)
        for fragment in loop[2].values()
    ]
    iam = [r for r in resources if r.get("Type") in IAM_TYPES]
    named = any(
        any(name in (r.get("Properties") or {}) for name in IAM_NAME_PROPERTIES) for r in iam
    )
    needed = []
    if named and "CAPABILITY_NAMED_IAM" not in given:
        needed.append("CAPABILITY_NAMED_IAM")
    elif iam and not given & {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}:
        needed.append("CAPABILITY_IAM")
    if transforms and call.operation != "CreateChangeSet" and "CAPABILITY_AUTO_EXPAND" not in given:
        needed.append("CAPABILITY_AUTO_EXPAND")
    if needed:
        raise AwsError(
            "InsufficientCapabilitiesException", f"Requires capabilities : [{', '.join(needed)}]"
        )
