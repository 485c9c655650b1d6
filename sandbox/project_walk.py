"""One SageMaker-registry project walked from a feature branch to production, as its team would.

Each method is one step of the walk (the caller times it and prints ✓ or ✗); it
acts as a data scientist does (the ``git`` command, the registry's approvals) and
then waits for what the platform does in reaction — the training trigger, the
build, the pipeline, the deployment handlers, the endpoint events, the
integration tests — before it checks the outcome a person would look at. A step
that finds something else raises :class:`WalkCheckFailed` with what it saw.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.naming import ProjectNames
from lambda_project_lifecycle.scenarios import SCENARIOS
from sandbox.data_scientist import Clone
from sandbox.embedded_aws import EmbeddedAws
from sandbox.studio import CreatedProject

FEATURE_BRANCH = "feature-sandbox-walk"
# The development stage's ttl_hours is 24 in the seed's deploy/config.yaml.
REAPER_ADVANCE = timedelta(hours=25)


# Deployment states of a registry record that end a deployment (see deployments.records).
FINAL_STATUSES = ("InService", "TestsFailed", "Failed", "RolledBack")
SETTLE_SECONDS = 60.0


class WalkCheckFailed(Exception):
    """The platform did something other than what the step expects; the message says what."""


def plain(value: Any) -> Any:
    """A registry record's value with DynamoDB's numbers as ints and floats (for JSON)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def check(condition: bool, message: str) -> None:
    if not condition:
        raise WalkCheckFailed(message)


