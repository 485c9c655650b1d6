"""Deciding and starting deployments: what the model-deploy and endpoint-events handlers share.

The endpoint's registry record holds the desired state (variant -> exact model
package). Every change follows the same steps: read the record, change the
desired state, converge the endpoint to it, write the record back (conditional
on its revision; a conflict re-reads and decides again). Converging starts a
create or update and returns; when the endpoint is busy, the change is marked
pending and the next "InService" or "Failed" event applies it.

Concurrent events: a rejection is written to the record before anything else
(``rejected``), and an approval checks the package's status and the record's
rejections when it decides. When another handler wrote the record while this one
was already changing the endpoint, this one converges the endpoint again to what
the record now says, so the last decision is what SageMaker serves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lambda_project_lifecycle import project_registry
from lambda_project_lifecycle.aws_calls import MISSING, call_unless, pages
from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import (
    alarms,
    autoscaling,
    endpoints,
    integration_tests,
    records,
    teardown,
)
from lambda_project_lifecycle.deployments.config import (
    StageConfig,
    hosting_instance_types,
    load_schema,
    load_stage_config,
    payloads_prefix,
)
from lambda_project_lifecycle.deployments.errors import (
    DeployConfigError,
    DeploymentError,
    EndpointBusyError,
    PayloadError,
    RecordConflictError,
)
from lambda_project_lifecycle.deployments.events import EndpointEvent, ModelPackageEvent
from lambda_project_lifecycle.deployments.notifications import Notice, Notifier
from lambda_project_lifecycle.deployments.plan import (
    TAG_DEPLOYMENT,
    TAG_EXPIRES_AT,
    TAG_PACKAGE_PREFIX,
    EndpointPlan,
    plan_endpoint,
    variant_for,
)
from lambda_project_lifecycle.deployments.records import EndpointRecord, VariantState
from lambda_project_lifecycle.deployments.settings import DeploySettings
from lambda_project_lifecycle.errors import LifecycleError
from lambda_project_lifecycle.naming import PROJECT_ID_TAG, ProjectNames
from lambda_project_lifecycle.scenarios import STAGE_OF_GROUP

logger = logging.getLogger(__name__)

SAVE_ATTEMPTS = 4
EXPIRES_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# Outcome actions, and the notice status each one is announced with (None: not announced).
NOTICE_STATUS: dict[str, str | None] = {
    "deploying": "STARTED",
    "pending": "PENDING",
    "waiting": "WAITING",
    "removed": "REMOVED",
    "failed": "FAILED",
    "rolled-back": "ROLLED_BACK",
    "passed": "PASSED",
    "tests-failed": "FAILED",
    "tests-timed-out": "TIMED_OUT",
    "untested": "UNTESTED",
    "unchanged": None,
    "ignored": None,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ProjectContext:
    """What the handlers need to know of a project, from its registry record."""

    names: ProjectNames
    scenario: str
    deleting: bool = False  # its Delete has started: approvals are ignored

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ProjectContext:
        return cls(
            ProjectNames(str(record["ProjectName"]), str(record["ProjectId"])),
            str(record["Scenario"]),
            bool(record.get("Deleting", False)),
        )

    @property
    def tags(self) -> list[dict[str, str]]:
        return self.names.tags()


@dataclass
class Outcome:
    action: str
    endpoint_name: str = ""
    stage: str = ""
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "endpoint": self.endpoint_name,
            "stage": self.stage,
            "detail": self.detail,
            **self.data,
        }


def ignored(reason: str, **data: Any) -> Outcome:
    logger.info("Ignored: %s", reason)
    return Outcome("ignored", detail=reason, data=data)


class Deployer:
    def __init__(
        self,
        clients: AwsClients,
        settings: DeploySettings,
        *,
        notifier: Notifier | None = None,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._clients = clients
        self._settings = settings
        self._notifier = notifier
        self._now = now
        self._model_roles: dict[str, str] = {}  # project id -> role its models run as

    # --- shared -----------------------------------------------------------------------

    @property
    def notifier(self) -> Notifier:
        if self._notifier is None:
            secret = self._settings.webhook_secret_arn
            self._notifier = Notifier(
                self._clients.client("sns"),
                self._settings.topic_arn,
                secrets=self._clients.client("secretsmanager") if secret else None,
                webhook_secret_arn=secret,
            )
        return self._notifier

    def load_project(self, project_id: str) -> ProjectContext | None:
        record = project_registry.load_project(
            self._clients.dynamodb, self._settings.registry_table, project_id
        )
        return ProjectContext.from_record(record) if record else None

    def stage_config(self, project: ProjectContext, stage: str) -> StageConfig:
        return load_stage_config(
            self._clients.client("s3"),
            self._settings.data_bucket,
            project.names.prefix,
            stage=stage,
            scenario=project.scenario,
            schema=load_schema(self._settings.schema_path),
            hosting_instance_types=hosting_instance_types(self._clients.sagemaker),
        )

    def announce(self, project: ProjectContext, outcome: Outcome) -> Outcome:
        status = NOTICE_STATUS.get(outcome.action)
        if status is None:
            return outcome
        delivery = self.notifier.send(
            Notice(
                status=status,
                project_name=project.names.project_name,
                project_id=project.names.project_id,
                stage=outcome.stage,
                endpoint_name=outcome.endpoint_name,
                summary=outcome.detail,
                details=outcome.data,
            )
        )
        outcome.data["notified"] = {
            "sns": bool(delivery.sns_message_id),
            "webhook": delivery.webhook,
        }
        return outcome

    def failed(
        self,
        project: ProjectContext,
        stage: str,
        reason: str,
        *,
        announce: bool = True,
        **data: Any,
    ) -> Outcome:
        """A deployment that cannot go ahead: the endpoint is left as it is; people are told
        (by the caller when ``announce`` is False)."""
        logger.error("Deployment to %s of %s failed: %s", stage, project.names.prefix, reason)
        endpoint = project.names.endpoint(stage)
        self._record_result(endpoint, {"status": "FAILED", "reason": reason, **data})
        outcome = Outcome("failed", endpoint, stage, reason, dict(data))
        return self.announce(project, outcome) if announce else outcome

    # --- model package state changes -----------------------------------------------------

    def approve(
        self, project: ProjectContext, group_kind: str, event: ModelPackageEvent
    ) -> Outcome:
        """Deploy exactly ``event.package_arn`` to the variant of its group's stage."""
        stage = STAGE_OF_GROUP[group_kind]
        variant = variant_for(project.scenario, stage, group_kind)
        status = self._approval_status(event.package_arn)
        if status is None:
            return ignored(f"model package {event.package_arn} no longer exists")
        if status != "Approved":
            return ignored(
                f"model package {event.package_arn} is {status} now; the approval event is stale"
            )
        try:
            config = self.stage_config(project, stage)
        except DeployConfigError as exc:
            return self.failed(project, stage, str(exc), model_package_arn=event.package_arn)
        chosen = VariantState(group_kind, event.package_arn, event.time.isoformat())

        def change(record: EndpointRecord) -> str | None:
            if record.project_deleted:
                return f"project {project.names.project_id} is being deleted"
            rejected_at = record.rejected.get(event.package_arn)
            if rejected_at and not _after(chosen.event_time, rejected_at):
                return f"{event.package_arn} was rejected at {rejected_at}, after this approval"
            current = record.desired.get(variant)
            if current and _chosen_later(current, chosen):
                return (
                    f"a later change of variant {variant} already chose {current.model_package_arn}"
                )
            # Decided now, so a rejection handled meanwhile is seen before anything changes.
            now_status = self._approval_status(event.package_arn)
            if now_status != "Approved":
                return f"{event.package_arn} is {now_status or 'gone'} now, no longer Approved"
            record.rejected.pop(event.package_arn, None)
            record.desired[variant] = chosen
            return None

        outcome = self._change(project, config, change)
        outcome.data.update(model_package_arn=event.package_arn, variant=variant)
        return self.announce(project, outcome)

    def reject(self, project: ProjectContext, group_kind: str, event: ModelPackageEvent) -> Outcome:
        """A rejected package that is deployed: back to the previous approved one, or remove.

        The rejection is written to the endpoint's record first, deployed or not, so that
        an approval of the same package handled at the same moment never deploys it.
        """
        stage = STAGE_OF_GROUP[group_kind]
        variant = variant_for(project.scenario, stage, group_kind)
        endpoint = project.names.endpoint(stage)
        when = event.time.isoformat()
        record = self._remember_rejection(project, stage, event.package_arn, when)
        current = record.desired.get(variant)
        if current is None or current.model_package_arn != event.package_arn:
            return ignored(
                f"{event.package_arn} is not what variant {variant} of {endpoint} serves"
            )
        if _after(current.event_time, when):
            return ignored(f"{event.package_arn} was approved again after this rejection")
        try:
            config = self.stage_config(project, stage)
        except DeployConfigError as exc:
            return self.failed(project, stage, str(exc), model_package_arn=event.package_arn)
        previous = self._previous_approved(event.group_name, {event.package_arn, *record.rejected})

        def change(record: EndpointRecord) -> str | None:
            record.remember_rejection(event.package_arn, when)
            state = record.desired.get(variant)
            if state is None or state.model_package_arn != event.package_arn:
                return f"{event.package_arn} is no longer what variant {variant} serves"
            if _after(state.event_time, when):
                return f"{event.package_arn} was approved again after this rejection"
            if previous:
                record.desired[variant] = VariantState(group_kind, previous, when)
            else:
                del record.desired[variant]
            return None

        outcome = self._change(project, config, change)
        if outcome.action != "ignored":
            what = (
                f"rejected {event.package_arn}; rolling back to {previous}"
                if previous
                else f"rejected {event.package_arn}; no approved package is left in "
                f"{event.group_name}, so variant {variant} is removed"
            )
            outcome.detail = f"{what}. {outcome.detail}".strip()
            outcome.data.update(
                rejected=event.package_arn, rolled_back_to=previous or "", variant=variant
            )
        return self.announce(project, outcome)

    def _approval_status(self, package_arn: str) -> str | None:
        """The package's approval status as SageMaker has it now; None when it is gone."""
        package = call_unless(
            MISSING,
            f"Describing model package {package_arn}",
            self._clients.sagemaker.describe_model_package,
            ModelPackageName=package_arn,
        )
        return None if package is None else str(package.get("ModelApprovalStatus", ""))

    def _remember_rejection(
        self, project: ProjectContext, stage: str, package_arn: str, when: str
    ) -> EndpointRecord:
        """Write the rejection onto the stage's record (made if absent); returns it as saved."""
        table = self._settings.registry_table
        name = project.names.endpoint(stage)
        for _ in range(SAVE_ATTEMPTS):
            record = records.load(self._clients.dynamodb, table, name) or EndpointRecord(
                name, project.names.project_id, project.names.project_name, stage
            )
            record.remember_rejection(package_arn, when)
            try:
                records.save(self._clients.dynamodb, table, record, now=self._now())
            except RecordConflictError:
                continue
            return record
        raise DeploymentError(f"the registry record of {name} kept changing; giving up")

    def _previous_approved(self, group_name: str, rejected: set[str]) -> str:
        """The newest approved package of the group not in ``rejected`` ('' if none).

        Newest first: the AWS samples list ascending and take the first, which is
        the oldest approved package, not the previous one.
        """
        for page in pages(
            f"Listing approved packages of {group_name}",
            self._clients.sagemaker.list_model_packages,
            ModelPackageGroupName=group_name,
            ModelApprovalStatus="Approved",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=100,
        ):
            for summary in page.get("ModelPackageSummaryList", []):
                if summary["ModelPackageArn"] not in rejected:
                    return str(summary["ModelPackageArn"])
        return ""

    def _change(
        self,
        project: ProjectContext,
        config: StageConfig,
        change: Callable[[EndpointRecord], str | None],
    ) -> Outcome:
        """Read the record, apply ``change`` (a reason to ignore, or None), converge, save.

        When the save finds that another handler wrote the record meanwhile, the record
        is read again and ``change`` applied again. If ``change`` no longer applies but
        this handler had already changed the endpoint, the endpoint is converged to what
        the record says now, so that nothing this handler started outlives the decision.
        """
        endpoint = project.names.endpoint(config.stage)
        table = self._settings.registry_table
        touched = False
        superseded = ""
        for _ in range(SAVE_ATTEMPTS):
            record = records.load(self._clients.dynamodb, table, endpoint) or EndpointRecord(
                endpoint, project.names.project_id, project.names.project_name, config.stage
            )
            reason = change(record)
            if reason is not None:
                if not touched:
                    return ignored(reason)
                superseded = reason
            try:
                outcome = self.converge(project, record, config)
            except DeployConfigError as exc:
                return self.failed(project, config.stage, str(exc), announce=False)
            touched = True
            try:
                records.save(self._clients.dynamodb, table, record, now=self._now())
            except RecordConflictError as exc:
                logger.info("%s", exc)
                continue
            if superseded:
                outcome.detail = (
                    f"{superseded}; the endpoint follows the latest decision: {outcome.detail}"
                )
                outcome.data["superseded"] = superseded
            return outcome
        raise DeploymentError(f"the registry record of {endpoint} kept changing; giving up")

    # --- converging an endpoint -------------------------------------------------------

    def converge(
        self, project: ProjectContext, record: EndpointRecord, config: StageConfig
    ) -> Outcome:
        """Start making the endpoint serve ``record.desired``; updates ``record``; never waits."""
        names, stage = project.names, config.stage
        name = names.endpoint(stage)
        sagemaker = self._clients.sagemaker
        decision = plan_endpoint(names, project.scenario, config, record.desired)
        endpoint = endpoints.describe_endpoint(sagemaker, name)
        status = str(endpoint["EndpointStatus"]) if endpoint else ""

        if decision.plan is None:
            removed = teardown.Removed()
            if endpoint is not None:
                try:
                    removed = teardown.remove_stage(self._clients, names, stage)
                except EndpointBusyError as exc:
                    # Not deleted: SageMaker is still creating or updating it. The record
                    # says what to remove; the next InService or Failed event removes it.
                    record.pending, record.status = True, records.PENDING
                    return Outcome(
                        "pending",
                        name,
                        stage,
                        f"{decision.reason}; the endpoint is {exc.status} and is removed as "
                        "soon as SageMaker is done with it",
                        {"waiting_for": exc.status},
                    )
            record.applied_config, record.applied, record.autoscaling = "", {}, {}
            record.pending = False
            record.status = records.WAITING if record.desired else records.REMOVED
            action = "waiting" if record.desired else "removed"
            return Outcome(action, name, stage, decision.reason, {"removed": removed.as_dict()})

        plan = decision.plan
        if status in endpoints.BUSY_STATES:
            record.pending, record.status = True, records.PENDING
            return Outcome(
                "pending",
                name,
                stage,
                f"the endpoint is {status}; this change is applied as soon as it is InService",
                {"config": plan.config_name},
            )
        if status == "Failed":
            teardown.remove_stage_endpoint(self._clients, names, stage)
            record.applied_config, record.applied = "", {}
            record.pending, record.status = True, records.PENDING
            return Outcome(
                "pending",
                name,
                stage,
                f"the endpoint had failed ({_reason(endpoint)}) and is being deleted; "
                "approve the package again once it is gone",
                {"config": plan.config_name},
            )
        current = (
            endpoints.describe_endpoint_config(sagemaker, str(endpoint["EndpointConfigName"]))
            if endpoint is not None
            else None
        )
        if current is not None and endpoint is not None:
            _refuse_mode_switch(config, name, current, plan)
        previous_scaling = dict(record.autoscaling)
        self._record_plan(record, plan)
        if endpoint is not None and endpoint.get("EndpointConfigName") == plan.config_name:
            record.pending = False
            if record.status in (records.PENDING, records.WAITING, records.REMOVED):
                record.status = records.DEPLOYING
            return Outcome(
                "unchanged",
                name,
                stage,
                "the endpoint already serves this",
                {"config": plan.config_name},
            )

        now = self._now()
        record.deployment_id = (
            f"{now.strftime('%Y%m%dT%H%M%SZ')}-{plan.config_name.rsplit('-', 1)[-1]}"
        )
        tags = [*plan.tag_list(), {"Key": TAG_DEPLOYMENT, "Value": record.deployment_id}]
        ttl = config.ttl_hours
        if stage == "development" and ttl is not None:
            record.expires_at = (now + timedelta(hours=ttl)).strftime(EXPIRES_FORMAT)
            tags.append({"Key": TAG_EXPIRES_AT, "Value": record.expires_at})
        for variant in plan.variants:
            if endpoints.ensure_model(
                sagemaker,
                variant.model_name,
                variant.state.model_package_arn,
                lambda: self.model_role(project),
                project.tags,
            ):
                record.model_role_arn = self.model_role(project)
        cloudwatch = self._clients.client("cloudwatch")
        alarms.ensure_rollback_alarms(cloudwatch, name, plan.own_alarms, project.tags)
        endpoints.ensure_endpoint_config(sagemaker, plan.config_request())

        guardrails = "created"
        if endpoint is None:
            endpoints.create_endpoint(sagemaker, name, plan.config_name, tags)
        else:
            record.previous_autoscaling = previous_scaling
            guardrails = self._update(names, stage, current, plan, previous_scaling)
            endpoints.retag(
                sagemaker, str(endpoint["EndpointArn"]), tags, stale_prefix=TAG_PACKAGE_PREFIX
            )
        alarms.remove_alarms(
            cloudwatch, name, teardown.alarm_prefix(names, stage), keep=plan.own_alarms.values()
        )
        record.pending, record.status = False, records.DEPLOYING
        served = ", ".join(
            f"{v.name}={v.state.model_package_arn}" + (" (shadow)" if v.shadow else "")
            for v in plan.variants
        )
        verb = (
            "creating the endpoint" if endpoint is None else f"updating the endpoint ({guardrails})"
        )
        return Outcome(
            "deploying",
            name,
            stage,
            f"{verb} with {served}",
            {
                "config": plan.config_name,
                "deployment_id": record.deployment_id,
                "guardrails": guardrails,
                "variants": {v.name: v.state.model_package_arn for v in plan.variants},
                "model_role": record.model_role_arn,
            },
        )

    def _record_plan(self, record: EndpointRecord, plan: EndpointPlan) -> None:
        record.applied_config = plan.config_name
        record.applied = {v.name: v.state for v in plan.variants}
        record.autoscaling = {v.name: v.autoscaling for v in plan.variants if v.autoscaling}

    def _update(
        self,
        names: ProjectNames,
        stage: str,
        current: dict[str, Any] | None,
        plan: EndpointPlan,
        previous_scaling: dict[str, dict[str, int]],
    ) -> str:
        """UpdateEndpoint, blue/green with traffic shifting when the variants keep their shape."""
        sagemaker = self._clients.sagemaker
        name = plan.endpoint_name
        shape_now = _shape(current) if current else None
        planned = {v.name: v.request for v in plan.variants}
        shape_next = {v.name: (v.shadow, v.serverless) for v in plan.variants}
        scaling_client = self._clients.client("application-autoscaling")
        current_variants = {
            v["VariantName"]: v
            for v in [
                *(current or {}).get("ProductionVariants", []),
                *(current or {}).get("ShadowProductionVariants", []),
            ]
        }
        # SageMaker refuses an update that changes the instance type of, or removes, a
        # variant registered for autoscaling: deregister those first (re-registered on
        # InService, or now if SageMaker refuses the update).
        blocking = [
            variant
            for variant in autoscaling.scaled_variants(scaling_client, name)
            if variant not in planned
            or current_variants.get(variant, {}).get("InstanceType")
            != planned[variant].get("InstanceType")
        ]
        if blocking:
            autoscaling.remove_scaling(scaling_client, name, blocking)
        same_shape = shape_now == shape_next
        try:
            endpoints.update_endpoint(
                sagemaker, name, plan.config_name, plan.deployment_config() if same_shape else None
            )
        except LifecycleError:
            restore = {v: previous_scaling[v] for v in blocking if v in previous_scaling}
            if restore:
                autoscaling.apply_scaling(
                    scaling_client,
                    name,
                    restore,
                    {v: names.scaling_policy(stage, v) for v in restore},
                )
            raise
        if same_shape:
            return f"blue/green, {plan.deployment['strategy']}"
        # New variant names: guardrails need the old names, so SageMaker's default applies.
        return "blue/green all at once (the variants changed)"

    def model_role(self, project: ProjectContext) -> str:
        """The role SageMaker runs the project's models as: its own training role if it has one.

        The project's training role (made by its product stack, tagged with the project id)
        trusts SageMaker and reaches only the project's prefix of the data bucket. Projects
        without one (a plain git repository has no training project) use the platform's
        shared model role.
        """
        project_id = project.names.project_id
        if project_id not in self._model_roles:
            role_name = project.names.training_role()
            reply = call_unless(
                frozenset({"NoSuchEntity"}),
                f"Reading the training role {role_name}",
                self._clients.client("iam").get_role,
                RoleName=role_name,
            )
            role = (reply or {}).get("Role") or {}
            tags = {tag["Key"]: tag["Value"] for tag in role.get("Tags", [])}
            if role and tags.get(PROJECT_ID_TAG) == project_id:
                self._model_roles[project_id] = str(role["Arn"])
            else:
                if role:
                    logger.warning(
                        "Role %s is not tagged %s=%s; models run as the shared role",
                        role_name,
                        PROJECT_ID_TAG,
                        project_id,
                    )
                self._model_roles[project_id] = self._settings.model_role_arn
        return self._model_roles[project_id]

    # --- endpoint state changes -------------------------------------------------------

    def on_in_service(
        self,
        project: ProjectContext,
        record: EndpointRecord,
        event: EndpointEvent,
        *,
        time_left: Callable[[], float] | None = None,
    ) -> Outcome:
        """After a deployment: scaling, integration tests, notice; or apply a pending change.

        ``time_left`` (seconds of the Lambda's time) stops the integration tests in time
        to record and report their result.
        """
        stage = record.stage
        if not record.pending and record.status != records.DEPLOYING:
            return ignored(f"no deployment of {record.endpoint_name} is waiting for InService")
        try:
            config = self.stage_config(project, stage)
        except DeployConfigError as exc:
            return self.failed(project, stage, str(exc))
        if record.pending:
            outcome = self._change(project, config, lambda _: None)
            if outcome.action != "unchanged":
                return self.announce(project, outcome)
            reloaded = records.load(
                self._clients.dynamodb, self._settings.registry_table, record.endpoint_name
            )
            record = reloaded or record
        if record.status != records.DEPLOYING:
            return ignored(f"no deployment of {record.endpoint_name} is waiting for InService")
        sagemaker = self._clients.sagemaker
        endpoint = endpoints.describe_endpoint(sagemaker, record.endpoint_name) or {}
        if endpoint.get("EndpointStatus") != "InService":
            return ignored(
                f"{record.endpoint_name} is {endpoint.get('EndpointStatus', 'gone')} now; "
                "the InService event is stale"
            )
        serving = str(endpoint.get("EndpointConfigName", "")) or event.config_name
        names = project.names
        scaling_client = self._clients.client("application-autoscaling")
        if serving != record.applied_config:
            reason = str(endpoint.get("FailureReason") or "no reason given")
            # The update may have deregistered scaling of the variants it changed: the
            # config SageMaker went back to scales as it did before the update.
            kept = {str(v["VariantName"]) for v in endpoint.get("ProductionVariants", [])}
            restore = {v: s for v, s in record.previous_autoscaling.items() if v in kept}
            scaled = autoscaling.sync_scaling(
                scaling_client,
                record.endpoint_name,
                restore,
                {variant: names.scaling_policy(stage, variant) for variant in restore},
            )
            record.autoscaling = restore
            record.status = records.ROLLED_BACK
            record.last_result = {
                "status": "ROLLED_BACK",
                "reason": reason,
                "serving_config": serving,
                "wanted_config": record.applied_config,
                "autoscaling": scaled,
            }
            self._save_result(record)
            return self.announce(
                project,
                Outcome(
                    "rolled-back",
                    record.endpoint_name,
                    stage,
                    f"SageMaker rolled the deployment back and serves {serving}: {reason}",
                    dict(record.last_result),
                ),
            )
        scaled = autoscaling.sync_scaling(
            scaling_client,
            record.endpoint_name,
            record.autoscaling,
            {variant: names.scaling_policy(stage, variant) for variant in record.autoscaling},
        )
        production = [str(v["VariantName"]) for v in endpoint.get("ProductionVariants", [])]
        report = self._integration_tests(
            project, stage, record.endpoint_name, production, config, time_left
        )
        result = (
            "UNTESTED"
            if report.skipped
            else "TIMED_OUT"
            if report.timed_out
            else "PASSED"
            if report.passed
            else "FAILED"
        )
        record.status = (
            records.IN_SERVICE if result in ("PASSED", "UNTESTED") else (records.TESTS_FAILED)
        )
        record.last_result = {
            "status": result,
            "deployment_id": record.deployment_id,
            "config": serving,
            "tested_at": self._now().isoformat(),
            "tests": report.as_dict(),
            "variants": {v: s.model_package_arn for v, s in record.applied.items()},
        }
        self._save_result(record)
        pruned = teardown.prune_superseded(self._clients, names, stage, serving)
        outcome = Outcome(
            {
                "PASSED": "passed",
                "FAILED": "tests-failed",
                "TIMED_OUT": "tests-timed-out",
                "UNTESTED": "untested",
            }[result],
            record.endpoint_name,
            stage,
            report.summary(),
            {
                **record.last_result,
                "autoscaling": scaled,
                "pruned": pruned.as_dict(),
            },
        )
        return self.announce(project, outcome)

    def on_failed(
        self, project: ProjectContext, record: EndpointRecord, event: EndpointEvent
    ) -> Outcome:
        """Tell people why SageMaker failed the endpoint; clear a failed endpoint away.

        A removal that waited for the endpoint (its packages were all rejected while it
        was being created) is carried out now, with the endpoint's configs and models.
        """
        if record.pending and not record.desired:
            try:
                config = self.stage_config(project, record.stage)
            except DeployConfigError as exc:
                return self.failed(project, record.stage, str(exc))
            return self.announce(project, self._change(project, config, lambda _: None))
        sagemaker = self._clients.sagemaker
        endpoint = endpoints.describe_endpoint(sagemaker, record.endpoint_name)
        reason = event.failure_reason or str((endpoint or {}).get("FailureReason") or "")
        reason = reason or "SageMaker gave no reason"
        deleted = False
        if endpoint is not None and endpoint.get("EndpointStatus") == "Failed":
            teardown.remove_stage_endpoint(self._clients, project.names, record.stage)
            record.applied_config, record.applied = "", {}
            deleted = True
        record.status = records.FAILED
        record.last_result = {
            "status": "FAILED",
            "reason": reason,
            "config": event.config_name,
            "deployment_id": record.deployment_id,
        }
        self._save_result(record)
        detail = f"SageMaker reports the endpoint failed: {reason}"
        if deleted:
            detail += " (the failed endpoint is being deleted; approve a package to deploy again)"
        return self.announce(
            project,
            Outcome("failed", record.endpoint_name, record.stage, detail, dict(record.last_result)),
        )

    def finish_project_delete(self, record: EndpointRecord) -> Outcome:
        """Remove an endpoint its project's Delete had to leave to SageMaker (then its record)."""
        try:
            removed = teardown.finish_project_delete(
                self._clients, record, self._settings.registry_table
            )
        except EndpointBusyError as exc:
            return ignored(f"{exc}; it goes with its deleted project on its next state change")
        project = ProjectContext(ProjectNames(record.project_name, record.project_id), "")
        return self.announce(
            project,
            Outcome(
                "removed",
                record.endpoint_name,
                record.stage,
                f"project {record.project_id} was deleted while SageMaker was busy with its "
                f"endpoint {record.endpoint_name}; the endpoint is deleted now",
                {"removed": removed.as_dict()},
            ),
        )

    def _integration_tests(
        self,
        project: ProjectContext,
        stage: str,
        endpoint_name: str,
        variants: list[str],
        config: StageConfig,
        time_left: Callable[[], float] | None = None,
    ) -> integration_tests.IntegrationReport:
        try:
            payloads = integration_tests.load_payloads(
                self._clients.client("s3"),
                self._settings.data_bucket,
                payloads_prefix(project.names.prefix, stage),
            )
        except PayloadError as exc:
            report = integration_tests.IntegrationReport()
            report.cases.append(integration_tests.CaseResult("(payloads)", "-", 0, (str(exc),)))
            return report
        return integration_tests.run_integration_tests(
            integration_tests.runtime_client(self._clients, config.latency_budget_ms),
            endpoint_name,
            variants,
            payloads,
            config.latency_budget_ms,
            time_left=time_left,
        )

    def _save_result(self, record: EndpointRecord) -> None:
        """Write a result onto the record; a concurrent change wins, keeping only the result."""
        table = self._settings.registry_table
        for _ in range(SAVE_ATTEMPTS):
            try:
                records.save(self._clients.dynamodb, table, record, now=self._now())
                return
            except RecordConflictError:
                latest = records.load(self._clients.dynamodb, table, record.endpoint_name)
                if latest is None:
                    return
                latest.last_result = record.last_result
                if not latest.pending:
                    latest.status = record.status
                record = latest
        raise DeploymentError(f"the registry record of {record.endpoint_name} kept changing")

    def _record_result(self, endpoint_name: str, result: dict[str, Any]) -> None:
        record = records.load(self._clients.dynamodb, self._settings.registry_table, endpoint_name)
        if record is None:
            return
        record.last_result = {**result, "at": self._now().isoformat()}
        self._save_result(record)


