"""The events that start the handlers: what the platform's rules and webhooks match, and
what the handlers expect.

The platform template (``portfolio/``) and the product templates (``products/``)
route these events; the handlers check them when they parse an event. Both import
the names from here, so they cannot drift apart. Like ``environment.py``, this
module imports nothing.
"""

# Pushes to a project's CodeCommit repository (the training trigger).
CODECOMMIT_DETAIL_TYPE = "CodeCommit Repository State Change"
PUSH_EVENTS = ("referenceCreated", "referenceUpdated")
# The branches that train (``scenarios.branch_kind``): as an EventBridge pattern of the
# CodeCommit rule, and as the HEAD_REF filter of a hosted repository's CodeBuild webhook.
TRAINED_BRANCHES_EVENT_PATTERN = ("prod", "dev", {"prefix": "feature-"})
BRANCH_PATTERN_FOR_WEBHOOKS = r"^refs/heads/(prod|dev|feature-.+)$"

# Approvals and endpoints (the deployment handlers).
MODEL_PACKAGE_DETAIL_TYPE = "SageMaker Model Package State Change"
ENDPOINT_DETAIL_TYPE = "SageMaker Endpoint State Change"

# MLflow's webhooks (self-hosted servers): the entity and events the MLflow sync acts on,
# which the platform's self-hosted server registers its webhook for.
MLFLOW_ALIAS_ENTITY = "model_version_alias"
MLFLOW_WEBHOOK_EVENTS = (f"{MLFLOW_ALIAS_ENTITY}.created", f"{MLFLOW_ALIAS_ENTITY}.deleted")