class ProjectWalk:
    """The walk of one project; ``facts`` gathers what its table and the JSON report show."""

    def __init__(
        self, aws: EmbeddedAws, project: CreatedProject, work: Path, registry_table: str
    ) -> None:
        self.aws = aws
        self.project = project
        self.work = work
        self.table = registry_table
        self.names = ProjectNames(project.name, project.project_id)
        self.scenario = SCENARIOS[project.product.split("-")[0]]
        self.repository = self.names.repository()
        self.clone: Clone | None = None
        self.tests: list[dict[str, Any]] = []
        self.merged_commit = ""

    def client(self, service: str) -> Any:
        return self.aws.emulator.client(service)

    # -- git ----------------------------------------------------------------------------

    def clone_repository(self) -> str:
        self.clone = Clone.of(
            self.aws.git, self.aws.authority, self.repository, self.work / self.repository
        )
        branches = self.clone.branches()
        check(branches == ["dev", "prod"], f"the repository has branches {branches}")
        check((self.clone.directory / "project.json").is_file(), "no project.json at the root")
        return f"{self.repository}: branches {', '.join(branches)}"

    def _clone(self) -> Clone:
        if self.clone is None:
            raise WalkCheckFailed("the repository was not cloned")
        return self.clone

    def push_feature(self) -> str:
        clone = self._clone()
        clone.switch("dev")
        clone.switch(FEATURE_BRANCH, create=True)
        commit = clone.commit(
            "Describe the sandbox's change",
            {"CHANGES.md": "# Changes\n\n- a change walked through the sandbox\n"},
        )
        clone.push(FEATURE_BRANCH)
        return self._trained("feature", commit, FEATURE_BRANCH)

    def merge_to(self, branch: str, source: str) -> str:
        clone = self._clone()
        clone.switch(branch)
        commit = clone.merge(source)
        clone.push(branch)
        self.merged_commit = commit
        if branch == "prod":
            return self._promoted(commit)
        return self._trained(branch, commit, branch)

    def _trained(self, kind: str, commit: str, branch: str) -> str:
        build = self._build_of(commit)
        package = self.newest_package(kind)
        check(package is not None, f"no model package in the {kind} group after the build")
        assert package is not None
        lineage = package.get("CustomerMetadataProperties") or {}
        check(
            package["MetadataProperties"].get("CommitId") == commit,
            f"the {kind} package was trained from {package['MetadataProperties'].get('CommitId')}",
        )
        for key in ("dataset_sha256", "metric.accuracy", "branch"):
            check(key in lineage, f"the {kind} package's lineage lacks {key}")
        check(lineage["branch"] == branch, f"lineage branch {lineage['branch']}, not {branch}")
        return (
            f"build {build['buildStatus']}, pipeline ran, {kind} package "
            f"v{package['ModelPackageVersion']} (commit {commit[:8]}, accuracy "
            f"{float(lineage['metric.accuracy']):.3f})"
        )

    def _promoted(self, commit: str) -> str:
        build = self._build_of(commit)
        copied = []
        dev = self.newest_package("dev")
        check(dev is not None, "no dev package to promote")
        assert dev is not None
        for kind in self.production_groups():
            package = self.newest_package(kind)
            check(package is not None, f"no package in the {kind} group after the prod build")
            assert package is not None
            source = package["MetadataProperties"].get("CommitId")
            check(
                source == dev["MetadataProperties"].get("CommitId"),
                f"the {kind} package is of commit {source}, not the dev package's",
            )
            copied.append(f"{kind} v{package['ModelPackageVersion']}")
        return f"build {build['buildStatus']} without training: dev package copied to " + (
            ", ".join(copied)
        )

    def _build_of(self, commit: str) -> dict[str, Any]:
        self.aws.settle()
        codebuild = self.client("codebuild")
        ids = codebuild.list_builds_for_project(projectName=self.names.training_project())["ids"]
        builds = codebuild.batch_get_builds(ids=ids)["builds"] if ids else []
        mine = [b for b in builds if b.get("resolvedSourceVersion") == commit]
        check(bool(mine), f"no build of commit {commit[:8]} was started")
        build = mine[0]
        if build["buildStatus"] != "SUCCEEDED":
            tail = self.aws.builds.log(build["id"])[-15:]
            raise WalkCheckFailed(f"build {build['buildStatus']}:\n" + "\n".join(tail))
        return dict(build)

    # -- the registry ---------------------------------------------------------------------

    def production_groups(self) -> tuple[str, ...]:
        return tuple(
            kind for kind in self.scenario.model_group_kinds if kind not in ("dev", "feature")
        )

    def packages(self, kind: str) -> list[dict[str, Any]]:
        sagemaker = self.client("sagemaker")
        summaries = sagemaker.list_model_packages(
            ModelPackageGroupName=self.names.model_package_group(kind), SortBy="CreationTime"
        )["ModelPackageSummaryList"]
        return [
            dict(sagemaker.describe_model_package(ModelPackageName=s["ModelPackageArn"]))
            for s in summaries
        ]

    def newest_package(self, kind: str) -> dict[str, Any] | None:
        packages = self.packages(kind)
        return max(packages, key=lambda p: p["ModelPackageVersion"]) if packages else None

    def set_status(self, kind: str, status: str) -> dict[str, Any]:
        package = self.newest_package(kind)
        check(package is not None, f"no package in the {kind} group")
        assert package is not None
        self.client("sagemaker").update_model_package(
            ModelPackageArn=package["ModelPackageArn"], ModelApprovalStatus=status
        )
        self.aws.settle()
        return package

    def approve(self, *kinds: str) -> str:
        stage = "production" if kinds[0] not in ("dev", "feature") else "development"
        for kind in kinds:
            self.set_status(kind, "Approved")
        endpoint = self.names.endpoint(stage)
        served = self.serving(endpoint)
        expected = {self.newest_package(kind)["ModelPackageArn"] for kind in kinds}  # type: ignore[index]
        check(
            expected <= set(served.values()),
            f"{endpoint} serves {served}, not the approved package(s)",
        )
        record = self.settled_record(endpoint, served)
        result = plain(record.get("LastResult") or {})
        tests = result.get("tests") or {}
        summary = str(tests.get("summary") or "no integration test result recorded")
        self.tests.append(
            {
                "endpoint": endpoint,
                "after": f"approve {' and '.join(kinds)}",
                "status": result.get("status", ""),
                "summary": summary,
                "cases": tests.get("cases", []),
            }
        )
        check(
            record.get("Status") == "InService",
            f"{endpoint}: deployment {record.get('Status')}: {json.dumps(result)[:300]}",
        )
        check(
            result.get("status") in ("PASSED", "UNTESTED"),
            f"{summary}: {json.dumps(result)[:600]}",
        )
        return f"{endpoint} InService, {self._variants_text(endpoint)}; {summary}"

    def reject_production(self) -> str:
        endpoint = self.names.endpoint("production")
        kind = self.production_groups()[0]
        rejected = self.set_status(kind, "Rejected")
        if endpoint not in self.endpoint_names():
            return f"{kind} v{rejected['ModelPackageVersion']} rejected: {endpoint} removed"
        served = self.serving(endpoint)
        check(
            rejected["ModelPackageArn"] not in served.values(),
            f"{endpoint} still serves the rejected package",
        )
        return (
            f"{kind} v{rejected['ModelPackageVersion']} rejected: {endpoint} rolled back, "
            f"{self._variants_text(endpoint)}"
        )

    def reap(self) -> str:
        endpoint = self.names.endpoint("development")
        check(endpoint in self.endpoint_names(), f"{endpoint} is not there to be reaped")
        self.aws.clock.advance(REAPER_ADVANCE)
        self.aws.settle()
        check(endpoint not in self.endpoint_names(), f"{endpoint} is still there")
        return f"clock +{REAPER_ADVANCE.total_seconds() / 3600:g} h: {endpoint} deleted"

    # -- what is there ----------------------------------------------------------------------

    def endpoint_names(self) -> list[str]:
        listed = self.client("sagemaker").list_endpoints(NameContains=self.names.prefix)
        return sorted(e["EndpointName"] for e in listed["Endpoints"])

    def serving(self, endpoint: str) -> dict[str, str]:
        """Variant -> the model package its model was made from (the endpoint's tags say)."""
        variants = self.variants(endpoint)
        return {v["name"]: v["package"] for v in variants}

    def variants(self, endpoint: str) -> list[dict[str, Any]]:
        sagemaker = self.client("sagemaker")
        try:
            described = sagemaker.describe_endpoint(EndpointName=endpoint)
        except sagemaker.exceptions.ClientError:
            return []
        config = sagemaker.describe_endpoint_config(
            EndpointConfigName=described["EndpointConfigName"]
        )
        found = []
        for variant in config["ProductionVariants"]:
            model = sagemaker.describe_model(ModelName=variant["ModelName"])
            tags = sagemaker.list_tags(ResourceArn=model["ModelArn"])["Tags"]
            package = next(
                (t["Value"] for t in tags if t["Key"] == "mlops-portfolio:model-package-arn"),
                model["PrimaryContainer"].get("ModelPackageName", ""),
            )
            found.append(
                {
                    "name": variant["VariantName"],
                    "weight": float(variant.get("InitialVariantWeight", 1.0)),
                    "package": package,
                    "model": variant["ModelName"],
                }
            )
        return found

    def _variants_text(self, endpoint: str) -> str:
        variants = self.variants(endpoint)
        total = sum(v["weight"] for v in variants) or 1.0
        return ", ".join(
            f"{v['name']} {100 * v['weight'] / total:.0f}% v{v['package'].rsplit('/', 1)[-1]}"
            for v in variants
        )

    def settled_record(self, endpoint: str, served: dict[str, str]) -> dict[str, Any]:
        """The endpoint's registry record once its deployment of ``served`` has a result."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            record = self.record(endpoint)
            applied = {
                name: state.get("ModelPackageArn")
                for name, state in (record.get("Applied") or {}).items()
            }
            done = record.get("Status") in FINAL_STATUSES and record.get("LastResult")
            if (done and applied == served) or time.monotonic() > deadline:
                return record
            self.aws.settle()
            time.sleep(0.2)

    def record(self, endpoint: str) -> dict[str, Any]:
        found = project_registry.load_record(
            self.client("dynamodb"), self.table, project_registry.endpoint_key(endpoint)
        )
        return found or {}
