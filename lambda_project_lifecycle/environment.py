"""The environment the platform stack gives the shared Lambdas: one name for each setting.

The platform template (``portfolio/``) writes these variables and the handlers
read them; both import the names from here, so they cannot drift apart. This
module imports nothing, so that any handler (and the build) can read it cheaply.
"""

REGISTRY_TABLE_ENV = "PROJECT_REGISTRY_TABLE"
NOTIFICATION_TOPIC_ENV = "NOTIFICATION_TOPIC_ARN"
ARTIFACTS_BUCKET_ENV = "ARTIFACTS_BUCKET"
PROJECT_DATA_BUCKET_ENV = "PROJECT_DATA_BUCKET"
PORTFOLIO_VERSION_ENV = "PORTFOLIO_VERSION"
SEED_CODE_KEY_ENV = "SEED_CODE_KEY_{scenario}"  # the scenario in upper case
MLFLOW_TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
MODEL_ROLE_ENV = "MODEL_EXECUTION_ROLE_ARN"
MODEL_ROLE_ISOLATION_ENV = "MODEL_ROLE_ISOLATION"  # shared | per-project
WEBHOOK_SECRET_ENV = "NOTIFICATION_WEBHOOK_SECRET_ARN"
MLFLOW_WEBHOOK_SECRET_ENV = "MLFLOW_WEBHOOK_SECRET_ARN"
# The registry table's time-to-live attribute (Unix seconds), as the platform template
# enables it: DynamoDB deletes a record after that time (handled MLflow webhook deliveries).
REGISTRY_TTL_ATTRIBUTE = "TimeToLive"
# The self-hosted MLflow server's credentials of the platform's user (a Secrets Manager
# ARN; its JSON holds username and password); empty for the other tracking servers.
MLFLOW_CREDENTIALS_SECRET_ENV = "MLFLOW_CREDENTIALS_SECRET_ARN"
# Where the project builds reach the self-hosted MLflow server (its VPC, the comma-separated
# private subnets, the security group its load balancer admits); empty for the other servers.
MLFLOW_VPC_ENV = "MLFLOW_VPC_ID"
MLFLOW_SUBNETS_ENV = "MLFLOW_SUBNET_IDS"
MLFLOW_CLIENT_SECURITY_GROUP_ENV = "MLFLOW_CLIENT_SECURITY_GROUP_ID"
