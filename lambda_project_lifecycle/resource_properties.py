"""Properties of the ``Custom::ProjectLifecycle`` resource that name a project's repository
and tracking server: one name for each.

Every product template declares one parameter of the same name and passes it on
(``products/``); the lifecycle handler reads and checks them
(``repositories.settings``). Both import the names from here, so they cannot drift
apart. Like ``environment.py``, this module imports nothing.
"""

PROVIDERS = ("codecommit", "github", "gitlab", "bitbucket", "git")
DEFAULT_PROVIDER = "codecommit"

PROVIDER = "RepositoryProvider"
OWNER = "RepositoryOwner"
NAME = "RepositoryName"
CONNECTION = "ConnectionArn"
SECRET = "RepositorySecretArn"
URL = "RepositoryUrl"
API_URL = "ProviderApiUrl"
# Every repository property; none of them may change once the project exists.
REPOSITORY_PROPERTIES = (PROVIDER, OWNER, NAME, CONNECTION, SECRET, URL, API_URL)

# Optional property of the custom resource (MLflow flavour); overrides the Lambda's
# MLFLOW_TRACKING_URI, which the platform stack's parameter of the same name sets.
MLFLOW_TRACKING_URI_PROPERTY = "MlflowTrackingUri"
# The property's value when it names a SageMaker MLflow tracking server or app: the ARN
# scopes the training role's sagemaker-mlflow permission (so no wildcard) and says where
# the deployment functions find the server.
MLFLOW_SERVER_ARN_PATTERN = (
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):\d{12}:"
    r"(?P<kind>mlflow-[a-z-]+)/(?P<name>[A-Za-z0-9](?:-*[A-Za-z0-9])*)$"
)

# Optional property: the ARN of the project's own model role (product templates built with
# model_role_isolation "per-project"); without it the project's models run as the platform's
# shared model role.
MODEL_ROLE_ARN_PROPERTY = "ModelRoleArn"
# Whom a project's models run as, the platform setting model_role_isolation (the platform
# stack's ModelRoleIsolation parameter): the shared model role, or a role of the project's own.
SHARED_MODEL_ROLE = "shared"
PER_PROJECT_MODEL_ROLE = "per-project"
MODEL_ROLE_ISOLATION_CHOICES = (SHARED_MODEL_ROLE, PER_PROJECT_MODEL_ROLE)
MODEL_ROLE_ISOLATION_PARAMETER = "ModelRoleIsolation"

# Attributes (Fn::GetAtt) of the custom resource of an MLflow project: its tracking server,
# and how its builds reach the platform's self-hosted one (``mlflow_build_access``; empty
# for any other server).
MLFLOW_TRACKING_URI_ATTRIBUTE = "MlflowTrackingUri"
MLFLOW_BUILD_CREDENTIALS_ATTRIBUTE = "MlflowBuildCredentialsArn"
MLFLOW_BUILD_VPC_ATTRIBUTE = "MlflowBuildVpcId"
MLFLOW_BUILD_SUBNETS_ATTRIBUTE = "MlflowBuildSubnetIds"  # comma-separated
MLFLOW_BUILD_SECURITY_GROUP_ATTRIBUTE = "MlflowBuildSecurityGroupId"
# The platform stack's MlflowTrackingServer option, as the product templates' conditions
# read it (an SSM parameter the platform writes; its value is the option's).
MLFLOW_SELF_HOSTED_OPTION = "self-hosted"
