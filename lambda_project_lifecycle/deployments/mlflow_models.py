"""MLflow model versions as the deployment engine serves them (the MLflow flavour).

The convention, the same in the seed code (``pipelines/mlflow_registry.py``): the
alias :data:`DEPLOY_ALIAS` on a version of one of the project's registered models
(one per group kind, named as the group: ``sagemaker-<name>-<id>-<kind>``) deploys
that version to the group's stage, exactly as an approved model package of that group
would.

Serving: the seed's register step tags each version with ``model_data_url`` (the
model archive its training job wrote, ``model.tar.gz`` with ``model.joblib`` and
``code/inference.py``) and ``inference_image`` (the framework image the SageMaker
flavour's packages are served with). The SageMaker model is that archive in that
image with the same environment: an MLflow version is served byte for byte as the
model package of the same training would be, with no repackaging step, no second
image and no MLflow serving stack in the endpoint.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from lambda_project_lifecycle.aws_calls import MISSING, call_unless
from lambda_project_lifecycle.deployments.errors import DeploymentError
from lambda_project_lifecycle.deployments.mlflow_rest import ModelVersion

DEPLOY_ALIAS = "approved"
MODEL_DATA_TAG = "model_data_url"
IMAGE_TAG = "inference_image"
# The container environment of the seed's framework image (pipelines/definition.py).
SERVING_ENVIRONMENT = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
}
# Lineage tags the endpoint carries, besides the model's name, version and run id.
LINEAGE_TAGS = ("commit_id", "branch", "dataset_sha256", "dataset_rows", "pipeline_execution")
METRIC_PREFIX = "metric."
# SageMaker tag values: letters, digits, spaces and _ . : / = + - @, at most 256.
TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]{0,256}$")
MAX_LABELS = 30


class ArtifactMissingError(DeploymentError):
    """The version names no servable archive, or its archive is gone."""


def container_of(version: ModelVersion, s3: Any) -> dict[str, Any]:
    """The SageMaker container serving ``version``; raises :class:`ArtifactMissingError`."""
    what = f"MLflow model {version.name} version {version.version}"
    url = version.tags.get(MODEL_DATA_TAG, "")
    image = version.tags.get(IMAGE_TAG, "")
    missing = [tag for tag, value in ((MODEL_DATA_TAG, url), (IMAGE_TAG, image)) if not value]
    if missing:
        raise ArtifactMissingError(
            f"{what} has no {' and no '.join(missing)} tag: it was not registered by the "
            "project's pipeline, so there is nothing SageMaker can serve"
        )
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ArtifactMissingError(f"{what}: tag {MODEL_DATA_TAG} {url!r} is not an s3:// URI")
    found = call_unless(
        MISSING | {"404", "NoSuchKey"},
        f"Looking for the model archive {url}",
        s3.head_object,
        Bucket=parsed.netloc,
        Key=parsed.path.lstrip("/"),
    )
    if found is None:
        raise ArtifactMissingError(f"{what}: its model archive {url} does not exist")
    return {"Image": image, "ModelDataUrl": url, "Environment": dict(SERVING_ENVIRONMENT)}


def labels_of(version: ModelVersion) -> dict[str, str]:
    """The endpoint tags for ``version``: model name, version, run id and lineage."""
    labels = {"model-name": version.name, "version": version.version, "run-id": version.run_id}
    for key, value in sorted(version.tags.items()):
        if key in LINEAGE_TAGS or key.startswith(METRIC_PREFIX):
            labels[key] = value
    return {
        key: value
        for key, value in list(labels.items())[:MAX_LABELS]
        if value and TAG_VALUE.match(value)
    }
