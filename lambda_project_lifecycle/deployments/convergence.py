"""Converging a stage's endpoint to the desired state its registry record holds.

Every change follows the same steps (:meth:`Converger.apply`): read the record,
change the desired state, converge the endpoint to it, write the record back
(conditional on its revision; a conflict re-reads and decides again). Converging
starts a create or update and returns; when the endpoint is busy, the change is
marked pending and the next "InService" or "Failed" event applies it.

When another handler wrote the record while this one was already changing the
endpoint, this one converges the endpoint again to what the record now says, so
the last decision is what SageMaker serves. An update keeps the variants' shape
for a blue/green deployment with traffic shifting and the stage's rollback alarms.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments import alarms, autoscaling, endpoints, records, teardown
from lambda_project_lifecycle.deployments.config import StageConfig
from lambda_project_lifecycle.deployments.context import DeploymentContext, ProjectContext
from lambda_project_lifecycle.deployments.errors import (
    DeployConfigError,
    DeploymentError,
    EndpointBusyError,
    RecordConflictError,
)
from lambda_project_lifecycle.deployments.model_role import ModelRoles
from lambda_project_lifecycle.deployments.outcomes import Outcome, ignored
from lambda_project_lifecycle.deployments.plan import (
    TAG_DEPLOYMENT,
    TAG_EXPIRES_AT,
    TAG_MLFLOW_PREFIX,
    TAG_PACKAGE_PREFIX,
    EndpointPlan,
    plan_endpoint,
)
from lambda_project_lifecycle.deployments.records import EndpointRecord
from lambda_project_lifecycle.errors import LifecycleError

logger = logging.getLogger(__name__)

EXPIRES_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# A change of the desired state: a reason to ignore the event, or None once applied.
Change = Callable[[EndpointRecord], str | None]


class Converger:
    def __init__(self, context: DeploymentContext, roles: ModelRoles) -> None:
        self._context = context
        self._roles = roles

    def apply(self, project: ProjectContext, config: StageConfig, change: Change) -> Outcome:
        """Read the record, apply ``change``, converge, save.

        When the save finds that another handler wrote the record meanwhile, the record
        is read again and ``change`` applied again. If ``change`` no longer applies but
        this handler had already changed the endpoint, the endpoint is converged to what
        the record says now, so that nothing this handler started outlives the decision.
        """
        context = self._context
        touched = False
        superseded = ""
        for _ in range(records.SAVE_ATTEMPTS):
            record = context.load_or_new_record(project, config.stage)
            reason = change(record)
            if reason is not None:
                if not touched:
                    return ignored(reason)
                superseded = reason
            try:
                outcome = self.converge(project, record, config)
            except DeployConfigError as exc:
                return context.failed(project, config.stage, str(exc), announce=False)
            touched = True
            try:
                context.save_record(record)
            except RecordConflictError as exc:
                logger.info("%s", exc)
                continue
            if superseded:
                outcome.detail = (
                    f"{superseded}; the endpoint follows the latest decision: {outcome.detail}"
                )
                outcome.data["superseded"] = superseded
            return outcome
        endpoint = project.names.endpoint(config.stage)
        raise DeploymentError(f"the registry record of {endpoint} kept changing; giving up")

    def converge(
        self, project: ProjectContext, record: EndpointRecord, config: StageConfig
    ) -> Outcome:
        """Start making the endpoint serve ``record.desired``; updates ``record``; never waits."""
        names, stage = project.names, config.stage
        name = names.endpoint(stage)
        hosting = self._context.hosting(stage)
        decision = plan_endpoint(names, project.scenario, config, record.desired)
        endpoint = endpoints.describe_endpoint(hosting.sagemaker, name)
        status = str(endpoint["EndpointStatus"]) if endpoint else ""

        if decision.plan is None:
            return self._remove(project, record, stage, decision.reason, endpoint is not None)
        plan = decision.plan
        if (
            status == "Creating"
            and endpoint
            and endpoint.get("EndpointConfigName") == plan.config_name
        ):
            # another invocation of the same decision created it: already done
            return self._unchanged(
                record, plan, name, stage, "the endpoint is being created with this"
            )
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
            teardown.remove_stage_endpoint(hosting, names, stage)
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
            endpoints.describe_endpoint_config(
                hosting.sagemaker, str(endpoint["EndpointConfigName"])
            )
            if endpoint is not None
            else None
        )
        if current is not None and endpoint is not None:
            _refuse_mode_switch(config, name, current, plan)
        previous_scaling = dict(record.autoscaling)
        if endpoint is not None and endpoint.get("EndpointConfigName") == plan.config_name:
            return self._unchanged(record, plan, name, stage, "the endpoint already serves this")
        before = (record.applied_config, dict(record.applied), previous_scaling)
        _record_plan(record, plan)
        try:
            return self._deploy(project, record, config, plan, endpoint, current, previous_scaling)
        except EndpointBusyError as exc:
            # Another invocation created or started updating the endpoint since it was
            # described: nothing failed, this change waits for its next state change.
            record.applied_config, record.applied, record.autoscaling = before
            record.pending, record.status = True, records.PENDING
            return Outcome(
                "pending",
                name,
                stage,
                f"the endpoint is {exc.status} (another invocation changed it meanwhile); "
                "this change is applied as soon as it is InService",
                {"config": plan.config_name, "waiting_for": exc.status},
            )

    def _unchanged(
        self, record: EndpointRecord, plan: EndpointPlan, name: str, stage: str, why: str
    ) -> Outcome:
        _record_plan(record, plan)
        record.pending = False
        if record.status in (records.PENDING, records.WAITING, records.REMOVED):
            record.status = records.DEPLOYING
        return Outcome("unchanged", name, stage, why, {"config": plan.config_name})

    def _remove(
        self, project: ProjectContext, record: EndpointRecord, stage: str, why: str, exists: bool
    ) -> Outcome:
        """Nothing left to serve (or only a challenger): remove the stage's endpoint."""
        name = project.names.endpoint(stage)
        removed = teardown.Removed()
        if exists:
            try:
                removed = teardown.remove_stage(self._context.hosting(stage), project.names, stage)
            except EndpointBusyError as exc:
                # Not deleted: SageMaker is still creating or updating it. The record
                # says what to remove; the next InService or Failed event removes it.
                record.pending, record.status = True, records.PENDING
                return Outcome(
                    "pending",
                    name,
                    stage,
                    f"{why}; the endpoint is {exc.status} and is removed as "
                    "soon as SageMaker is done with it",
                    {"waiting_for": exc.status},
                )
        record.applied_config, record.applied, record.autoscaling = "", {}, {}
        record.pending = False
        record.status = records.WAITING if record.desired else records.REMOVED
        action = "waiting" if record.desired else "removed"
        return Outcome(action, name, stage, why, {"removed": removed.as_dict()})

    def _deploy(
        self,
        project: ProjectContext,
        record: EndpointRecord,
        config: StageConfig,
        plan: EndpointPlan,
        endpoint: dict[str, Any] | None,
        current: dict[str, Any] | None,
        previous_scaling: dict[str, dict[str, int]],
    ) -> Outcome:
        """Models, alarms and the config of ``plan``, then create or update the endpoint."""
        names, stage = project.names, config.stage
        name = names.endpoint(stage)
        hosting = self._context.hosting(stage)
        sagemaker = hosting.sagemaker
        now = self._context.now()
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
                lambda: self._roles.role_for(project, stage),
                project.tags,
                variant.state.container,
            ):
                record.model_role_arn = self._roles.role_for(project, stage)
        cloudwatch = hosting.client("cloudwatch")
        alarms.ensure_rollback_alarms(cloudwatch, name, plan.own_alarms, project.tags)
        endpoints.ensure_endpoint_config(sagemaker, plan.config_request())

        guardrails = "created"
        if endpoint is None:
            endpoints.create_endpoint(sagemaker, name, plan.config_name, tags)
        else:
            record.previous_autoscaling = previous_scaling
            guardrails = _update(hosting, project, stage, current, plan, previous_scaling)
            endpoints.retag(
                sagemaker,
                str(endpoint["EndpointArn"]),
                tags,
                stale_prefix=(TAG_PACKAGE_PREFIX, TAG_MLFLOW_PREFIX),
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


def _record_plan(record: EndpointRecord, plan: EndpointPlan) -> None:
    record.applied_config = plan.config_name
    record.applied = {v.name: v.state for v in plan.variants}
    record.autoscaling = {v.name: v.autoscaling for v in plan.variants if v.autoscaling}


def _update(
    hosting: AwsClients,
    project: ProjectContext,
    stage: str,
    current: dict[str, Any] | None,
    plan: EndpointPlan,
    previous_scaling: dict[str, dict[str, int]],
) -> str:
    """UpdateEndpoint, blue/green with traffic shifting when the variants keep their shape."""
    name = plan.endpoint_name
    shape_now = _shape(current) if current else None
    planned = {v.name: v.request for v in plan.variants}
    shape_next = {v.name: (v.shadow, v.serverless) for v in plan.variants}
    scaling_client = hosting.client("application-autoscaling")
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
            hosting.sagemaker,
            name,
            plan.config_name,
            plan.deployment_config() if same_shape else None,
        )
    except LifecycleError:
        restore = {v: previous_scaling[v] for v in blocking if v in previous_scaling}
        if restore:
            autoscaling.apply_scaling(
                scaling_client,
                name,
                restore,
                {v: project.names.scaling_policy(stage, v) for v in restore},
            )
        raise
    if same_shape:
        return f"blue/green, {plan.deployment['strategy']}"
    # New variant names: guardrails need the old names, so SageMaker's default applies.
    return "blue/green all at once (the variants changed)"


def _reason(endpoint: dict[str, Any] | None) -> str:
    return str((endpoint or {}).get("FailureReason") or "SageMaker gave no reason")


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
