"""Alias decisions (the MLflow flavour): an alias set on a version deploys it, moved
updates, removed rolls back.

The decisions change a stage's desired state in its registry record, as approvals and
rejections of model packages do, and the same :class:`Converger` makes the endpoint
follow (settings, blue/green, rollback alarms, autoscaling; the endpoint's InService
then runs the integration tests and notices as for any deployment).

Roll-back: each variant's record keeps the versions it served before (``history``,
newest last). When the alias is removed, the variant goes back to the newest of them
that still exists in MLflow, or is removed when none is left (the baseline's endpoint,
or the advanced challenger variant).

The reconcile (:func:`reconcile_choice`) decides one variant at a time from what the
deploy alias names now on every model that deploys to it (the feature and the dev
model share the development endpoint): see the rule there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from lambda_project_lifecycle.deployments.context import DeploymentContext, ProjectContext
from lambda_project_lifecycle.deployments.convergence import Converger
from lambda_project_lifecycle.deployments.errors import DeployConfigError, StageAccountError
from lambda_project_lifecycle.deployments.mlflow_models import (
    ArtifactMissingError,
    container_of,
    labels_of,
)
from lambda_project_lifecycle.deployments.mlflow_rest import ModelVersion, parse_reference
from lambda_project_lifecycle.deployments.outcomes import Outcome, ignored
from lambda_project_lifecycle.deployments.plan import variant_for
from lambda_project_lifecycle.deployments.records import EndpointRecord, VariantState
from lambda_project_lifecycle.scenarios import STAGE_OF_GROUP

# Whether a version of a registered model still exists: (name, version) -> bool.
VersionExists = Callable[[str, str], bool]


class AliasDecisions:
    def __init__(self, context: DeploymentContext, converger: Converger) -> None:
        self._context = context
        self._converger = converger

    def stage_of(self, group_kind: str) -> str:
        """The stage an alias on ``group_kind``'s model deploys to (staging first, gated)."""
        stage = STAGE_OF_GROUP[group_kind]
        if stage == "production" and self._context.accounts.gated():
            return "staging"
        return stage

    def deploy(
        self, project: ProjectContext, group_kind: str, version: ModelVersion, at: datetime
    ) -> Outcome:
        """Serve exactly ``version`` on the variant of its group's stage."""
        context = self._context
        stage = self.stage_of(group_kind)
        variant = variant_for(project.scenario, stage, group_kind)
        ref = version.reference
        try:
            container = container_of(version, context.platform.client("s3"))
            config = context.stage_config(project, stage)
        except (ArtifactMissingError, DeployConfigError, StageAccountError) as exc:
            return context.failed(project, stage, str(exc), mlflow_model=ref)
        chosen = VariantState(group_kind, ref, at.isoformat(), container, labels_of(version))

        def change(record: EndpointRecord) -> str | None:
            if record.project_deleted:
                return f"project {project.names.project_id} is being deleted"
            current = record.desired.get(variant)
            if current and current.model_package_arn == ref:
                return None  # the same decision again: converge (a no-op when done)
            if current and _later(current.event_time, chosen.event_time):
                return (
                    f"a later change of variant {variant} already chose {current.model_package_arn}"
                )
            record.remember_replaced(variant)
            record.desired[variant] = chosen
            record.reaped.pop(variant, None)  # an alias chose again: the reaper's mark is spent
            return None

        outcome = self._converger.apply(project, config, change)
        outcome.data.update(mlflow_model=ref, variant=variant, run_id=version.run_id)
        return context.announce(project, outcome)

    def removed(
        self,
        project: ProjectContext,
        group_kind: str,
        model_name: str,
        at: datetime,
        exists: VersionExists,
    ) -> Outcome:
        """The alias is gone from ``model_name``: roll its variant back, or remove it."""
        context = self._context
        stage = self.stage_of(group_kind)
        variant = variant_for(project.scenario, stage, group_kind)
        record = context.load_record(project.names.endpoint(stage))
        current = record.desired.get(variant) if record else None
        if record is None or current is None or not _of_model(current, model_name):
            return ignored(f"no version of {model_name} is deployed to variant {variant}")
        previous = next(
            (
                state
                for state in reversed(record.history.get(variant, []))
                if _of_model(state, model_name)
                and state.model_package_arn != current.model_package_arn
                and exists(*_name_version(state))
            ),
            None,
        )
        try:
            config = context.stage_config(project, stage)
        except (DeployConfigError, StageAccountError) as exc:
            return context.failed(project, stage, str(exc), mlflow_model=current.model_package_arn)
        when = at.isoformat()

        def change(record: EndpointRecord) -> str | None:
            state = record.desired.get(variant)
            if state is None or state.model_package_arn != current.model_package_arn:
                return f"{current.model_package_arn} is no longer what variant {variant} serves"
            if _later(state.event_time, when):
                return f"{current.model_package_arn} was chosen again after the alias was removed"
            history = [
                s
                for s in record.history.get(variant, [])
                if s.model_package_arn != current.model_package_arn
            ]
            if previous is not None:
                record.history[variant] = [
                    s for s in history if s.model_package_arn != previous.model_package_arn
                ]
                record.desired[variant] = replace(
                    previous, event_time=when, rolled_back_from=current.model_package_arn
                )
            else:
                record.history[variant] = history
                del record.desired[variant]
            return None

        outcome = self._converger.apply(project, config, change)
        if outcome.action != "ignored":
            back = previous.model_package_arn if previous else ""
            what = (
                f"the alias left {current.model_package_arn}; rolling back to {back}"
                if back
                else f"the alias left {current.model_package_arn} and no version served "
                f"before is left, so variant {variant} is removed"
            )
            outcome.detail = f"{what}. {outcome.detail}".strip()
            outcome.data.update(
                unaliased=current.model_package_arn, rolled_back_to=back, variant=variant
            )
        return context.announce(project, outcome)


