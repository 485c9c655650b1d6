"""The platform stack's part in repositories: one push rule, the trigger, scoped permissions."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import cfnlint.data.schemas

from portfolio import platform
from products import template
from template_common.catalog import PRODUCTS
from template_common.settings import TemplateSettings

TEMPLATE: dict[str, Any] = json.loads(json.dumps(platform.build(TemplateSettings()).to_dict()))
RESOURCES = TEMPLATE["Resources"]


def policy_statements(role: str) -> dict[str, dict[str, Any]]:
    policy = RESOURCES[role]["Properties"]["Policies"][0]["PolicyDocument"]
    return {s["Sid"]: s for s in policy["Statement"]}


def test_one_rule_routes_pushes_of_every_project_repository() -> None:
    rules = {
        k: v
        for k, v in RESOURCES.items()
        if isinstance(v, dict) and v.get("Type") == "AWS::Events::Rule"
    }
    codecommit = {k: v for k, v in rules.items() if "aws.codecommit" in json.dumps(v)}
    assert list(codecommit) == ["CodeCommitPushRule"]
    pattern = codecommit["CodeCommitPushRule"]["Properties"]["EventPattern"]
    assert pattern["detail"]["repositoryName"] == [{"prefix": "sagemaker-"}]
    assert pattern["detail"]["event"] == ["referenceCreated", "referenceUpdated"]
    assert pattern["detail"]["referenceName"] == ["prod", "dev", {"prefix": "feature-"}]
    target = codecommit["CodeCommitPushRule"]["Properties"]["Targets"][0]
    assert target["Arn"] == {"Fn::GetAtt": ["TrainingTriggerFunction", "Arn"]}
    assert RESOURCES["CodeCommitPushRuleInvoke"]["Properties"]["Principal"] == (
        "events.amazonaws.com"
    )


def test_the_trigger_is_a_shared_function_from_the_same_zip_with_its_own_role() -> None:
    trigger = RESOURCES["TrainingTriggerFunction"]["Properties"]
    lifecycle = RESOURCES["LifecycleFunction"]["Properties"]
    assert trigger["Handler"] == "lambda_project_lifecycle.training_trigger.handler"
    assert trigger["Code"] == lifecycle["Code"]
    assert trigger["Role"] == {"Fn::GetAtt": ["TrainingTriggerFunctionRole", "Arn"]}
    statements = policy_statements("TrainingTriggerFunctionRole")
    assert statements["ProjectRegistry"]["Action"] == ["dynamodb:GetItem"]
    assert statements["StartProjectTraining"]["Action"] == ["codebuild:StartBuild"]
    assert "project/sagemaker-*" in json.dumps(statements["StartProjectTraining"]["Resource"])


def test_the_lifecycle_reaches_only_project_repositories_seed_code_and_platform_secrets() -> None:
    statements = policy_statements("LifecycleFunctionRole")
    assert (
        json.dumps(statements["ProjectCodeCommitRepositories"]["Resource"]).count(":sagemaker-*")
        == 1
    )
    seed = json.dumps(statements["SeedCode"]["Resource"])
    assert "BaselineSeedCodeKey" in seed and "AdvancedSeedCodeKey" in seed
    assert "secret:mlops-portfolio/*" in json.dumps(statements["RepositoryTokens"]["Resource"])
    connections = json.dumps(statements["PushThroughConnections"]["Resource"])
    assert "${AWS::Region}" in connections and "connection/*" in connections
    # Only what AWS cannot scope to a resource (listings, scaling targets) is on "*".
    unscoped = {
        "ListingHasNoResourceScope",
        "ListingPipelinesHasNoResourceScope",
        "HostingListsHaveNoResourceScope",
        "AlarmListsHaveNoResourceScope",
        "ScalingReadsHaveNoResourceScope",
    }
    for statement in statements.values():
        if statement["Sid"] not in unscoped:
            assert statement["Resource"] != ["*"], statement["Sid"]


def test_the_lifecycle_deletes_only_project_pipelines_and_data_under_a_project_prefix() -> None:
    statements = policy_statements("LifecycleFunctionRole")
    pipelines = statements["ProjectPipelines"]
    assert "sagemaker:DeletePipeline" in pipelines["Action"]
    assert all(":pipeline/sagemaker-*" in json.dumps(r) for r in pipelines["Resource"])
    assert statements["ListingPipelinesHasNoResourceScope"]["Action"] == ["sagemaker:ListPipelines"]
    data = statements["DeleteProjectData"]
    assert data["Action"] == ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    assert data["Resource"] == [
        {
            "Fn::Sub": [
                "arn:${AWS::Partition}:s3:::${Bucket}/sagemaker-*/*",
                {"Bucket": {"Ref": "ProjectDataBucket"}},
            ]
        }
    ]
    listing = statements["ListProjectDataVersions"]
    assert listing["Action"] == ["s3:ListBucketVersions"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "sagemaker-*/"}}


def test_the_launch_role_can_make_training_resources_with_the_sagemaker_prefix_only() -> None:
    statements = policy_statements("LaunchRole")
    for sid in (
        "TrainingProjects",
        "ProjectRolesWithTheBoundary",
        "ProjectRoles",
        "PassTrainingRolesToCodeBuild",
    ):
        resources = json.dumps(statements[sid]["Resource"])
        assert "sagemaker-*" in resources, sid
    assert statements["PassTrainingRolesToCodeBuild"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "codebuild.amazonaws.com"}
    }
    assert "project-data-bucket" in json.dumps(statements["ResolveProjectDataBucket"]["Resource"])


def test_service_catalog_may_launch_from_its_own_copies_of_the_templates() -> None:
    statement = policy_statements("LaunchRole")["ServiceCatalogTemplateCopies"]
    assert statement["Action"] == ["s3:GetObject"]
    # Only objects Service Catalog tagged for provisioning, wherever its bucket is.
    assert statement["Condition"] == {
        "StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}
    }


def test_the_launch_role_holds_what_cloudformation_calls_for_every_product_resource() -> None:
    """The registry schema of each resource type a product stack holds lists the actions its
    create, read, update and delete handlers call as the launch role; a missing one fails a
    project's create, update or (worst) delete in Studio."""
    schemas = Path(cfnlint.data.schemas.__file__).parent
    providers = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    allowed = {
        action
        for statement in policy_statements("LaunchRole").values()
        if statement["Effect"] == "Allow"
        for action in statement["Action"]
    }
    # Every product role keeps the platform's permissions boundary, so the update handler
    # never removes one (and the launch role is denied it).
    never_called = {"iam:DeleteRolePermissionsBoundary"}
    checked = set()
    for product, settings in itertools.product(
        PRODUCTS, (TemplateSettings(), TemplateSettings(model_role_isolation="per-project"))
    ):
        body = json.loads(json.dumps(template.build(product, settings).to_dict()))
        for resource in body["Resources"].values():
            schema_file = schemas / "resources" / f"{providers.get(resource['Type'], '')}.json"
            if resource["Type"].startswith("Custom::") or not schema_file.is_file():
                continue
            handlers = json.loads(schema_file.read_text()).get("handlers", {})
            for operation in ("create", "read", "update", "delete"):
                needed = set(handlers.get(operation, {}).get("permissions", [])) - never_called
                missing = sorted(needed - allowed)
                assert not missing, f"{resource['Type']} {operation}: {missing}"
                checked.add(resource["Type"])
    assert "AWS::IAM::Role" in checked
