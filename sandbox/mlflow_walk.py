"""One MLflow-registry project walked from a feature branch to production, with aliases.

The same walk as :class:`sandbox.project_walk.ProjectWalk`, as the seed README's "How
an MLflow project deploys" tells a team: the builds register MLflow model versions
(lineage as version tags); the alias ``approved`` on a version is the approval, its
removal the rollback. Each alias change reaches the platform as MLflow's own webhook,
delivered by the run's tracking server to the platform's ``MlflowWebhookUrl`` (a
Lambda function URL, :mod:`sandbox.function_urls`); a step waits for that delivery to
be answered, then for what the platform does. :class:`SandboxWebhook` is the webhook,
registered once per run as the README tells platform engineers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lambda_project_lifecycle.deployments.mlflow_models import DEPLOY_ALIAS
from sandbox.embedded_aws import EmbeddedAws
from sandbox.mlflow_tracking import WEBHOOK_CACHE_SECONDS
from sandbox.project_walk import ProjectWalk, RegisteredModel, WalkCheckFailed, check
from sandbox.studio import CreatedProject

WEBHOOK_NAME = "mlops-portfolio-sync"
WEBHOOK_EVENTS = ("model_version_alias.created", "model_version_alias.deleted")
DELIVERY_WAIT_SECONDS = 30.0
# How long the walk watches for a delivery that must not come (MLflow sends within ms).
QUIET_SECONDS = 0.5
# How long a paused webhook may still be delivered to: MLflow's webhook cache (its TTL here).
CACHE_FORGETS_SECONDS = float(WEBHOOK_CACHE_SECONDS) + 0.25
# MLflowReconcileSchedule's default, rate(10 minutes): the clock moved on by one run.
RECONCILE_ADVANCE = timedelta(minutes=10)
# The tag the seed's promotion gives a copied version (pipelines/mlflow_registry.py).
APPROVAL_STATUS_TAG = "approval_status"


@dataclass
class SandboxWebhook:
    """The run's one webhook on the tracking server, to the platform's function URL."""

    aws: EmbeddedAws
    client: Any  # MlflowClient of the tracking server
    webhook_id: str
    url: str

    @classmethod
    def register(cls, aws: EmbeddedAws, outputs: dict[str, str]) -> SandboxWebhook:
        """As README tells platform engineers: ``MlflowWebhookUrl``, the secret named by
        ``MlflowWebhookSecretArn``, the alias created and deleted events."""
        from mlflow import MlflowClient

        if aws.mlflow is None:
            raise WalkCheckFailed("the embedded AWS runs no MLflow tracking server")
        secret = aws.emulator.client("secretsmanager").get_secret_value(
            SecretId=outputs["MlflowWebhookSecretArn"]
        )["SecretString"]
        client = MlflowClient(tracking_uri=aws.mlflow.wait_until_serving())
        webhook = client.create_webhook(
            name=WEBHOOK_NAME,
            url=outputs["MlflowWebhookUrl"],
            events=list(WEBHOOK_EVENTS),
            secret=secret,
            description="mlops-portfolio: aliases deploy (the sandbox's walk)",
        )
        return cls(aws, client, str(webhook.webhook_id), outputs["MlflowWebhookUrl"])

    @property
    def host(self) -> str:
        return str(urlsplit(self.url).hostname)

    def answered(self, about: str = "") -> int:
        """Deliveries answered so far (of those whose payload holds ``about``: a project's
        id, in its model's name, tells one walk's from another's beside it)."""
        return self.aws.function_urls.answered(self.host, about)

    def delivered_after(self, before: int, about: str = "") -> int:
        """The HTTP status the function URL answered the delivery after ``before`` with."""
        deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
        while self.answered(about) <= before:
            if time.monotonic() > deadline:
                raise WalkCheckFailed(f"no webhook delivery reached {self.url}")
            time.sleep(0.05)
        return self.aws.function_urls.answers(self.host, about)[before].status

    def set_status(self, status: str) -> None:
        """``ACTIVE`` or ``DISABLED`` (paused: MLflow sends it nothing)."""
        self.client.update_webhook(self.webhook_id, status=status)


class MlflowProjectWalk(ProjectWalk):
    """The walk of one MLflow project; alias changes instead of approval statuses."""

    model_word = "MLflow version"
    approve_word = f"set alias {DEPLOY_ALIAS} on"

    def __init__(
        self,
        aws: EmbeddedAws,
        project: CreatedProject,
        work: Path,
        registry_table: str,
        webhook: Callable[[], SandboxWebhook],
    ) -> None:
        """``webhook``: the run's webhook, registered by the first walk that asks for it."""
        super().__init__(aws, project, work, registry_table)
        self._webhook = webhook

    @property
    def webhook(self) -> SandboxWebhook:
        return self._webhook()

    @property
    def mlflow(self) -> Any:
        """MLflow's client of the run's tracking server."""
        return self.webhook.client

    # -- the registry -----------------------------------------------------------------------

    def models(self, kind: str) -> list[RegisteredModel]:
        name = self.names.model_package_group(kind)
        found = self.mlflow.search_model_versions(f"name = '{name}'")
        aliased = self._aliases(name)
        return sorted(
            (
                RegisteredModel(
                    version=int(v.version),
                    ref=f"mlflow:{name}/{v.version}",
                    status=aliased.get(str(v.version))
                    or dict(v.tags).get(APPROVAL_STATUS_TAG, "no alias"),
                    commit=dict(v.tags).get("commit_id", ""),
                    lineage=dict(v.tags),
                )
                for v in found
            ),
            key=lambda m: m.version,
        )

    def _aliases(self, name: str) -> dict[str, str]:
        """version -> "alias a, b" of the registered model ``name``."""
        from mlflow.exceptions import MlflowException

        try:
            aliases = dict(self.mlflow.get_registered_model(name).aliases or {})
        except MlflowException:
            return {}
        by_version: dict[str, list[str]] = {}
        for alias, version in aliases.items():
            by_version.setdefault(str(version), []).append(alias)
        return {v: "alias " + ", ".join(sorted(a)) for v, a in by_version.items()}

    def _newest(self, kind: str) -> RegisteredModel:
        model = self.newest_model(kind)
        check(model is not None, f"no MLflow version of {self.names.model_package_group(kind)}")
        assert model is not None
        return model

    def approve_newest(self, kind: str) -> str:
        model = self._newest(kind)
        name = self.names.model_package_group(kind)
        self._delivered(
            lambda: self.mlflow.set_registered_model_alias(name, DEPLOY_ALIAS, str(model.version))
        )
        return model.ref

    def withdraw_newest(self, kind: str) -> tuple[str, str]:
        model = self._newest(kind)
        name = self.names.model_package_group(kind)
        self._delivered(lambda: self.mlflow.delete_registered_model_alias(name, DEPLOY_ALIAS))
        return model.ref, f"alias {DEPLOY_ALIAS} removed from {kind} v{model.version}"

    def _delivered(self, change: Callable[[], object]) -> None:
        """Make ``change``; wait for its webhook's answer (200) and what the platform does."""
        mine = self.names.project_id
        before = self.webhook.answered(mine)
        change()
        status = self.webhook.delivered_after(before, mine)
        check(status == 200, f"the webhook delivery was answered {status}")
        self.settle()

    # -- steps of their own -----------------------------------------------------------------

    def missed_webhook_healed(self) -> str:
        """The alias set again while the webhook is paused: no delivery; the reconcile (the
        clock moved on by its schedule) deploys it."""
        kind = self.production_groups()[0]
        endpoint = self.names.endpoint("production")
        model = self._newest(kind)
        name = self.names.model_package_group(kind)
        self.webhook.set_status("DISABLED")
        try:
            time.sleep(CACHE_FORGETS_SECONDS)  # MLflow's webhook cache forgets it
            before = self.webhook.answered()
            self.mlflow.set_registered_model_alias(name, DEPLOY_ALIAS, str(model.version))
            time.sleep(QUIET_SECONDS)
            self.aws.settle()
            check(self.webhook.answered() == before, "the paused webhook delivered")
            check(
                model.ref not in self.serving(endpoint).values(),
                f"{endpoint} serves {model.ref} before the reconcile ran",
            )
        finally:
            self.webhook.set_status("ACTIVE")
        self.aws.clock.advance(RECONCILE_ADVANCE)
        self.aws.settle()
        served = self.serving(endpoint)
        check(model.ref in served.values(), f"the reconcile left {endpoint} serving {served}")
        # The feature and dev versions keep their alias: the reconcile must not bring back
        # the development endpoint the reaper removed (the reaper step comes first).
        development = self.names.endpoint("development")
        check(
            development not in self.endpoint_names(),
            f"the reconcile re-created {development}, which the reaper had removed",
        )
        summary = self.tested(endpoint, served, "the reconcile")
        return (
            f"webhook paused, alias {DEPLOY_ALIAS} on {kind} v{model.version}: nothing delivered; "
            f"clock +{RECONCILE_ADVANCE.total_seconds() / 60:g} min: the reconcile deployed it, "
            f"{endpoint} InService, {self._variants_text(endpoint)}; {summary}; the reaped "
            "development endpoint stays deleted"
        )
