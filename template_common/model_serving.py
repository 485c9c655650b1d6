"""What a role SageMaker runs project models with may do: read model archives, pull the
serving images, write the endpoints' logs. No model-package, pipeline, secret or repository
permission. The platform's shared model role, a stage account's model role and a project's
own model role (``model_role_isolation = "per-project"``) are all made of these statements;
they differ only in whose archives and logs.
"""

from __future__ import annotations

from typing import Any

from awacs import logs as logs_actions
from awacs import s3 as s3_actions
from awacs.aws import Allow, Statement

from lambda_project_lifecycle.naming import NAME_PREFIX
from template_common.arns import regional_arn
from template_common.images import image_pull_statements

# The log groups SageMaker writes an endpoint's container logs to.
ENDPOINT_LOG_GROUPS = "log-group:/aws/sagemaker/Endpoints/"
EVERY_PROJECTS_ENDPOINTS = f"{NAME_PREFIX}-*"


def model_serving_statements(
    model_archives: Any, endpoints: str = EVERY_PROJECTS_ENDPOINTS
) -> list[Statement]:
    """Read ``model_archives`` (an S3 object ARN pattern), pull images, and write the logs of
    the endpoints named ``endpoints`` (a name pattern ending in ``*``, which also covers
    their log streams; ``${...}`` are the template's parameters)."""
    return [
        Statement(
            Sid="ModelArchivesOnly",
            Effect=Allow,
            Action=[s3_actions.GetObject],
            Resource=[model_archives],
        ),
        *image_pull_statements(),
        Statement(
            Sid="EndpointLogs",
            Effect=Allow,
            Action=[
                logs_actions.CreateLogGroup,
                logs_actions.CreateLogStream,
                logs_actions.PutLogEvents,
                logs_actions.DescribeLogStreams,
            ],
            Resource=[regional_arn("logs", f"{ENDPOINT_LOG_GROUPS}{endpoints}")],
        ),
    ]
