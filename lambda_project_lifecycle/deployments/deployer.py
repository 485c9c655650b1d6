"""The deployment engine, assembled: what the model-deploy and endpoint-events handlers drive.

Its parts, one job each:

* :mod:`.decisions` - approvals and rejections change a stage's desired state;
* :mod:`.alias_decisions` - so do MLflow aliases (set, moved, removed);
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

import os

from lambda_project_lifecycle.clients import AwsClients
from lambda_project_lifecycle.deployments.accounts import stage_accounts_from_environment
from lambda_project_lifecycle.deployments.alias_decisions import AliasDecisions
from lambda_project_lifecycle.deployments.context import DeploymentContext
from lambda_project_lifecycle.deployments.convergence import Converger
from lambda_project_lifecycle.deployments.decisions import Decisions
from lambda_project_lifecycle.deployments.follow_up import FollowUp
from lambda_project_lifecycle.deployments.model_role import ModelRoles
from lambda_project_lifecycle.deployments.model_sources import ModelRegistry, ModelSource
from lambda_project_lifecycle.deployments.settings import DeploySettings

# The clients of this Lambda container: created on first use, kept for its warm invocations.
CONTAINER_CLIENTS = AwsClients()


class Deployer:
    def __init__(self, context: DeploymentContext, *, models: ModelSource | None = None) -> None:
        self.context = context
        converger = Converger(context, ModelRoles(context))
        self.decisions = Decisions(context, converger, models or ModelRegistry(context.platform))
        self.aliases = AliasDecisions(context, converger)
        self.follow_up = FollowUp(context, converger)

    @classmethod
    def from_environment(cls, clients: AwsClients | None = None) -> Deployer:
        """The engine as the platform stack sets it up (``DeploySettings.from_environment``),
        with this container's clients unless given others."""
        settings = DeploySettings.from_environment()
        platform = clients or CONTAINER_CLIENTS
        accounts = stage_accounts_from_environment(platform, os.environ)
        return cls(DeploymentContext(platform, settings, accounts=accounts))
