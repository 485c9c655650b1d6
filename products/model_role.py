"""The project's own model role (``model_role_isolation = "per-project"``): SageMaker runs
the project's deployed models with it.

It reads only the project's model archives (``*.tar.gz`` under its prefix of the project
data bucket), pulls images and writes the logs of the project's endpoints: no model-package,
pipeline, secret or repository permission, and no other project's archives. It is named by
CloudFormation under the platform's model-role path, the only roles besides the shared one
the deployment handlers may pass. Its ARN reaches the lifecycle Lambda as the custom
resource's ``ModelRoleArn`` property, and the deployment engine reads it from the project's
registry record. Like every project role it carries the platform's permissions boundary.
"""

from __future__ import annotations

from awacs.aws import PolicyDocument
from troposphere import Tags, Template, iam

from lambda_project_lifecycle.naming import NAME_PREFIX
from products.project_roles import permissions_boundary
from template_common.arns import s3_arn
from template_common.model_serving import model_serving_statements
from template_common.settings import TemplateSettings
from template_common.trust import trust_policy

MODEL_ROLE = "ModelRole"
# The project's prefix, as naming.ProjectNames.prefix makes it (never shortened).
PROJECT_PREFIX = f"{NAME_PREFIX}-${{SageMakerProjectName}}-${{SageMakerProjectId}}"


def add_model_role(template: Template, settings: TemplateSettings, tags: Tags) -> iam.Role:
    bucket = f"{{{{resolve:ssm:{settings.project_data_bucket_parameter}}}}}"
    return template.add_resource(
        iam.Role(
            MODEL_ROLE,
            Path=settings.model_role_path,
            Description="SageMaker runs this project's deployed models with this role: its "
            "model archives, image pulls and its endpoints' logs only.",
            AssumeRolePolicyDocument=trust_policy("sagemaker.amazonaws.com"),
            PermissionsBoundary=permissions_boundary(settings),
            Policies=[
                iam.Policy(
                    PolicyName="serve-project-models",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=model_serving_statements(
                            s3_arn(f"{bucket}/{PROJECT_PREFIX}/*.tar.gz"),
                            # endpoint names: sagemaker-<name, maybe cut>-<id>-<stage>
                            f"{NAME_PREFIX}-*-${{SageMakerProjectId}}-*",
                        ),
                    ),
                )
            ],
            Tags=tags,
        )
    )
