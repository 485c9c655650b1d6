"""Scripts that run inside SageMaker jobs, and on your machine through ``pipelines.local``.

Each script is self-contained (standard library, pandas, numpy, scikit-learn):
SageMaker copies a processing script into the container on its own, so it
cannot import this package or ``pipelines``.
"""
