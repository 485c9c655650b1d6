"""One project walked from a feature branch to production, as its team would.

Each method is one step of the walk (the caller times it and prints ✓ or ✗); it
acts as a data scientist does (the ``git`` command, the registry's approvals) and
then waits for what the platform does in reaction — the training trigger, the
build, the pipeline, the deployment handlers, the endpoint events, the
integration tests — before it checks the outcome a person would look at. A step
that finds something else raises :class:`WalkCheckFailed` with what it saw.

:class:`ProjectWalk` walks a SageMaker-registry project (approvals of model packages);
:class:`sandbox.mlflow_walk.MlflowProjectWalk` the same walk with MLflow's aliases.
Both see the registry through :class:`RegisteredModel`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.deployments.plan import TAG_PACKAGE_PREFIX
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


@dataclass(frozen=True)
class RegisteredModel:
    """One model of a group as the walk checks it: a model package, or an MLflow version.

    ``ref`` is how the deployment engine names it (a package ARN, ``mlflow:<name>/<v>``);
    ``lineage`` the package's CustomerMetadataProperties or the version's tags."""

    version: int
    ref: str
    status: str
    commit: str
    lineage: dict[str, str] = field(default_factory=dict)

    def fact(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "status": self.status,
            "commit": self.commit,
            "arn": self.ref,
        }


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

    def settle(self) -> None:
        """Wait until what this project's last change started is done (its builds, pipeline
        executions and what follows them), though another project's walk goes on beside."""
        self.aws.settle(scope=self.names.project_id)

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
        model = self.newest_model(kind)
        if model is None:  # the build said it registered one: what it printed says where
            tail = "\n".join(self.aws.builds.log(build["id"])[-15:])
            raise WalkCheckFailed(
                f"no {self.model_word} in the {kind} group after the build "
                f"{build['buildStatus']}; its log ends:\n{tail}"
            )
        check(
            model.commit == commit,
            f"the {kind} {self.model_word} was trained from {model.commit}",
        )
        for key in ("dataset_sha256", "metric.accuracy", "branch"):
            check(key in model.lineage, f"the {kind} {self.model_word}'s lineage lacks {key}")
        check(
            model.lineage["branch"] == branch,
            f"lineage branch {model.lineage['branch']}, not {branch}",
        )
        return (
            f"build {build['buildStatus']}, pipeline ran, {kind} {self.model_word} "
            f"v{model.version} (commit {commit[:8]}, accuracy "
            f"{float(model.lineage['metric.accuracy']):.3f})"
        )

    def _promoted(self, commit: str) -> str:
        build = self._build_of(commit)
        copied = []
        dev = self.newest_model("dev")
        check(dev is not None, f"no dev {self.model_word} to promote")
        assert dev is not None
        for kind in self.production_groups():
            model = self.newest_model(kind)
            check(model is not None, f"no {self.model_word} in {kind} after the prod build")
            assert model is not None
            check(
                model.commit == dev.commit,
                f"the {kind} {self.model_word} is of commit {model.commit}, not the dev one's",
            )
            copied.append(f"{kind} v{model.version}")
        return f"build {build['buildStatus']} without training: dev {self.model_word} " + (
            f"copied to {', '.join(copied)}"
        )

    def _build_of(self, commit: str) -> dict[str, Any]:
        self.settle()
        codebuild = self.client("codebuild")
        ids = codebuild.list_builds_for_project(projectName=self.names.training_project())["ids"]
        builds = codebuild.batch_get_builds(ids=ids)["builds"] if ids else []
        mine = [b for b in builds if b.get("resolvedSourceVersion") == commit]
        if not mine:
            errors = [
                f"{i.function_arn.rsplit(':', 1)[-1]} ({i.function_error}): "
                + " | ".join(i.lines[-3:])
                for i in list(self.aws.runtime.invocations)
                if i.function_error and self.names.project_id.encode() in i.payload
            ]
            failed = f"; failed invocations: {'; '.join(errors)}" if errors else ""
            raise WalkCheckFailed(f"no build of commit {commit[:8]} was started{failed}")
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

    model_word = "package"

    def models(self, kind: str) -> list[RegisteredModel]:
        """The group's models, oldest first."""
        return [
            RegisteredModel(
                version=int(p["ModelPackageVersion"]),
                ref=str(p["ModelPackageArn"]),
                status=str(p["ModelApprovalStatus"]),
                commit=str(p.get("MetadataProperties", {}).get("CommitId", "")),
                lineage=dict(p.get("CustomerMetadataProperties") or {}),
            )
            for p in self.packages(kind)
        ]

    def newest_model(self, kind: str) -> RegisteredModel | None:
        models = self.models(kind)
        return max(models, key=lambda m: m.version) if models else None

    def approve_newest(self, kind: str) -> str:
        """Approve the group's newest model (and wait for what follows); the engine's ref."""
        return str(self.set_status(kind, "Approved")["ModelPackageArn"])

    def withdraw_newest(self, kind: str) -> tuple[str, str]:
        """Take the newest model's approval back; (its ref, what was done)."""
        rejected = self.set_status(kind, "Rejected")
        done = f"{kind} v{rejected['ModelPackageVersion']} rejected"
        return str(rejected["ModelPackageArn"]), done

    def set_status(self, kind: str, status: str) -> dict[str, Any]:
        package = self.newest_package(kind)
        check(package is not None, f"no package in the {kind} group")
        assert package is not None
        self.client("sagemaker").update_model_package(
            ModelPackageArn=package["ModelPackageArn"], ModelApprovalStatus=status
        )
        self.settle()
        return package

    def approve(self, *kinds: str) -> str:
        stage = "production" if kinds[0] not in ("dev", "feature") else "development"
        expected = {self.approve_newest(kind) for kind in kinds}
        endpoint = self.names.endpoint(stage)
        served = self.serving(endpoint)
        check(
            expected <= set(served.values()),
            f"{endpoint} serves {served}, not the approved {self.model_word}(s)",
        )
        summary = self.tested(endpoint, served, f"{self.approve_word} {' and '.join(kinds)}")
        return f"{endpoint} InService, {self._variants_text(endpoint)}; {summary}"

    def tested(self, endpoint: str, served: dict[str, str], after: str) -> str:
        """The integration tests' summary once ``endpoint`` is InService with ``served``
        (kept for the report, ``after`` what); raises unless they passed (or were none)."""
        record = self.settled_record(endpoint, served)
        result = plain(record.get("LastResult") or {})
        tests = result.get("tests") or {}
        summary = str(tests.get("summary") or "no integration test result recorded")
        self.tests.append(
            {
                "endpoint": endpoint,
                "after": after,
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
        return summary

    approve_word = "approve"

    def reject_production(self) -> str:
        endpoint = self.names.endpoint("production")
        withdrawn, done = self.withdraw_newest(self.production_groups()[0])
        if endpoint not in self.endpoint_names():
            return f"{done}: {endpoint} removed"
        served = self.serving(endpoint)
        check(
            withdrawn not in served.values(),
            f"{endpoint} still serves the {self.model_word} withdrawn ({done})",
        )
        return f"{done}: {endpoint} rolled back, {self._variants_text(endpoint)}"

    def reap(self, *others: ProjectWalk) -> str:
        """The clock moved past the development endpoints' expiry: the reaper deletes this
        project's, and those of ``others`` (walked beside it; their steps check with
        :meth:`reaped`)."""
        for walk in (self, *others):
            endpoint = walk.names.endpoint("development")
            check(endpoint in walk.endpoint_names(), f"{endpoint} is not there to be reaped")
        self.aws.clock.advance(REAPER_ADVANCE)
        self.aws.settle()
        return self.reaped()

    def reaped(self, moved_by: str = "") -> str:
        """This project's development endpoint is gone (``moved_by``: the project whose
        reaper step moved the clock, when another's did)."""
        endpoint = self.names.endpoint("development")
        check(endpoint not in self.endpoint_names(), f"{endpoint} is still there")
        by = f" (by the step of {moved_by})" if moved_by else ""
        return f"clock +{REAPER_ADVANCE.total_seconds() / 3600:g} h{by}: {endpoint} deleted"

    # -- what is there ----------------------------------------------------------------------

    def endpoint_names(self) -> list[str]:
        listed = self.client("sagemaker").list_endpoints(NameContains=self.names.prefix)
        return sorted(e["EndpointName"] for e in listed["Endpoints"])

    def serving(self, endpoint: str) -> dict[str, str]:
        """Variant -> the model package its model was made from (the endpoint's tags say)."""
        variants = self.variants(endpoint)
        return {v["name"]: v["package"] for v in variants}

    def variants(self, endpoint: str) -> list[dict[str, Any]]:
        """Each variant with the model it serves, as the endpoint's tags name it (the engine
        tags ``mlops-portfolio:model-package-arn:<variant>``: a package ARN or an MLflow
        ``mlflow:<name>/<version>``)."""
        sagemaker = self.client("sagemaker")
        try:
            described = sagemaker.describe_endpoint(EndpointName=endpoint)
        except sagemaker.exceptions.ClientError:
            return []
        config = sagemaker.describe_endpoint_config(
            EndpointConfigName=described["EndpointConfigName"]
        )
        listed = sagemaker.list_tags(ResourceArn=described["EndpointArn"])["Tags"]
        tags = {t["Key"]: t["Value"] for t in listed}
        return [
            {
                "name": variant["VariantName"],
                "weight": float(variant.get("InitialVariantWeight", 1.0)),
                "package": tags.get(TAG_PACKAGE_PREFIX + variant["VariantName"], ""),
                "model": variant["ModelName"],
            }
            for variant in config["ProductionVariants"]
        ]

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
            self.settle()
            time.sleep(0.2)

    def record(self, endpoint: str) -> dict[str, Any]:
        found = project_registry.load_record(
            self.client("dynamodb"), self.table, project_registry.endpoint_key(endpoint)
        )
        return found or {}
