"""The contract between our templates and SageMaker Studio / Service Catalog.

Product templates: the two parameters SageMaker fills in, labelled optional
user parameters, the lifecycle custom resource wired to them, project tags on
every taggable resource, and no resource with an idle price. Platform template:
every product visible in Studio, in the portfolio, with a launch role that can
read Service Catalog's copies of the templates, and principals who may launch it.
Bootstrap template: a private, encrypted, versioned, TLS-only bucket.
"""

from __future__ import annotations

from typing import Any

from lambda_project_lifecycle.naming import (
    PROJECT_ID_MAX_LENGTH,
    PROJECT_ID_TAG,
    PROJECT_NAME_MAX_LENGTH,
    PROJECT_NAME_TAG,
)
from portfolio_build.checks import Finding
from products.template import PARAMETER_RULES_KEY, STUDIO_PROJECT_NAME_PATTERN
from template_common.catalog import PRODUCTS, SERVICE_CATALOG_COPY_TAG, STUDIO_VISIBILITY_TAG
from template_common.settings import TemplateSettings

CHECK = "studio-contract"
PROJECT_PARAMETERS = ("SageMakerProjectName", "SageMakerProjectId")
PROJECT_TAGS = {PROJECT_NAME_TAG: "SageMakerProjectName", PROJECT_ID_TAG: "SageMakerProjectId"}
# Per-project resources that cost money while idle; a project must not own any.
IDLE_PRICED_TYPES = frozenset(
    {
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::NotebookInstance",
        "AWS::SageMaker::Domain",
        "AWS::EC2::Instance",
        "AWS::EC2::NatGateway",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::KMS::Key",
        "AWS::EC2::VPCEndpoint",
        "AWS::SecretsManager::Secret",
    }
)


def check_product(artifact: str, body: dict[str, Any], settings: TemplateSettings) -> list[Finding]:
    problems: list[str] = []
    parameters = body.get("Parameters", {})
    resources = body.get("Resources", {})
    problems += _project_parameters(parameters)
    problems += _user_parameters(parameters, body.get("Metadata", {}))
    problems += _lifecycle_resource(resources, settings)
    for logical_id, resource in sorted(resources.items()):
        problems += _project_tags(logical_id, resource)
        if resource.get("Type") in IDLE_PRICED_TYPES:
            problems.append(
                f"{logical_id}: {resource['Type']} has an idle price; a project must not own one"
            )
    return [Finding(artifact, CHECK, problem) for problem in problems]


def _project_parameters(parameters: dict[str, Any]) -> list[str]:
    problems = []
    expected = {
        "SageMakerProjectName": {"Type": "String", "MaxLength": PROJECT_NAME_MAX_LENGTH},
        "SageMakerProjectId": {"Type": "String", "MaxLength": PROJECT_ID_MAX_LENGTH},
    }
    for name, wanted in expected.items():
        declared = parameters.get(name)
        if declared is None:
            problems.append(
                f"parameter {name} is missing (SageMaker fills it in at project creation)"
            )
            continue
        for key, value in wanted.items():
            if declared.get(key) != value:
                problems.append(
                    f"parameter {name}: {key} must be {value!r} (got {declared.get(key)!r})"
                )
    name_pattern = parameters.get("SageMakerProjectName", {}).get("AllowedPattern")
    if "SageMakerProjectName" in parameters and name_pattern != STUDIO_PROJECT_NAME_PATTERN:
        problems.append(
            "parameter SageMakerProjectName: AllowedPattern must be "
            f"{STUDIO_PROJECT_NAME_PATTERN!r}"
        )
    return problems


