"""The deployment engine, assembled: what the model-deploy and endpoint-events handlers drive.

Its parts, one job each:

* :mod:`.decisions` - approvals and rejections change a stage's desired state;
* :mod:`.convergence` - the endpoint is made to serve the desired state;
* :mod:`.model_role` - the role a project's models run as;
* :mod:`.follow_up` - what follows on the endpoint's InService or Failed.

They share a :class:`~.context.DeploymentContext` (clients, settings, clock, notices,
the stage's record). Two seams are open: where approved models come from
(:class:`~.model_sources.ModelSource`, the SageMaker Model Registry by default), and
which account hosts each stage (:class:`~.accounts.StageAccounts`, the platform's own
by default).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments.accounts import StageAccounts
from lambda_project_lifecycle.deployments.context import DeploymentContext, utc_now
from lambda_project_lifecycle.deployments.convergence import Converger
from lambda_project_lifecycle.deployments.decisions import Decisions
from lambda_project_lifecycle.deployments.follow_up import FollowUp
from lambda_project_lifecycle.deployments.model_role import ModelRoles
from lambda_project_lifecycle.deployments.model_sources import ModelRegistry, ModelSource
from lambda_project_lifecycle.deployments.notifications import Notifier
from lambda_project_lifecycle.deployments.settings import DeploySettings


class Deployer:
    def __init__(
        self,
        clients: AwsClients,
        settings: DeploySettings,
        *,
        notifier: Notifier | None = None,
        now: Callable[[], datetime] = utc_now,
        models: ModelSource | None = None,
        accounts: StageAccounts | None = None,
    ) -> None:
        self.context = DeploymentContext(
            clients, settings, notifier=notifier, now=now, accounts=accounts
        )
        converger = Converger(self.context, ModelRoles(self.context))
        self.decisions = Decisions(self.context, converger, models or ModelRegistry(clients))
        self.follow_up = FollowUp(self.context, converger)
