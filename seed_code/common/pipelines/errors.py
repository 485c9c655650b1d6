"""The errors this repository's tools raise on purpose.

Each message says what is wrong and what to do; ``python -m pipelines.ci``
prints it as one line and exits non-zero (the traceback only with ``--debug``).
"""

from __future__ import annotations


class SeedError(Exception):
    """Root of every error raised on purpose by the ``pipelines`` package."""


class ProjectFileError(SeedError):
    """``project.json`` is missing, unreadable or breaks its schema."""


class DeployConfigError(SeedError):
    """``deploy/config.yaml`` is unreadable or breaks its schema."""


class BuildEnvironmentError(SeedError):
    """The CI build lacks something it needs (branch, commit, role)."""


class PipelineRunError(SeedError):
    """The SageMaker pipeline could not be started or did not succeed."""


class PromotionError(SeedError):
    """Nothing to promote, or the registry or git history could not be read."""


class LocalRunError(SeedError):
    """``python -m pipelines.local`` was pointed at a directory it must not overwrite."""