def _user_parameters(parameters: dict[str, Any], metadata: dict[str, Any]) -> list[str]:
    problems = []
    interface = metadata.get("AWS::CloudFormation::Interface", {})
    labels = interface.get("ParameterLabels", {})
    grouped = {
        p for group in interface.get("ParameterGroups", []) for p in group.get("Parameters", [])
    }
    rules = metadata.get(PARAMETER_RULES_KEY, {})
    for name, declared in sorted(parameters.items()):
        if name in PROJECT_PARAMETERS:
            continue
        if "Default" not in declared:
            problems.append(
                f"user parameter {name} has no Default (Studio form fields must be optional)"
            )
        if not labels.get(name, {}).get("default"):
            problems.append(f"user parameter {name} has no label in AWS::CloudFormation::Interface")
        if name not in grouped:
            problems.append(f"user parameter {name} is in no ParameterGroup")
        if name not in rules:
            problems.append(
                f"user parameter {name} is not declared in Metadata.{PARAMETER_RULES_KEY}"
            )
    for name in sorted(set(rules) - set(parameters)):
        problems.append(f"Metadata.{PARAMETER_RULES_KEY} names {name}, which is not a parameter")
    return problems


def _lifecycle_resource(resources: dict[str, Any], settings: TemplateSettings) -> list[str]:
    lifecycles = {k: v for k, v in resources.items() if v.get("Type") == "Custom::ProjectLifecycle"}
    if len(lifecycles) != 1:
        return [f"expected one Custom::ProjectLifecycle resource, found {len(lifecycles)}"]
    logical_id, resource = next(iter(lifecycles.items()))
    properties = resource.get("Properties", {})
    problems = []
    token = f"{{{{resolve:ssm:{settings.lifecycle_function_arn_parameter}}}}}"
    if properties.get("ServiceToken") != token:
        problems.append(f"{logical_id}: ServiceToken must resolve the SSM parameter: {token}")
    for prop, parameter in (
        ("ProjectName", "SageMakerProjectName"),
        ("ProjectId", "SageMakerProjectId"),
    ):
        if properties.get(prop) != {"Ref": parameter}:
            problems.append(f"{logical_id}: {prop} must be {{'Ref': '{parameter}'}}")
    return problems


def _project_tags(logical_id: str, resource: dict[str, Any]) -> list[str]:
    tags = resource.get("Properties", {}).get("Tags")
    if tags is None or str(resource.get("Type", "")).startswith("Custom::"):
        return []
    as_dict = {t.get("Key"): t.get("Value") for t in tags} if isinstance(tags, list) else dict(tags)
    return [
        f"{logical_id}: tag {key} must be {{'Ref': '{parameter}'}}"
        for key, parameter in PROJECT_TAGS.items()
        if as_dict.get(key) != {"Ref": parameter}
    ]


def check_platform(
    artifact: str, body: dict[str, Any], settings: TemplateSettings
) -> list[Finding]:
    resources = body.get("Resources", {})
    by_type: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources.items():
        if isinstance(resource, dict):
            by_type.setdefault(resource.get("Type", ""), {})[logical_id] = resource
    products = by_type.get("AWS::ServiceCatalog::CloudFormationProduct", {})
    problems = []
    if len(products) != len(PRODUCTS):
        problems.append(f"expected {len(PRODUCTS)} Service Catalog products, found {len(products)}")
    associated = _referenced_products(
        by_type.get("AWS::ServiceCatalog::PortfolioProductAssociation", {})
    )
    constrained = _referenced_products(by_type.get("AWS::ServiceCatalog::LaunchRoleConstraint", {}))
    for logical_id, product in sorted(products.items()):
        tags = {t.get("Key"): t.get("Value") for t in product.get("Properties", {}).get("Tags", [])}
        if tags.get(STUDIO_VISIBILITY_TAG) != "true":
            problems.append(
                f"{logical_id}: tag {STUDIO_VISIBILITY_TAG}=true is missing (Studio hides it)"
            )
        if logical_id not in associated:
            problems.append(f"{logical_id}: not associated with the portfolio")
        if logical_id not in constrained:
            problems.append(f"{logical_id}: has no launch-role constraint")
    for role_id in sorted(_launch_roles(by_type)):
        if not _reads_service_catalog_copies(resources.get(role_id, {})):
            problems.append(
                f"{role_id}: launch role may not s3:GetObject objects tagged "
                f"{SERVICE_CATALOG_COPY_TAG}=true (Service Catalog provisions from its own copy "
                "of each template; every project create would fail)"
            )
    has_foreach_principals = any(
        key.startswith("Fn::ForEach::")
        and "AWS::ServiceCatalog::PortfolioPrincipalAssociation"
        in {f.get("Type") for f in value[2].values()}
        for key, value in resources.items()
    )
    if (
        not by_type.get("AWS::ServiceCatalog::PortfolioPrincipalAssociation")
        and not has_foreach_principals
    ):
        problems.append("no principal association: no Studio user could see the products")
    published = {
        r.get("Properties", {}).get("Name") for r in by_type.get("AWS::SSM::Parameter", {}).values()
    }
    if settings.lifecycle_function_arn_parameter not in published:
        problems.append(
            f"SSM parameter {settings.lifecycle_function_arn_parameter} is not published; "
            "product templates resolve it"
        )
    return [Finding(artifact, CHECK, problem) for problem in problems]


