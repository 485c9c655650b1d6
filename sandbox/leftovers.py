"""Everything the emulator holds for one project, found by its names (``sagemaker-<name>-<id>``)
and tags: what a deleted project left behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambda_project_lifecycle.naming import ProjectNames


def project_leftovers(
    client: Callable[[str], Any], names: ProjectNames, *, registry_table: str, data_bucket: str
) -> dict[str, list[str]]:
    """Kind -> names of what still exists for the project (empty lists included)."""
    prefix = names.prefix
    sagemaker = client("sagemaker")
    groups = [
        g["ModelPackageGroupName"]
        for g in sagemaker.list_model_package_groups(NameContains=prefix, MaxResults=100)[
            "ModelPackageGroupSummaryList"
        ]
    ]
    packages = [
        f"{group}/{p['ModelPackageVersion']}"
        for group in groups
        for p in sagemaker.list_model_packages(ModelPackageGroupName=group)[
            "ModelPackageSummaryList"
        ]
    ]
    found = {
        "repositories": _repository(client, names.repository()),
        "model groups": groups,
        "model packages": packages,
        "endpoints": [
            e["EndpointName"] for e in sagemaker.list_endpoints(NameContains=prefix)["Endpoints"]
        ],
        "endpoint configs": [
            c["EndpointConfigName"]
            for c in sagemaker.list_endpoint_configs(NameContains=prefix)["EndpointConfigs"]
        ],
        "models": [m["ModelName"] for m in sagemaker.list_models(NameContains=prefix)["Models"]],
        "pipelines": [
            p["PipelineName"]
            for p in sagemaker.list_pipelines(PipelineNamePrefix=prefix)["PipelineSummaries"]
        ],
        "build projects": [
            name for name in client("codebuild").list_projects()["projects"] if prefix in name
        ],
        "roles": [
            r["RoleName"] for r in client("iam").list_roles()["Roles"] if prefix in r["RoleName"]
        ],
        "stacks": [
            f"{s['StackName']} ({s['StackStatus']}: {s.get('StackStatusReason', '')})"
            for s in client("cloudformation").list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE" and names.project_id in _tags_of(client, s)
        ],
        "registry records": _registry_records(client, registry_table, names),
        "data objects": _objects(client, data_bucket, prefix),
    }
    return found


def _repository(client: Callable[[str], Any], name: str) -> list[str]:
    """The project's CodeCommit repository, if it is still there (moto has no
    ListRepositories)."""
    codecommit = client("codecommit")
    try:
        codecommit.get_repository(repositoryName=name)
    except codecommit.exceptions.RepositoryDoesNotExistException:
        return []
    return [name]


def _tags_of(client: Callable[[str], Any], summary: dict[str, Any]) -> str:
    stack = client("cloudformation").describe_stacks(StackName=summary["StackId"])["Stacks"][0]
    return " ".join(t["Value"] for t in stack.get("Tags", []))


def _registry_records(client: Callable[[str], Any], table: str, names: ProjectNames) -> list[str]:
    items = client("dynamodb").scan(TableName=table, ProjectionExpression="pk")["Items"]
    keys = [item["pk"]["S"] for item in items]
    return sorted(k for k in keys if names.project_id in k or names.prefix in k)


def _objects(client: Callable[[str], Any], bucket: str, prefix: str) -> list[str]:
    if not bucket:
        return []
    listed = client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")
    return [o["Key"] for o in listed.get("Contents", [])]
