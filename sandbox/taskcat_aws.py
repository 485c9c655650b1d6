"""The embedded AWS that ``python build.py taskcat --emulator`` runs taskcat against.

:class:`TaskcatAws` starts the emulator with its endpoint gaps, the run's CA, the Lambda
runtime, custom resources (the real lifecycle handler answers them), the resource types moto
skips, nested stacks (:mod:`sandbox.nested_stacks`), CodeCommit's git endpoint of each
region (the lifecycle seeds each project's repository over HTTPS) and the proxy that is
taskcat's network (:mod:`sandbox.aws_proxy`). taskcat's process reaches all of it through
:meth:`TaskcatAws.environment`; nothing of taskcat is changed.

After the run (and the checks of :mod:`portfolio_build.taskcat_checks`, which remove what
the platform keeps on delete), :meth:`TaskcatAws.leftovers` lists whatever is still in the
emulator in the run's regions: stacks not deleted, model groups, repositories, tables and
buckets. An honest run leaves none.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from sandbox.aws_proxy import AwsProxy
from sandbox.cloudformation_models import ResourceModels
from sandbox.codecommit_git import CodeCommitGitEndpoint
from sandbox.codecommit_tags import CodeCommitTags
from sandbox.custom_resources import CustomResources
from sandbox.emulator import Emulator
from sandbox.endpoint import emulator_with_gaps
from sandbox.lambda_runtime import LambdaRuntime
from sandbox.nested_stacks import NestedStacks
from sandbox.s3_policy_conditions import SignatureVersionConditions
from sandbox.sagemaker_registry import ModelRegistry
from sandbox.tls import CertificateAuthority

# Lambda's asynchronous retries (1 and 2 minutes on AWS), shortened for a run of seconds.
RETRY_DELAYS = (1.0, 2.0)


class TaskcatAws:
    """The emulator and its parts for ``regions``, started; a context manager."""

    def __init__(self, regions: tuple[str, ...]) -> None:
        self.regions = regions
        self.directory = Path(tempfile.mkdtemp(prefix="taskcat-aws-"))
        self.emulator: Emulator = emulator_with_gaps(region=regions[0]).start()
        try:
            self.authority = CertificateAuthority.create(self.directory / "ca")
            self.runtime = LambdaRuntime(
                self.emulator, environment=self.authority.environment(), retry_delays=RETRY_DELAYS
            )
            CustomResources(self.emulator, self.runtime)
            ResourceModels(self.emulator)
            NestedStacks(self.emulator)
            SignatureVersionConditions(self.emulator)
            CodeCommitTags(self.emulator)
            ModelRegistry(self.emulator)
            self.git = [
                CodeCommitGitEndpoint(self.emulator, self.authority, region=region)
                for region in regions
            ]
            self.proxy = AwsProxy(self.emulator, self.authority)
        except BaseException:
            self.stop()
            raise

    def environment(self) -> dict[str, str]:
        """What taskcat's process needs: the emulator's endpoint and credentials, no AWS
        configuration of this machine, the proxy as its network, the run's CA."""
        return {**self.emulator.environment(), **self.proxy.environment()}

    def client(self, service: str, region: str) -> Any:
        return self.emulator.client(service, region)

    def leftovers(self) -> list[str]:
        """What the run left behind, one line each (nothing: [])."""
        found: list[str] = []
        for region in self.regions:
            found += self._region_leftovers(region)
        return found

    def _region_leftovers(self, region: str) -> list[str]:
        cloudformation = self.client("cloudformation", region)
        found = []
        stacks = cloudformation.list_stacks()["StackSummaries"]
        if not stacks:
            found.append(f"{region}: taskcat made no stack")
        for summary in stacks:
            if summary["StackStatus"] != "DELETE_COMPLETE":
                found.append(f"{region}: stack {summary['StackName']} {summary['StackStatus']}")
        sagemaker = self.client("sagemaker", region)
        for group in sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]:
            found.append(f"{region}: model package group {group['ModelPackageGroupName']}")
        for name in self.emulator.backend("codecommit", region).repositories:
            found.append(f"{region}: repository {name}")  # moto lacks ListRepositories
        for table in self.client("dynamodb", region).list_tables()["TableNames"]:
            found.append(f"{region}: table {table}")
        for bucket in self.emulator.backend("s3", "aws").buckets.values():
            if bucket.region_name == region:
                found.append(f"{region}: bucket {bucket.name}")
        return found

    def stop(self) -> None:
        self.emulator.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> TaskcatAws:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
