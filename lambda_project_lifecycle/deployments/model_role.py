"""The role SageMaker runs a project's models as: its own training role if it has one.

The project's training role (made by its product stack, tagged with the project id)
trusts SageMaker and reaches only the project's prefix of the data bucket. Projects
without one (a plain git repository has no training project) use the platform's
shared model role (in a stage account of its own: that account's model role, made by
its target-account stack). The role is looked up in the account that hosts the stage.
"""

from __future__ import annotations

import logging

from lambda_project_lifecycle.aws_calls import call_unless
from lambda_project_lifecycle.deployments.context import DeploymentContext, ProjectContext
from lambda_project_lifecycle.naming import PROJECT_ID_TAG

logger = logging.getLogger(__name__)


class ModelRoles:
    """Each project's model role, looked up once per invocation."""

    def __init__(self, context: DeploymentContext) -> None:
        self._context = context
        self._known: dict[tuple[str, str], str] = {}  # (stage, project id) -> role ARN

    def role_for(self, project: ProjectContext, stage: str) -> str:
        project_id = project.names.project_id
        key = (stage, project_id)
        if key not in self._known:
            self._known[key] = self._look_up(project, stage)
        return self._known[key]

    def _look_up(self, project: ProjectContext, stage: str) -> str:
        project_id = project.names.project_id
        role_name = project.names.training_role()
        reply = call_unless(
            frozenset({"NoSuchEntity"}),
            f"Reading the training role {role_name}",
            self._context.hosting(stage).client("iam").get_role,
            RoleName=role_name,
        )
        role = (reply or {}).get("Role") or {}
        tags = {tag["Key"]: tag["Value"] for tag in role.get("Tags", [])}
        if role and tags.get(PROJECT_ID_TAG) == project_id:
            return str(role["Arn"])
        if role:
            logger.warning(
                "Role %s is not tagged %s=%s; models run as the shared role",
                role_name,
                PROJECT_ID_TAG,
                project_id,
            )
        return self._context.accounts.model_role_arn(stage) or self._context.settings.model_role_arn
