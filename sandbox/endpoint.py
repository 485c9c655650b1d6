"""The emulator with every endpoint gap of :mod:`sandbox.emulator_gaps` filled: what the
sandbox, the publish tests and the benchmarks start."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from moto.core import DEFAULT_ACCOUNT_ID

from sandbox import s3_gaps
from sandbox.cloudformation_gaps import CloudFormationGaps
from sandbox.emulator import DEFAULT_REGION, Emulator
from sandbox.sagemaker_projects import SageMakerProjects
from sandbox.service_catalog import ServiceCatalogAdmin
from sandbox.service_catalog_provisioning import ServiceCatalogProvisioning
from sandbox.stack_sets import StackSetGaps


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
    StackSetGaps().register(emulator)
    return emulator


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sandbox.endpoint [--port N]``: serve the emulator until stopped (SIGTERM
    or SIGINT); prints its endpoint URL on one line once it answers."""
    parser = argparse.ArgumentParser(prog="python -m sandbox.endpoint")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--region", default=DEFAULT_REGION)
    args = parser.parse_args(argv)
    emulator = emulator_with_gaps(region=args.region).start(args.port)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    print(emulator.endpoint_url, flush=True)
    stopped.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
