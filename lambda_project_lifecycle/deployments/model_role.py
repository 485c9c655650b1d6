"""The role SageMaker runs a project's models as: the platform's model role, never the
project's training role.

The training role may update the model packages of the project's groups (approving one
deploys it), read the repository token and run pipelines: an inference container must not
hold it. The model role (``ModelExecutionRole`` of the platform stack) reads only model
archives (``*.tar.gz`` under the projects' prefixes of the data bucket), pulls the images the
models need and writes endpoint logs; no model-package, pipeline, secret or repository
permission. One role serves every project, so models cost no IAM role per project (the
account's role quota binds at the training roles, docs/footprint.md).
In a stage account of its own, the models run as that account's model role (made by its
target-account stack, equally limited to model archives).
"""

from __future__ import annotations

from lambda_project_lifecycle.deployments.context import DeploymentContext, ProjectContext
from lambda_project_lifecycle.deployments.errors import DeploymentError
from lambda_project_lifecycle.environment import MODEL_ROLE_ENV


class ModelRoles:
    """The role each project's models run as."""

    def __init__(self, context: DeploymentContext) -> None:
        self._context = context

    def role_for(self, project: ProjectContext, stage: str) -> str:
        del project  # one role for every project of an account
        in_stage_account = self._context.accounts.model_role_arn(stage)
        if in_stage_account:
            return in_stage_account
        role = self._context.settings.model_role_arn
        if not role:
            raise DeploymentError(
                f"The Lambda environment variable {MODEL_ROLE_ENV} (the models' role) is not set"
            )
        return role
