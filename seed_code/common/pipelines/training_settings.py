"""What the pipeline trains with: change these, push, and the pipeline follows.

The one home of the hyperparameters and the registration threshold. Read by
the SageMaker pipeline (pipelines/definition.py, which passes the
hyperparameters to the training job and records them as lineage), by the
local run (pipelines/local.py) and, through the arguments it is given, by
steps/train.py, so every run trains the same model the same way.

Adding a hyperparameter: add it here and read it in ``model_arguments()`` of
steps/train.py. A hyperparameter set here that the training script does not
read, or one it reads that is missing here, fails ``make test``, ``make plan``
and the training job with an error naming this file.
"""

from __future__ import annotations

from pathlib import PurePosixPath

SETTINGS_FILE = PurePosixPath("pipelines/training_settings.py")  # how errors name this file

# scikit-learn framework image for training, processing and serving:
# sagemaker-scikit-learn:<FRAMEWORK_VERSION>-cpu-py3
FRAMEWORK_VERSION = "1.9-0"

# Passed to steps/train.py as --<name> <value>; recorded on every registered model.
HYPERPARAMETERS: dict[str, int | float | str | bool] = {
    "n_estimators": 100,
    "max_depth": 3,
    "learning_rate": 0.1,
    "random_state": 42,
}

# The condition step registers the model only if this test metric (one of the
# metrics of steps/evaluate.py) reaches MIN_ACCURACY (the pipeline parameter
# MinAccuracy); `make local` gives the same verdict.
THRESHOLD_METRIC = "accuracy"
MIN_ACCURACY = 0.9

PROCESSING_INSTANCE_TYPE = "ml.m5.large"
TRAINING_INSTANCE_TYPE = "ml.m5.large"
# Instance types a registered model declares it can be deployed on (deploy/config.yaml picks one).
INFERENCE_INSTANCE_TYPES = ("ml.m5.large", "ml.m5.xlarge", "ml.c5.large", "ml.c5.xlarge")

# Where the pipeline reads data when no INPUT_DATA_URI is given: the bundled sample,
# uploaded under the project's prefix on the first run.
SAMPLE_DATASET_KEY = "datasets/sample/breast_cancer.csv"
