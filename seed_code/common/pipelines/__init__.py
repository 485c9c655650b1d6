"""Training pipeline, CI entry point, promotion and local runs of this project.

Everything project-specific (names, bucket, model groups) comes from
``project.json`` at the repository root; see :mod:`pipelines.project`.
"""
