"""Everything the emulator holds for one project, found by its names (``sagemaker-<name>-<id>``)
and tags: what a deleted project left behind, and whether that is what its ``OnDelete`` keeps.

``retain-data`` keeps the repository, the model groups that hold packages (with them) and the
project's objects in the data bucket; ``delete-all`` keeps nothing. Anything else left (an
endpoint, a pipeline, a role, a registry record, a stack) is a broken Delete.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambda_project_lifecycle.naming import ProjectNames

# What each OnDelete choice keeps, as kinds of :func:`project_leftovers`.
KEPT_BY = {
    "delete-all": frozenset(),
    "retain-data": frozenset({"repositories", "model groups", "model packages", "data objects"}),
}


class UnexpectedLeftovers(AssertionError):
    """A deleted project left something its OnDelete does not keep."""


def check_leftovers(on_delete: str, left: dict[str, list[str]]) -> str:
    """The step's text (``nothing left``, or what was kept as promised); raises
    :class:`UnexpectedLeftovers` naming what should have gone."""
    kept = {kind: names for kind, names in left.items() if names}
    unexpected = {kind: names for kind, names in kept.items() if kind not in KEPT_BY[on_delete]}
    if unexpected:
        raise UnexpectedLeftovers(
            f"OnDelete={on_delete} left what it does not keep: "
            + "; ".join(f"{kind}: {', '.join(names)}" for kind, names in unexpected.items())
        )
    if not kept:
        return "nothing left"
    return f"kept as {on_delete} promises: " + "; ".join(
        f"{len(names)} {kind}" for kind, names in kept.items()
    )


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
        "models": [  # moto's ListModels ignores NameContains
            m["ModelName"]
            for m in sagemaker.list_models(NameContains=prefix)["Models"]
            if prefix in m["ModelName"]
        ],
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
    """Every version and delete marker under ``<prefix>/`` (the bucket is versioned: a key
    whose current version is deleted still holds its data)."""
    if not bucket:
        return []
    listed = client("s3").list_object_versions(Bucket=bucket, Prefix=f"{prefix}/")
    return sorted(
        {v["Key"] for v in (*listed.get("Versions", []), *listed.get("DeleteMarkers", []))}
    )
