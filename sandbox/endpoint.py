"""The emulator with every endpoint gap of :mod:`sandbox.emulator_gaps` filled: what the
sandbox, the publish tests and the benchmarks start."""

from __future__ import annotations

from moto.core import DEFAULT_ACCOUNT_ID

from sandbox import s3_gaps
from sandbox.cloudformation_gaps import CloudFormationGaps
from sandbox.emulator import DEFAULT_REGION, Emulator
from sandbox.sagemaker_projects import SageMakerProjects
from sandbox.service_catalog import ServiceCatalogAdmin
from sandbox.service_catalog_provisioning import ServiceCatalogProvisioning


def emulator_with_gaps(
    *, region: str = DEFAULT_REGION, account_id: str = DEFAULT_ACCOUNT_ID
) -> Emulator:
    """An emulator (not started) with CloudFormation, S3, Service Catalog and SageMaker
    project stand-ins registered."""
    emulator = Emulator(region=region, account_id=account_id)
    CloudFormationGaps().register(emulator)
    s3_gaps.register(emulator)
    ServiceCatalogAdmin().register(emulator)
    ServiceCatalogProvisioning().register(emulator)
    SageMakerProjects().register(emulator)
    return emulator
