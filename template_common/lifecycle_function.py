"""The shared lifecycle Lambda's timing: the platform runs it, every product's custom
resource waits for it."""

LIFECYCLE_TIMEOUT_SECONDS = 300
# How long CloudFormation waits for the lifecycle's answer (the custom resource's
# ServiceTimeout, set by every product template): a minute more than the Lambda may run.
LIFECYCLE_SERVICE_TIMEOUT_SECONDS = LIFECYCLE_TIMEOUT_SECONDS + 60
# CloudFormation invokes the lifecycle asynchronously. A retry would run the same request
# again after it was answered (and re-make what the rollback deletes), so there is none;
# a request queued longer than this could not be answered before CloudFormation stops
# waiting, so Lambda drops it.
LIFECYCLE_MAX_EVENT_AGE_SECONDS = LIFECYCLE_SERVICE_TIMEOUT_SECONDS - LIFECYCLE_TIMEOUT_SECONDS
