"""What the generators need to know, passed in by ``build.py``: never read from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from lambda_project_lifecycle import __version__
from lambda_project_lifecycle.resource_properties import (
    MODEL_ROLE_ISOLATION_CHOICES,
    PER_PROJECT_MODEL_ROLE,
    SHARED_MODEL_ROLE,
)
from lambda_project_lifecycle.stage_accounts import StageAccountIds

DEFAULT_SSM_PREFIX = "/mlops-portfolio"
__all__ = [
    "DEFAULT_SSM_PREFIX",
    "MODEL_ROLE_ISOLATION_CHOICES",
    "PER_PROJECT_MODEL_ROLE",
    "SHARED_MODEL_ROLE",
    "TemplateSettings",
]


@dataclass(frozen=True)
class TemplateSettings:
    version: str = __version__
    ssm_prefix: str = DEFAULT_SSM_PREFIX
    portfolio_name: str = "MLOps project templates"
    provider_name: str = "ML platform team"
    support_email: str = ""
    # The accounts of the deployment stages; None: every stage in the platform's account.
    stage_accounts: StageAccountIds | None = None
    # Whom SageMaker runs a project's deployed models as: the platform's one model role
    # (``shared``) or a role of the project's own (``per-project``), docs/footprint.md.
    model_role_isolation: str = SHARED_MODEL_ROLE

    @property
    def per_project_model_roles(self) -> bool:
        return self.model_role_isolation == PER_PROJECT_MODEL_ROLE

    @property
    def name_base(self) -> str:
        """What the platform's fixed names start with: the SSM prefix, dashed
        (``mlops-portfolio``)."""
        return self.ssm_prefix.strip("/").replace("/", "-").replace(".", "-")

    @property
    def lifecycle_function_arn_parameter(self) -> str:
        """SSM parameter that holds the lifecycle Lambda's ARN (product templates resolve it)."""
        return f"{self.ssm_prefix}/lifecycle-function-arn"

    @property
    def lifecycle_function_name(self) -> str:
        """The lifecycle Lambda's fixed name. Every project's custom resource keeps the
        function ARN it was created with (CloudFormation refuses to change a ServiceToken),
        so the ARN must outlive a replaced platform stack: ``mlops-portfolio-project-lifecycle``."""
        return f"{self.name_base}-project-lifecycle"

    @property
    def artifacts_bucket_parameter(self) -> str:
        return f"{self.ssm_prefix}/artifacts-bucket"

    @property
    def project_data_bucket_parameter(self) -> str:
        """SSM parameter with the shared bucket of project data (one prefix per project)."""
        return f"{self.ssm_prefix}/project-data-bucket"

    @property
    def permissions_boundary_parameter(self) -> str:
        """SSM parameter with the ARN of the permissions boundary every project role carries."""
        return f"{self.ssm_prefix}/project-role-boundary-arn"

    @property
    def permissions_boundary_name(self) -> str:
        """The boundary's managed policy name before its Region
        (``mlops-portfolio-project-role-boundary-<region>``: IAM names are the account's)."""
        return f"{self.name_base}-project-role-boundary"

    @property
    def model_role_path(self) -> str:
        """The IAM path of the projects' own model roles (``/mlops-portfolio/project-models/``):
        the deployment handlers may pass only roles under it (and the shared model role)."""
        return f"/{self.name_base}/project-models/"

    @property
    def mlflow_tracking_server_parameter(self) -> str:
        """SSM parameter with the platform's MlflowTrackingServer option (product templates of
        the MLflow flavour read it as a parameter of type AWS::SSM::Parameter::Value)."""
        return f"{self.ssm_prefix}/mlflow-tracking-server"

    @property
    def version_parameter(self) -> str:
        return f"{self.ssm_prefix}/version"

    @property
    def repository_secret_prefix(self) -> str:
        """Name prefix of the Secrets Manager secrets with repository tokens that the platform
        may read (``mlops-portfolio/`` by default)."""
        return f"{self.ssm_prefix.strip('/')}/"
