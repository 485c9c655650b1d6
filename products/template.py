"""The product template: what CloudFormation runs for each SageMaker project.

One builder makes every product; a scenario or registry flavour changes only
the properties it passes to the shared lifecycle Lambda. The template holds no
per-project resource with an idle price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from troposphere import GetAtt, Output, Parameter, Ref, Template
from troposphere.cloudformation import CustomResource

from lambda_project_lifecycle import resource_properties as properties
from lambda_project_lifecycle.naming import PROJECT_ID_MAX_LENGTH, PROJECT_NAME_MAX_LENGTH
from lambda_project_lifecycle.scenarios import DEFAULT_ON_DELETE, ON_DELETE_CHOICES
from products import mlflow_builds, training
from products.model_role import add_model_role
from products.project_roles import project_tags
from template_common.catalog import Product
from template_common.lifecycle_function import LIFECYCLE_SERVICE_TIMEOUT_SECONDS
from template_common.settings import TemplateSettings

# The Studio pattern for project names, as CloudFormation applies it (whole value).
STUDIO_PROJECT_NAME_PATTERN = "^[a-zA-Z](-*[a-zA-Z0-9])*"
PARAMETER_RULES_KEY = "SagemakerTemplateParameterRules"
OPTIONAL_RULE = {"Optional": True}
LIFECYCLE_RESOURCE = "ProjectLifecycle"


class ProjectLifecycleResource(CustomResource):
    resource_type = "Custom::ProjectLifecycle"
    props: ClassVar[dict[str, tuple[type, bool]]] = {
        "ServiceToken": (str, True),
        "ServiceTimeout": (int, False),
        "ProjectName": (str, True),
        "ProjectId": (str, True),
        "Scenario": (str, True),
        "Registry": (str, True),
        "OnDelete": (str, True),
        "PortfolioVersion": (str, True),
        **{name: (str, False) for name in properties.REPOSITORY_PROPERTIES},
        properties.MLFLOW_TRACKING_URI_PROPERTY: (str, False),
        properties.MODEL_ROLE_ARN_PROPERTY: (str, False),
    }


@dataclass(frozen=True)
class UserParameter:
    """A parameter the data scientist may set in Studio's "Create project" form."""

    name: str
    label: str
    description: str
    default: str
    allowed_values: tuple[str, ...] = ()
    group: str = "Project settings"
    kind: str = "String"


USER_PARAMETERS: tuple[UserParameter, ...] = (
    UserParameter(
        name="OnDelete",
        label="When the project is deleted",
        description=(
            "retain-data keeps model groups that hold model packages (and the repository); "
            "delete-all removes them with their packages."
        ),
        default=DEFAULT_ON_DELETE,
        allowed_values=ON_DELETE_CHOICES,
    ),
    UserParameter(
        name=properties.PROVIDER,
        label="Git provider",
        description=(
            "codecommit (default): a new CodeCommit repository. github, gitlab, bitbucket: a "
            "repository made with the token in RepositorySecretArn, or an existing empty one "
            "reached through ConnectionArn. git: the existing empty repository at RepositoryUrl."
        ),
        default=properties.DEFAULT_PROVIDER,
        allowed_values=properties.PROVIDERS,
        group="Repository",
    ),
    UserParameter(
        name=properties.OWNER,
        label="Repository owner (GitHub organization or user, GitLab group, Bitbucket workspace)",
        description="Required for github, gitlab and bitbucket.",
        default="",
        group="Repository",
    ),
    UserParameter(
        name=properties.NAME,
        label="Repository name (empty: sagemaker-<project name>-<project id>)",
        description=(
            "Name of the repository to create (or, with a connection, the existing one). "
            "CodeCommit: must start with sagemaker-."
        ),
        default="",
        group="Repository",
    ),
    UserParameter(
        name=properties.CONNECTION,
        label="CodeConnections connection ARN (existing empty repository)",
        description=(
            "An AVAILABLE connection to GitHub, GitLab or Bitbucket in this region; the "
            "repository RepositoryOwner/RepositoryName must exist and be empty."
        ),
        default="",
        group="Repository",
    ),
    UserParameter(
        name=properties.SECRET,
        label="Secrets Manager secret ARN with the token (or git username and token)",
        description=(
            'JSON {"Token": "...", "Hosts": ["<host>"]} (GitHub, GitLab, Bitbucket; CodeBuild\'s '
            'format also works) or {"Username": "...", "Token": "...", "Hosts": ["<host>"]} for '
            "a git URL. The token is sent only to the hosts the secret names. The secret name "
            "must start with the platform's secret prefix."
        ),
        default="",
        group="Repository",
    ),
    UserParameter(
        name=properties.URL,
        label="HTTPS URL of an existing empty repository (git provider)",
        description="Used with RepositoryProvider git only.",
        default="",
        group="Repository",
    ),
    UserParameter(
        name=properties.API_URL,
        label="API URL of GitHub Enterprise Server or self-managed GitLab (empty: cloud service)",
        description="Used with a token; default https://api.github.com, https://gitlab.com/api/v4.",
        default="",
        group="Repository",
    ),
)


