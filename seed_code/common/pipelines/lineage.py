"""Lineage recorded on every registered model, so any model can be traced back.

SageMaker stores it as the model package's ``CustomerMetadataProperties``
(string keys and values, at most 50 entries of 256 characters) and
``MetadataProperties.CommitId``; MLflow stores the same keys as model-version
tags. Keys:

| key                    | value                                                  |
|------------------------|--------------------------------------------------------|
| ``commit_id``          | the git commit the pipeline was built from             |
| ``branch``             | the branch that was pushed                             |
| ``dataset_uri``        | S3 URI of the input data (pipeline parameter)          |
| ``dataset_sha256``     | SHA-256 of the input files, computed by preprocess     |
| ``dataset_rows``       | rows read by preprocess                                |
| ``hyperparameters``    | the training hyperparameters, as sorted JSON           |
| ``metric.<name>``      | each test metric of evaluate (accuracy, f1, ...)       |
| ``pipeline_execution`` | ARN of the pipeline execution that trained the model   |
| ``promoted_from``      | only on promoted copies: the source model's ARN/version |
| ``promoted_commit``    | only on promoted copies: the prod commit promoted at   |
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

COMMIT_ID = "commit_id"
BRANCH = "branch"
DATASET_URI = "dataset_uri"
DATASET_SHA256 = "dataset_sha256"
DATASET_ROWS = "dataset_rows"
HYPERPARAMETERS = "hyperparameters"
METRIC_PREFIX = "metric."
PIPELINE_EXECUTION = "pipeline_execution"
PROMOTED_FROM = "promoted_from"
PROMOTED_COMMIT = "promoted_commit"

MAX_ENTRIES = 50
MAX_VALUE_LENGTH = 256


def hyperparameters_value(hyperparameters: Mapping[str, Any]) -> str:
    """Sorted, compact JSON: the same hyperparameters always give the same string."""
    value = json.dumps(dict(hyperparameters), sort_keys=True, separators=(",", ":"))
    if len(value) > MAX_VALUE_LENGTH:
        raise ValueError(
            f"hyperparameters take {len(value)} characters as JSON; model metadata values "
            f"hold at most {MAX_VALUE_LENGTH}"
        )
    return value


def metric_key(name: str) -> str:
    return f"{METRIC_PREFIX}{name}"


def model_metadata(
    *,
    commit: str,
    branch: str,
    dataset_uri: Any,
    dataset_sha256: Any,
    dataset_rows: Any,
    hyperparameters: Mapping[str, Any],
    metrics: Mapping[str, Any],
    pipeline_execution: Any,
) -> dict[str, Any]:
    """The metadata of a newly trained model; values may be pipeline variables."""
    metadata: dict[str, Any] = {
        COMMIT_ID: commit,
        BRANCH: branch,
        DATASET_URI: dataset_uri,
        DATASET_SHA256: dataset_sha256,
        DATASET_ROWS: dataset_rows,
        HYPERPARAMETERS: hyperparameters_value(hyperparameters),
        PIPELINE_EXECUTION: pipeline_execution,
    }
    metadata.update({metric_key(name): value for name, value in metrics.items()})
    if len(metadata) > MAX_ENTRIES - 2:  # room for promoted_from and promoted_commit
        raise ValueError(f"{len(metadata)} metadata entries; keep at most {MAX_ENTRIES - 2}")
    return metadata
