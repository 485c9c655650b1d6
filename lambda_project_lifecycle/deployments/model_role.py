"""The role SageMaker runs a project's models as: a model role, never the project's
training role.

The training role may update the model packages of the project's groups (approving one
deploys it), read the repository token and run pipelines: an inference container must not
hold it. A model role reads only model archives, pulls the images the models need and writes
endpoint logs; no model-package, pipeline, secret or repository permission. Which one:

1. in a stage account of its own, that account's model role (its target-account stack);
2. the project's own model role, when its product template made one (platform setting
   ``model_role_isolation = "per-project"``): its ARN came with the lifecycle custom
   resource's ``ModelRoleArn`` property and is in the project's registry record; it reads
   only that project's archives;
3. else the platform's shared ``ModelExecutionRole`` (archives of every project), which costs
   no IAM role per project (docs/footprint.md).
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
        in_stage_account = self._context.accounts.model_role_arn(stage)
        if in_stage_account:
            return in_stage_account
        if project.model_role_arn:
            return project.model_role_arn
        role = self._context.settings.model_role_arn
        if not role:
            raise DeploymentError(
                f"The Lambda environment variable {MODEL_ROLE_ENV} (the models' role) is not set"
            )
        return role