# Only the MLflow flavour asks for its tracking server.
MLFLOW_PARAMETERS: tuple[UserParameter, ...] = (
    UserParameter(
        name=properties.MLFLOW_TRACKING_URI_PROPERTY,
        label="MLflow tracking server (empty: the platform's)",
        description=(
            "https:// URL or SageMaker MLflow tracking server ARN where this project's models "
            "are registered; empty uses the tracking server the platform stack names."
        ),
        default="",
        group="MLflow",
    ),
)


def platform_mlflow_parameter(settings: TemplateSettings) -> UserParameter:
    """The platform's tracking server option, which CloudFormation reads from the SSM
    parameter the platform writes: the MLflow builds' conditions need it as a parameter
    (a condition reads parameters only)."""
    return UserParameter(
        name=mlflow_builds.PLATFORM_MLFLOW_PARAMETER,
        label="The platform's MLflow option (SSM parameter; keep the default)",
        description=(
            "Name of the SSM parameter in which the platform stack publishes its "
            "MlflowTrackingServer option; on self-hosted, builds reach the platform's server."
        ),
        default=settings.mlflow_tracking_server_parameter,
        group="MLflow",
        kind="AWS::SSM::Parameter::Value<String>",
    )


def build(product: Product, settings: TemplateSettings) -> Template:
    template = Template(
        Description=f"{product.display_name}: SageMaker project template, "
        f"mlops-portfolio {settings.version}."
    )
    name = template.add_parameter(
        Parameter(
            "SageMakerProjectName",
            Type="String",
            MinLength=1,
            MaxLength=PROJECT_NAME_MAX_LENGTH,
            AllowedPattern=STUDIO_PROJECT_NAME_PATTERN,
            Description="Name of the project (filled in by SageMaker).",
        )
    )
    project_id = template.add_parameter(
        Parameter(
            "SageMakerProjectId",
            Type="String",
            MinLength=1,
            MaxLength=PROJECT_ID_MAX_LENGTH,
            Description="Service-generated id of the project (filled in by SageMaker).",
        )
    )
    extra = MLFLOW_PARAMETERS if product.registry == "mlflow" else ()
    platform = (platform_mlflow_parameter(settings),) if product.registry == "mlflow" else ()
    user_values = _add_user_parameters(template, USER_PARAMETERS + extra + platform)

    # The project's own model role, when the platform isolates models per project: its ARN
    # goes to the lifecycle Lambda, which records it for the deployment handlers.
    own_model_role = (
        {
            properties.MODEL_ROLE_ARN_PROPERTY: GetAtt(
                add_model_role(template, settings, project_tags()), "Arn"
            )
        }
        if settings.per_project_model_roles
        else {}
    )
    lifecycle = template.add_resource(
        ProjectLifecycleResource(
            LIFECYCLE_RESOURCE,
            ServiceToken=f"{{{{resolve:ssm:{settings.lifecycle_function_arn_parameter}}}}}",
            # Above the Lambda's timeout (its deadline timer answers before it), far below
            # CloudFormation's default hour should the Lambda never answer at all.
            ServiceTimeout=LIFECYCLE_SERVICE_TIMEOUT_SECONDS,
            ProjectName=Ref(name),
            ProjectId=Ref(project_id),
            Scenario=product.scenario.name,
            Registry=product.registry,
            OnDelete=user_values["OnDelete"],
            PortfolioVersion=settings.version,
            **{name: user_values[name] for name in properties.REPOSITORY_PROPERTIES},
            **{parameter.name: user_values[parameter.name] for parameter in extra},
            **own_model_role,
        )
    )
    training.add_training(template, product, settings, lifecycle, user_values)
    template.add_output(
        Output(
            "ProjectPrefix",
            Description="Prefix of the names of this project's resources.",
            Value=GetAtt(lifecycle, "ProjectPrefix"),
        )
    )
    if product.registry == "sagemaker":
        template.add_output(
            Output(
                "ModelGroups",
                Description="The project's model package groups.",
                Value=GetAtt(lifecycle, "ModelGroups"),
            )
        )
    return template


def _add_user_parameters(
    template: Template, parameters: tuple[UserParameter, ...]
) -> dict[str, Ref]:
    rules: dict[str, dict[str, object]] = {}
    values: dict[str, Ref] = {}
    for spec in parameters:
        options: dict[str, object] = {
            "Type": spec.kind,
            "Default": spec.default,
            "Description": spec.description,
        }
        if spec.allowed_values:
            options["AllowedValues"] = list(spec.allowed_values)
        parameter = template.add_parameter(Parameter(spec.name, **options))
        template.set_parameter_label(parameter, spec.label)
        template.add_parameter_to_group(parameter, spec.group)
        # Studio's form reads only Optional here (AWS's own project templates use no other
        # key): the field may be left empty, CloudFormation's Default then applies.
        rules[spec.name] = dict(OPTIONAL_RULE)
        values[spec.name] = Ref(parameter)
    template.metadata[PARAMETER_RULES_KEY] = rules
    return values
