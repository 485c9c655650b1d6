"""The staging gate: what passed its integration tests in staging is promoted to production.

With a staging account, a production approval deploys to the ``staging`` stage (in the
staging account, with production's settings). When that endpoint is InService and its
integration tests pass, production is made to serve exactly the models staging serves;
tests that fail (or time out) promote nothing, and people are told at each gate.

With ``promotion = "second-approval"`` production waits instead (an AWAITING_APPROVAL
notice) until a package that passed is approved a second time: set it back to
``PendingManualApproval`` (which deploys nothing) and approve it again. That approval
promotes what passed in staging, exactly, if staging still serves it; otherwise it is an
approval like the first (to staging).
"""

from __future__ import annotations

from lambda_project_lifecycle.deployments.context import DeploymentContext, ProjectContext
from lambda_project_lifecycle.deployments.convergence import Converger
from lambda_project_lifecycle.deployments.errors import DeployConfigError, StageAccountError
from lambda_project_lifecycle.deployments.outcomes import Outcome
from lambda_project_lifecycle.deployments.records import IN_SERVICE, EndpointRecord

STAGING = "staging"
PRODUCTION = "production"


class Promotion:
    def __init__(self, context: DeploymentContext, converger: Converger) -> None:
        self._context = context
        self._converger = converger

    def promote(self, project: ProjectContext, staging: EndpointRecord) -> Outcome:
        """Production serves what ``staging`` serves and tested (announced)."""
        context = self._context
        passed = dict(staging.applied)
        try:
            config = context.stage_config(project, PRODUCTION)
        except (DeployConfigError, StageAccountError) as exc:
            return context.failed(project, PRODUCTION, f"not promoted from staging: {exc}")

        def change(record: EndpointRecord) -> str | None:
            if record.project_deleted:
                return f"project {project.names.project_id} is being deleted"
            if record.desired == passed:
                return "production already serves what passed in staging"
            record.desired = dict(passed)
            return None

        outcome = self._converger.apply(project, config, change)
        outcome.data.update(
            promoted_from=staging.endpoint_name,
            variants={v: s.model_package_arn for v, s in passed.items()},
        )
        if outcome.action != "ignored":
            outcome.detail = (
                f"promoted from {staging.endpoint_name}, whose integration tests passed: "
                f"{outcome.detail}"
            )
        return context.announce(project, outcome)

    def await_second_approval(self, project: ProjectContext, staging: EndpointRecord) -> Outcome:
        """Production waits: people are told which packages passed and how to approve them."""
        passed = {v: s.model_package_arn for v, s in staging.applied.items()}
        packages = ", ".join(sorted(set(passed.values())))
        outcome = Outcome(
            "awaiting-approval",
            project.names.endpoint(PRODUCTION),
            PRODUCTION,
            f"{staging.endpoint_name} passed its integration tests with {packages}; production "
            "waits for a second approval: set the package to PendingManualApproval and approve "
            "it again to promote it",
            {"promoted_from": staging.endpoint_name, "variants": passed},
        )
        return self._context.announce(project, outcome)


def passed_in_staging(staging: EndpointRecord | None, model: str) -> bool:
    """True when staging serves ``model`` among what passed its last integration tests."""
    if staging is None or staging.status != IN_SERVICE:
        return False
    result = staging.last_result or {}
    applied = {v: s.model_package_arn for v, s in staging.applied.items()}
    return (
        result.get("status") == "PASSED"
        and result.get("variants") == applied
        and model in applied.values()
    )
