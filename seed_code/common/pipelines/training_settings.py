"""What the pipeline trains with: change these, push, and the pipeline follows.

Used by the SageMaker pipeline (pipelines/definition.py) and by the local run
(pipelines/local.py), so both train the same model the same way.
"""

from __future__ import annotations

# scikit-learn framework image for training, processing and serving:
# sagemaker-scikit-learn:<FRAMEWORK_VERSION>-cpu-py3
FRAMEWORK_VERSION = "1.9-0"

# Passed to steps/train.py as --<name> <value>; recorded on every registered model.
HYPERPARAMETERS: dict[str, int | float] = {
    "n_estimators": 100,
    "max_depth": 3,
    "learning_rate": 0.1,
    "random_state": 42,
}

# The condition step registers the model only if its test accuracy reaches this
# (the pipeline parameter MinAccuracy).
THRESHOLD_METRIC = "accuracy"
MIN_ACCURACY = 0.9

PROCESSING_INSTANCE_TYPE = "ml.m5.large"
TRAINING_INSTANCE_TYPE = "ml.m5.large"
# Instance types a registered model declares it can be deployed on (deploy/config.yaml picks one).
INFERENCE_INSTANCE_TYPES = ("ml.m5.large", "ml.m5.xlarge", "ml.c5.large", "ml.c5.xlarge")

# Where the pipeline reads data when no INPUT_DATA_URI is given: the bundled sample,
# uploaded under the project's prefix on the first run.
SAMPLE_DATASET_KEY = "datasets/sample/breast_cancer.csv"