def _reason(endpoint: dict[str, Any] | None) -> str:
    return str((endpoint or {}).get("FailureReason") or "SageMaker gave no reason")


def _after(left: str, right: str) -> bool:
    """True when ISO time ``left`` is later than ``right``."""
    return datetime.fromisoformat(left) > datetime.fromisoformat(right)


def _chosen_later(current: VariantState, candidate: VariantState) -> bool:
    """True when ``current`` was chosen after ``candidate``'s event.

    Event times have a resolution of one second; two approvals in the same second
    are ordered by package version (the newer package wins).
    """
    mine, theirs = (
        datetime.fromisoformat(current.event_time),
        datetime.fromisoformat(candidate.event_time),
    )
    if mine != theirs:
        return mine > theirs
    return _version(current.model_package_arn) > _version(candidate.model_package_arn)


def _version(model_package_arn: str) -> int:
    tail = model_package_arn.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _refuse_mode_switch(
    config: StageConfig, endpoint_name: str, current: dict[str, Any], plan: EndpointPlan
) -> None:
    """SageMaker cannot update an endpoint between real-time and serverless: refuse, naming
    the stage's ``mode``, before anything is changed."""
    variants = [
        *current.get("ProductionVariants", []),
        *current.get("ShadowProductionVariants", []),
    ]
    serving = {"serverless" if "ServerlessConfig" in v else "realtime" for v in variants}
    wanted = {"serverless" if v.serverless else "realtime" for v in plan.variants}
    if not serving or serving == wanted:
        return
    raise DeployConfigError(
        config.source,
        f"key {config.key('mode')!r}: {endpoint_name} runs {' and '.join(sorted(serving))} "
        f"and the config asks for {' and '.join(sorted(wanted))}; SageMaker cannot update an "
        "endpoint between real-time and serverless, so it keeps serving what it serves. To "
        f"switch, delete the endpoint {endpoint_name} and approve the package again (it is "
        "created in the new mode), or set the mode back",
    )


def _shape(config: dict[str, Any]) -> dict[str, tuple[bool, bool]]:
    """Variant name -> (shadow, serverless) of an endpoint config."""
    shape = {
        str(v["VariantName"]): (False, "ServerlessConfig" in v)
        for v in config.get("ProductionVariants", [])
    }
    shape.update(
        {
            str(v["VariantName"]): (True, "ServerlessConfig" in v)
            for v in config.get("ShadowProductionVariants", [])
        }
    )
    return shape
