"""checkov checks that do not fit the design, skipped on the resources they concern.

checkov reads ``Metadata.checkov.skip`` of a resource; every skip here carries the
reason the build prints and the review reads. There is no global skip list: a generator
adds the skips of the resource it makes (``Metadata=skip_metadata(...)``), so a new
resource of the same type is checked until someone says why a check does not fit it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CheckovSkip:
    check_id: str
    reason: str


LAMBDA_OUTSIDE_VPC = CheckovSkip(
    "CKV_AWS_117",
    "Calls only AWS APIs and HTTPS git and webhook hosts; a VPC would add NAT or endpoints "
    "per region and keep nothing out",
)
LAMBDA_UNRESERVED_CONCURRENCY = CheckovSkip(
    "CKV_AWS_115",
    "A reservation fails in accounts at the minimum concurrency quota and takes capacity from "
    "every other function; bursts are bounded by the platform's events",
)
LAMBDA_VARIABLES_ARE_NAMES = CheckovSkip(
    "CKV_AWS_173",
    "The variables are resource names, no secrets (tokens stay in Secrets Manager); Lambda "
    "encrypts them at rest with its AWS managed key",
)
FAILED_EVENTS_TO_ON_FAILURE_DESTINATION = CheckovSkip(
    "CKV_AWS_116",
    "A failed asynchronous event goes to the on-failure destination (the platform's "
    "FailedEventsQueue), whose record names the function for the re-drive; a DLQ would not",
)
LOGS_DEFAULT_ENCRYPTION = CheckovSkip(
    "CKV_AWS_158",
    "CloudWatch Logs encrypts log data at rest; nothing secret is logged, and a customer "
    "managed key would add an idle price per key",
)
TABLE_DEFAULT_ENCRYPTION = CheckovSkip(
    "CKV_AWS_119",
    "Encrypted at rest by DynamoDB (SSEEnabled, AWS managed key); holds project settings, no "
    "secrets, and a customer managed key would add an idle price",
)
BUCKET_ACCESS_AUDITED_BY_CLOUDTRAIL = CheckovSkip(
    "CKV_AWS_18",
    "Object access is audited with the account's CloudTrail data events; server access logs "
    "would need a log bucket of their own in every region",
)
QUEUE_SSE_SQS = CheckovSkip(
    "CKV_AWS_27",
    "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled); a KMS key would need grants for "
    "Lambda and EventBridge to deliver, and add an idle price",
)


def skip_metadata(*skips: CheckovSkip) -> dict[str, Any]:
    """The ``Metadata`` that makes checkov skip ``skips`` on one resource, with reasons."""
    return {"checkov": {"skip": [{"id": s.check_id, "comment": s.reason} for s in skips]}}


FUNCTION_URL_VERIFIED_BY_SIGNATURE = CheckovSkip(
    "CKV_AWS_258",
    "MLflow cannot sign webhook deliveries with SigV4; the handler verifies each delivery's "
    "HMAC-SHA256 signature, refuses it after 5 minutes and ignores a repeated delivery id",
)
MLFLOW_SECRET_DEFAULT_KEY = CheckovSkip(
    "CKV_AWS_149",
    "Encrypted with the Secrets Manager AWS managed key; a customer managed key would add an "
    "idle price and a grant for every reader",
)
BOUNDARY_CAPS_NOT_GRANTS = CheckovSkip(
    "CKV_AWS_111",
    "A permissions boundary grants nothing: it caps the project roles, whose own policies "
    "scope every write to the project's resources; SageMaker lists and ECR tokens have no "
    "resource scope, so the cap cannot name one",
)

# The self-hosted MLflow server (portfolio/mlflow_self_hosted.py).
MLFLOW_SECRET_DEFAULT_KEY = CheckovSkip(
    "CKV_AWS_149",
    "Encrypted with Secrets Manager's AWS managed key; read only by the MLflow task's execution "
    "role and the platform's functions (IAM), and a customer managed key adds an idle price",
)
MLFLOW_DATABASE_IAM_AUTH = CheckovSkip(
    "CKV_AWS_162",
    "MLflow's SQLAlchemy store logs in with a password from its secret; IAM tokens expire "
    "every 15 minutes and MLflow cannot renew them",
)
MLFLOW_LOAD_BALANCER_LOGS = CheckovSkip(
    "CKV_AWS_91",
    "An internal load balancer for the platform's functions and builds; access logs need a "
    "log bucket with an ELB policy per region, MLflow logs every request itself",
)
MLFLOW_CLUSTER_WITHOUT_INSIGHTS = CheckovSkip(
    "CKV_AWS_65",
    "One task; Container Insights bills custom metrics per task every hour, the idle price this "
    "option keeps low",
)
MLFLOW_FUNCTIONS_IN_VPC = CheckovSkip(
    "CKV_AWS_111",
    "The network-interface actions Lambda needs for a function in a VPC support no resource "
    "scope (AWSLambdaVPCAccessExecutionRole grants them the same way)",
)
MLFLOW_DATABASE_MONITORING = CheckovSkip(
    "CKV_AWS_118",
    "Enhanced monitoring runs an agent that bills CloudWatch Logs every minute, also while the "
    "database is paused at 0 ACUs; Performance Insights is off for the same reason",
)