def _launch_roles(by_type: dict[str, dict[str, Any]]) -> set[str]:
    roles = set()
    for constraint in by_type.get("AWS::ServiceCatalog::LaunchRoleConstraint", {}).values():
        role_arn = constraint.get("Properties", {}).get("RoleArn", {})
        if isinstance(role_arn, dict) and "Fn::GetAtt" in role_arn:
            roles.add(role_arn["Fn::GetAtt"][0])
    return roles


def _reads_service_catalog_copies(role: dict[str, Any]) -> bool:
    for policy in role.get("Properties", {}).get("Policies", []):
        for statement in policy.get("PolicyDocument", {}).get("Statement", []):
            actions = statement.get("Action", [])
            condition = statement.get("Condition", {}).get("StringEquals", {})
            if (
                statement.get("Effect") == "Allow"
                and "s3:GetObject" in actions
                and condition.get(SERVICE_CATALOG_COPY_TAG) == "true"
            ):
                return True
    return False


def _referenced_products(resources: dict[str, Any]) -> set[str]:
    return {r.get("Properties", {}).get("ProductId", {}).get("Ref", "") for r in resources.values()}


def check_buckets(artifact: str, body: dict[str, Any]) -> list[Finding]:
    """Every bucket private: encrypted, versioned, public access blocked, TLS only."""
    resources = body.get("Resources", {})
    buckets = {
        k: v
        for k, v in resources.items()
        if isinstance(v, dict) and v.get("Type") == "AWS::S3::Bucket"
    }
    policies = [
        v
        for v in resources.values()
        if isinstance(v, dict) and v.get("Type") == "AWS::S3::BucketPolicy"
    ]
    problems = []
    for logical_id, bucket in sorted(buckets.items()):
        props = bucket.get("Properties", {})
        if not props.get("BucketEncryption"):
            problems.append(f"{logical_id}: not encrypted")
        if props.get("VersioningConfiguration", {}).get("Status") != "Enabled":
            problems.append(f"{logical_id}: versioning is not enabled")
        block = props.get("PublicAccessBlockConfiguration", {})
        for key in (
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ):
            if block.get(key) is not True:
                problems.append(f"{logical_id}: PublicAccessBlockConfiguration.{key} is not true")
        if not any(_denies_plain_http(p, logical_id) for p in policies):
            problems.append(f"{logical_id}: no bucket policy denies requests without TLS")
    return [Finding(artifact, CHECK, problem) for problem in problems]


def check_bootstrap(artifact: str, body: dict[str, Any]) -> list[Finding]:
    if not any(
        isinstance(v, dict) and v.get("Type") == "AWS::S3::Bucket"
        for v in body.get("Resources", {}).values()
    ):
        return [Finding(artifact, CHECK, "no artifacts bucket")]
    return []


def _denies_plain_http(policy: dict[str, Any], bucket_id: str) -> bool:
    props = policy.get("Properties", {})
    if props.get("Bucket") != {"Ref": bucket_id}:
        return False
    return any(
        statement.get("Effect") == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for statement in props.get("PolicyDocument", {}).get("Statement", [])
    )
