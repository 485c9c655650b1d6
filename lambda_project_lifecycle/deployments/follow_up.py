"""What follows a deployment, on the endpoint's state changes.

InService after a deployment: restore or register autoscaling, run the project's
integration tests, write the result on the stage's record, prune superseded configs
and models, and tell people; a change that waited for the endpoint is applied
instead. InService on another config than the one asked for: SageMaker rolled the
update back. Failed: the reason, and a failed endpoint is cleared away. An endpoint
whose project was deleted while SageMaker was busy with it is removed now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambda_project_lifecycle.deployments import (
    autoscaling,
    endpoints,
    integration_tests,
    records,
    teardown,
)
from lambda_project_lifecycle.deployments.config import StageConfig, payloads_prefix
from lambda_project_lifecycle.deployments.context import DeploymentContext, ProjectContext
from lambda_project_lifecycle.deployments.convergence import Converger
from lambda_project_lifecycle.deployments.errors import (
    DeployConfigError,
    EndpointBusyError,
    PayloadError,
)
from lambda_project_lifecycle.deployments.events import EndpointEvent
from lambda_project_lifecycle.deployments.outcomes import Outcome, ignored
from lambda_project_lifecycle.deployments.promotion import STAGING, Promotion
from lambda_project_lifecycle.deployments.records import EndpointRecord
from lambda_project_lifecycle.naming import ProjectNames

# Integration-test result -> outcome action.
TEST_ACTIONS = {
    "PASSED": "passed",
    "FAILED": "tests-failed",
    "TIMED_OUT": "tests-timed-out",
    "UNTESTED": "untested",
}


class FollowUp:
    def __init__(self, context: DeploymentContext, converger: Converger) -> None:
        self._context = context
        self._converger = converger
        self._promotion = Promotion(context, converger)

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
        context = self._context
        stage = record.stage
        if not record.pending and record.status != records.DEPLOYING:
            return ignored(f"no deployment of {record.endpoint_name} is waiting for InService")
        try:
            config = context.stage_config(project, stage)
        except DeployConfigError as exc:
            return context.failed(project, stage, str(exc))
        if record.pending:
            outcome = self._converger.apply(project, config, lambda _: None)
            if outcome.action != "unchanged":
                return context.announce(project, outcome)
            record = context.load_record(record.endpoint_name) or record
        if record.status != records.DEPLOYING:
            return ignored(f"no deployment of {record.endpoint_name} is waiting for InService")
        hosting = context.hosting(stage)
        endpoint = endpoints.describe_endpoint(hosting.sagemaker, record.endpoint_name) or {}
        if endpoint.get("EndpointStatus") != "InService":
            return ignored(
                f"{record.endpoint_name} is {endpoint.get('EndpointStatus', 'gone')} now; "
                "the InService event is stale"
            )
        serving = str(endpoint.get("EndpointConfigName", "")) or event.config_name
        if serving != record.applied_config:
            return self._rolled_back(project, record, endpoint, serving)
        return self._tested(project, record, endpoint, serving, config, time_left)

    def on_failed(
        self, project: ProjectContext, record: EndpointRecord, event: EndpointEvent
    ) -> Outcome:
        """Tell people why SageMaker failed the endpoint; clear a failed endpoint away.

        A removal that waited for the endpoint (its packages were all rejected while it
        was being created) is carried out now, with the endpoint's configs and models.
        """
        context = self._context
        if record.pending and not record.desired:
            try:
                config = context.stage_config(project, record.stage)
            except DeployConfigError as exc:
                return context.failed(project, record.stage, str(exc))
            return context.announce(project, self._converger.apply(project, config, lambda _: None))
        hosting = context.hosting(record.stage)
        endpoint = endpoints.describe_endpoint(hosting.sagemaker, record.endpoint_name)
        reason = event.failure_reason or str((endpoint or {}).get("FailureReason") or "")
        reason = reason or "SageMaker gave no reason"
        deleted = False
        if endpoint is not None and endpoint.get("EndpointStatus") == "Failed":
            teardown.remove_stage_endpoint(hosting, project.names, record.stage)
            record.applied_config, record.applied = "", {}
            deleted = True
        record.status = records.FAILED
        record.last_result = {
            "status": "FAILED",
            "reason": reason,
            "config": event.config_name,
            "deployment_id": record.deployment_id,
        }
        context.save_result(record)
        detail = f"SageMaker reports the endpoint failed: {reason}"
        if deleted:
            detail += " (the failed endpoint is being deleted; approve a package to deploy again)"
        return context.announce(
            project,
            Outcome("failed", record.endpoint_name, record.stage, detail, dict(record.last_result)),
        )

    def finish_project_delete(self, record: EndpointRecord) -> Outcome:
        """Remove an endpoint its project's Delete had to leave to SageMaker (then its record)."""
        context = self._context
        try:
            removed = teardown.finish_project_delete(
                context.platform,
                record,
                context.settings.registry_table,
                hosting=context.hosting(record.stage),
            )
        except EndpointBusyError as exc:
            return ignored(f"{exc}; it goes with its deleted project on its next state change")
        project = ProjectContext(ProjectNames(record.project_name, record.project_id), "")
        return context.announce(
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

    def _rolled_back(
        self,
        project: ProjectContext,
        record: EndpointRecord,
        endpoint: dict[str, Any],
        serving: str,
    ) -> Outcome:
        """SageMaker went back to the config it served before the update (alarm, failure)."""
        reason = str(endpoint.get("FailureReason") or "no reason given")
        # The update may have deregistered scaling of the variants it changed: the
        # config SageMaker went back to scales as it did before the update.
        kept = {str(v["VariantName"]) for v in endpoint.get("ProductionVariants", [])}
        restore = {v: s for v, s in record.previous_autoscaling.items() if v in kept}
        scaled = self._sync_scaling(project, record, restore)
        record.autoscaling = restore
        record.status = records.ROLLED_BACK
        record.last_result = {
            "status": "ROLLED_BACK",
            "reason": reason,
            "serving_config": serving,
            "wanted_config": record.applied_config,
            "autoscaling": scaled,
        }
        self._context.save_result(record)
        return self._context.announce(
            project,
            Outcome(
                "rolled-back",
                record.endpoint_name,
                record.stage,
                f"SageMaker rolled the deployment back and serves {serving}: {reason}",
                dict(record.last_result),
            ),
        )

    def _tested(
        self,
        project: ProjectContext,
        record: EndpointRecord,
        endpoint: dict[str, Any],
        serving: str,
        config: StageConfig,
        time_left: Callable[[], float] | None,
    ) -> Outcome:
        """The deployment is in service: its scaling, its integration tests, their result."""
        context = self._context
        stage = record.stage
        scaled = self._sync_scaling(project, record, record.autoscaling)
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
            "tested_at": context.now().isoformat(),
            "tests": report.as_dict(),
            "variants": {v: s.model_package_arn for v, s in record.applied.items()},
        }
        context.save_result(record)
        pruned = teardown.prune_superseded(context.hosting(stage), project.names, stage, serving)
        outcome = Outcome(
            TEST_ACTIONS[result],
            record.endpoint_name,
            stage,
            report.summary(),
            {**record.last_result, "autoscaling": scaled, "pruned": pruned.as_dict()},
        )
        context.announce(project, outcome)
        if stage == STAGING and result == "PASSED":
            promotion = (
                self._promotion.await_second_approval(project, record)
                if context.accounts.second_approval()
                else self._promotion.promote(project, record)
            )
            outcome.data["promotion"] = promotion.as_dict()
        return outcome

    def _sync_scaling(
        self, project: ProjectContext, record: EndpointRecord, wanted: dict[str, dict[str, int]]
    ) -> dict[str, list[str]]:
        return autoscaling.sync_scaling(
            self._context.hosting(record.stage).client("application-autoscaling"),
            record.endpoint_name,
            wanted,
            {variant: project.names.scaling_policy(record.stage, variant) for variant in wanted},
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
        context = self._context
        try:
            payloads = integration_tests.load_payloads(
                context.platform.client("s3"),
                context.settings.data_bucket,
                payloads_prefix(project.names.prefix, stage),
            )
        except PayloadError as exc:
            report = integration_tests.IntegrationReport()
            report.cases.append(integration_tests.CaseResult("(payloads)", "-", 0, (str(exc),)))
            return report
        return integration_tests.run_integration_tests(
            integration_tests.runtime_client(context.hosting(stage), config.latency_budget_ms),
            endpoint_name,
            variants,
            payloads,
            config.latency_budget_ms,
            time_left=time_left,
        )
