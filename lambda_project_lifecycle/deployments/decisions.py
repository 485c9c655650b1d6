"""Approval decisions: an approved model goes to its group's stage, a rejected one is rolled
back to the previous approved model of its group (or its variant is removed).

The stage's registry record holds the desired state (variant -> exact model); a
decision changes it and the :class:`Converger` makes the endpoint follow. Models
and their approval status come from a :class:`ModelSource` (the SageMaker Model
Registry by default).

Concurrent events: a rejection is written to the record before anything else
(``rejected``), and an approval checks the model's status and the record's
rejections when it decides, so an approval and a rejection of the same model
handled at the same moment never deploy it. Of two approvals for the same variant,
the later event wins (the newer package when they share a second).

With ``promotion = "second-approval"``, approving again a production package that passed
in staging promotes what passed (:mod:`~lambda_project_lifecycle.deployments.promotion`).
"""

from __future__ import annotations

from datetime import datetime

from lambda_project_lifecycle.deployments import teardown
from lambda_project_lifecycle.deployments.context import DeploymentContext, ProjectContext
from lambda_project_lifecycle.deployments.convergence import Converger
from lambda_project_lifecycle.deployments.errors import DeployConfigError, StageAccountError
from lambda_project_lifecycle.deployments.model_sources import ModelSource
from lambda_project_lifecycle.deployments.outcomes import Outcome, ignored
from lambda_project_lifecycle.deployments.plan import variant_for
from lambda_project_lifecycle.deployments.promotion import STAGING, Promotion, passed_in_staging
from lambda_project_lifecycle.deployments.records import EndpointRecord, VariantState
from lambda_project_lifecycle.scenarios import STAGE_OF_GROUP


