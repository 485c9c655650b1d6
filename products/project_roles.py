"""What every role and resource a project stack makes shares: the project tags, and the
platform's permissions boundary on every role (the launch role may create none without it,
``portfolio.project_role_boundary``)."""

from __future__ import annotations

from troposphere import Ref, Tags

from lambda_project_lifecycle.naming import PROJECT_ID_TAG, PROJECT_NAME_TAG
from template_common.settings import TemplateSettings


def project_tags() -> Tags:
    return Tags(
        **{
            PROJECT_NAME_TAG: Ref("SageMakerProjectName"),
            PROJECT_ID_TAG: Ref("SageMakerProjectId"),
        }
    )


def permissions_boundary(settings: TemplateSettings) -> str:
    """The boundary's ARN, resolved from the SSM parameter the platform publishes."""
    return f"{{{{resolve:ssm:{settings.permissions_boundary_parameter}}}}}"