# A version the deploy alias names, with the group kind of its model.
Aliased = tuple[str, ModelVersion]


@dataclass(frozen=True)
class ReconcileChoice:
    """What the reconcile does with one variant: ``keep``, ``deploy`` (``chosen``) or
    ``roll back`` (what it serves lost its alias), and why."""

    action: str
    reason: str
    chosen: Aliased | None = None


def reconcile_choice(
    current: VariantState | None, aliased: list[Aliased], reaped: list[str]
) -> ReconcileChoice:
    """The reconcile's rule for one variant, from what it serves (``current``), the
    versions the deploy alias names on the models that deploy to it (``aliased``) and
    what the reaper removed from it (``reaped``).

    1. It serves a version that carries the alias: converged, whichever model's it is
       (two aliased versions share the variant; one run must not flip between them).
    2. Otherwise the newest aliased version by MLflow's ``last_updated_timestamp`` (then
       the higher version number) is deployed, leaving out the versions the reaper
       removed: only an alias moved to another version, or set again (a webhook),
       brings the endpoint back.
    3. With none to deploy, a version whose alias left is rolled back; a roll-back
       already made, or nothing served, stays as it is.
    """
    names = {version.reference for _, version in aliased}
    if current is not None and current.model_package_arn in names:
        return ReconcileChoice("keep", f"it serves {current.model_package_arn}, which is aliased")
    fresh = [(kind, version) for kind, version in aliased if version.reference not in reaped]
    if fresh:
        chosen = max(fresh, key=lambda pair: _recency(pair[1]))
        return ReconcileChoice("deploy", f"the alias names {chosen[1].reference}", chosen)
    if current is not None and not current.rolled_back_from:
        return ReconcileChoice("roll back", f"the alias left {current.model_package_arn}")
    if names:
        return ReconcileChoice(
            "keep",
            f"the reaper removed {', '.join(sorted(names))}: set the alias again to deploy",
        )
    served = current.model_package_arn if current else "nothing"
    return ReconcileChoice("keep", f"it serves {served} and no version is aliased")


def _recency(version: ModelVersion) -> tuple[int, int]:
    return version.updated_ms, int(version.version) if version.version.isdigit() else 0


def _of_model(state: VariantState, model_name: str) -> bool:
    parsed = parse_reference(state.model_package_arn)
    return parsed is not None and parsed[0] == model_name


def _name_version(state: VariantState) -> tuple[str, str]:
    parsed = parse_reference(state.model_package_arn)
    assert parsed is not None
    return parsed


def _later(left: str, right: str) -> bool:
    return datetime.fromisoformat(left) > datetime.fromisoformat(right)