class Decisions:
    def __init__(
        self, context: DeploymentContext, converger: Converger, models: ModelSource
    ) -> None:
        self._context = context
        self._converger = converger
        self._models = models
        self._promotion = Promotion(context, converger)

    def approve(
        self, project: ProjectContext, group_kind: str, model: str, at: datetime
    ) -> Outcome:
        """Deploy exactly ``model``, approved at ``at``, to the variant of its group's stage."""
        context = self._context
        # With a staging account, production approvals go to staging first (promoted to
        # production when its integration tests pass).
        stage = self._stages_of(group_kind)[0]
        variant = variant_for(project.scenario, stage, group_kind)
        status = self._models.approval_status(model)
        if status is None:
            return ignored(f"model package {model} no longer exists")
        if status != "Approved":
            return ignored(f"model package {model} is {status} now; the approval event is stale")
        if stage == STAGING and context.accounts.second_approval():
            # A second approval of a package that passed in staging promotes what passed.
            staging = context.load_record(project.names.endpoint(STAGING))
            if staging is not None and passed_in_staging(staging, model):
                outcome = self._promotion.promote(project, staging)
                outcome.data.update(model_package_arn=model, second_approval=True)
                return outcome
        try:
            config = context.stage_config(project, stage)
        except (DeployConfigError, StageAccountError) as exc:
            return context.failed(project, stage, str(exc), model_package_arn=model)
        chosen = VariantState(group_kind, model, at.isoformat())

        def change(record: EndpointRecord) -> str | None:
            if record.project_deleted:
                return f"project {project.names.project_id} is being deleted"
            rejected_at = record.rejected.get(model)
            if rejected_at and not _after(chosen.event_time, rejected_at):
                return f"{model} was rejected at {rejected_at}, after this approval"
            current = record.desired.get(variant)
            if current and _chosen_later(current, chosen):
                return (
                    f"a later change of variant {variant} already chose {current.model_package_arn}"
                )
            # Decided now, so a rejection handled meanwhile is seen before anything changes.
            now_status = self._models.approval_status(model)
            if now_status != "Approved":
                return f"{model} is {now_status or 'gone'} now, no longer Approved"
            record.rejected.pop(model, None)
            record.desired[variant] = chosen
            return None

        outcome = self._converger.apply(project, config, change)
        outcome.data.update(model_package_arn=model, variant=variant)
        if outcome.action != "ignored" and self._deleted_meanwhile(project):
            return self._remove_for_deleted_project(project, stage, model)
        return context.announce(project, outcome)

    def _deleted_meanwhile(self, project: ProjectContext) -> bool:
        """True when the project's Delete started after this approval was let through."""
        now = self._context.load_project(project.names.project_id)
        return now is None or now.deleting

    def _remove_for_deleted_project(
        self, project: ProjectContext, stage: str, model: str
    ) -> Outcome:
        """A Delete that ran while this approval deployed may have found nothing to remove:
        remove what the approval made (SageMaker busy: once it is done, as the Delete would)."""
        context = self._context
        names = project.names
        removed = teardown.remove_deleted_projects_stage(
            context.hosting(stage),
            names,
            stage,
            context.settings.registry_table,
            now=context.now(),
        )
        when = " once SageMaker is done with it" if removed.pending else ""
        return Outcome(
            "removed",
            names.endpoint(stage),
            stage,
            f"project {names.project_id} was deleted while {model} was being deployed; what "
            f"the deployment made is removed{when}",
            {"removed": removed.as_dict(), "model_package_arn": model},
        )

    def reject(
        self, project: ProjectContext, group_kind: str, group: str, model: str, at: datetime
    ) -> Outcome:
        """A rejected model that is deployed: back to the previous approved one, or remove.

        The rejection is written to the endpoint's record first, deployed or not, so that
        an approval of the same model handled at the same moment never deploys it. With a
        staging account, staging and production are both rolled back.
        """
        outcomes = [
            self._reject_in(stage, project, group_kind, group, model, at)
            for stage in self._stages_of(group_kind)
        ]
        acted = [o for o in outcomes if o.action != "ignored"]
        if len(acted) > 1:
            acted[0].data["also"] = [o.as_dict() for o in acted[1:]]
        return (acted or outcomes)[0]

    def _stages_of(self, group_kind: str) -> tuple[str, ...]:
        """The stages an approval of ``group_kind`` decides (staging first, when gated)."""
        stage = STAGE_OF_GROUP[group_kind]
        if stage == "production" and self._context.accounts.gated():
            return ("staging", "production")
        return (stage,)

    def _reject_in(
        self,
        stage: str,
        project: ProjectContext,
        group_kind: str,
        group: str,
        model: str,
        at: datetime,
    ) -> Outcome:
        context = self._context
        variant = variant_for(project.scenario, stage, group_kind)
        endpoint = project.names.endpoint(stage)
        when = at.isoformat()
        record = context.update_record(
            project, stage, lambda record: record.remember_rejection(model, when)
        )
        current = record.desired.get(variant)
        if current is None or current.model_package_arn != model:
            return ignored(f"{model} is not what variant {variant} of {endpoint} serves")
        if _after(current.event_time, when):
            return ignored(f"{model} was approved again after this rejection")
        try:
            config = context.stage_config(project, stage)
        except (DeployConfigError, StageAccountError) as exc:
            return context.failed(project, stage, str(exc), model_package_arn=model)
        previous = self._models.previous_approved(group, {model, *record.rejected})

        def change(record: EndpointRecord) -> str | None:
            record.remember_rejection(model, when)
            state = record.desired.get(variant)
            if state is None or state.model_package_arn != model:
                return f"{model} is no longer what variant {variant} serves"
            if _after(state.event_time, when):
                return f"{model} was approved again after this rejection"
            if previous:
                record.desired[variant] = VariantState(group_kind, previous, when)
            else:
                del record.desired[variant]
            return None

        outcome = self._converger.apply(project, config, change)
        if outcome.action != "ignored":
            what = (
                f"rejected {model}; rolling back to {previous}"
                if previous
                else f"rejected {model}; no approved package is left in "
                f"{group}, so variant {variant} is removed"
            )
            outcome.detail = f"{what}. {outcome.detail}".strip()
            outcome.data.update(rejected=model, rolled_back_to=previous or "", variant=variant)
        return context.announce(project, outcome)


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
