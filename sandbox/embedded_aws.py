"""The whole embedded AWS of ``python build.py sandbox``: the emulator with every gap filled and
every part of :mod:`sandbox` running beside it, on 127.0.0.1.

:class:`EmbeddedAws` starts, in this order (each stops with the emulator, the last
first): the emulator with its endpoint gaps (:func:`sandbox.endpoint.emulator_with_gaps`),
the run's certificate authority, the Lambda runtime, the function URLs' front door
(:mod:`sandbox.function_urls`), with ``mlflow`` an MLflow tracking server over HTTPS whose
webhooks reach it (:mod:`sandbox.mlflow_tracking`), custom resources and the resource
types moto skips, the event bus on a :class:`~sandbox.event_delivery.SandboxClock`,
CodeCommit's git endpoint over HTTPS, CodeBuild runs, pipeline runs, the model
registry's events, the endpoint lifecycle and served inference. Every process the
parts start (Lambda workers, builds, pipeline jobs, served models) reaches the
emulator through :meth:`EmbeddedAws.environment` and trusts the CA; product code needs
nothing else.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox.cloudformation_models import ResourceModels
from sandbox.codebuild_runs import CodeBuildRuns
from sandbox.codecommit_git import CodeCommitGitEndpoint
from sandbox.codecommit_tags import CodeCommitTags
from sandbox.custom_resources import CustomResources
from sandbox.emulator import DEFAULT_REGION, Call, Emulator
from sandbox.emulator_gaps import SAGEMAKER_SDK_ENVIRONMENT
from sandbox.endpoint import emulator_with_gaps
from sandbox.endpoint_inference import EndpointInference
from sandbox.event_delivery import EventBus, SandboxClock
from sandbox.function_urls import FunctionUrls
from sandbox.lambda_runtime import LambdaRuntime
from sandbox.mlflow_tracking import MlflowServer, sandbox_tracking_server
from sandbox.pipeline_runs import PipelineRuns
from sandbox.sagemaker_endpoints import SageMakerEndpoints
from sandbox.sagemaker_registry import ModelRegistry
from sandbox.tls import CertificateAuthority

# How long an endpoint stays Creating or Updating (minutes on AWS; nothing in the walk waits on
# the length, only on the change of status and its event).
ENDPOINT_SECONDS = 0.2
# Lambda's asynchronous retries (1 and 2 minutes on AWS), shortened for a run of seconds.
RETRY_DELAYS = (1.0, 2.0)
# A Lambda environment idle this long is shut down: each holds 60-100 MB, and during most of
# the walk (a training build takes 10-15 s) nothing invokes most functions. The calls of one
# step (approve -> deploy -> endpoint events -> tests) come within a second or two of each
# other and stay warm; a cold start here costs a fork of the code's zygote.
LAMBDA_IDLE_SECONDS = 3.0
# The integration tests call an endpoint one request at a time: one model worker per variant
# (125 MB each) serves them; a second concurrent request waits for it.
MODEL_WORKERS_PER_VARIANT = 1
# Put on the builds' PYTHONPATH: its sitecustomize makes the SDK's config checks cheap.
BUILD_IMAGE = Path(__file__).parent / "build_image"
# A build's install phase needs the network (the virtualenv holds what it installs); its
# pre_build phase runs the seed's own tests (``make test``), a minute of a 2-CPU machine per
# build: left out unless asked for (``--seed-tests``).
BUILD_PHASES_SKIPPED = ("install", "pre_build")
SDK_CONFIG = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
"""


def sdk_environment(config_dir: Path) -> dict[str, str]:
    """What the SageMaker Python SDK needs to run offline and quietly: telemetry off, no
    configuration of this machine, and no role check against IAM (the emulator has none)."""
    config = config_dir / "sagemaker-sdk-config.yaml"
    config.write_text(SDK_CONFIG)
    return {
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(config),
        **SAGEMAKER_SDK_ENVIRONMENT,
    }


def simulated_policy(call: Call) -> dict[str, Any]:
    """SimulatePrincipalPolicy with no policy evaluated: every action implicitly denied (the
    SageMaker SDK then stages training code under the job's output path, in the project's
    bucket, as it does for a role scoped to the project)."""
    return {
        "EvaluationResults": [
            {"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": "implicitDeny"}
            for action in call.params.get("ActionNames", [])
            for resource in call.params.get("ResourceArns") or ["*"]
        ],
        "IsTruncated": False,
    }


class EmbeddedAws:
    """The emulator and every part, started; :meth:`stop` (or the context) ends them all."""

    def __init__(
        self,
        *,
        region: str = DEFAULT_REGION,
        endpoint_seconds: float = ENDPOINT_SECONDS,
        seed_tests: bool = False,
        mlflow: bool = False,
    ) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="sandbox-"))
        self.emulator: Emulator = emulator_with_gaps(region=region).start()
        try:
            self.authority = CertificateAuthority.create(self.directory / "ca")
            trusted = {**self.authority.environment(), **sdk_environment(self.directory)}
            self.clock = SandboxClock()
            self.runtime = LambdaRuntime(
                self.emulator,
                environment=trusted,
                retry_delays=RETRY_DELAYS,
                idle_seconds=LAMBDA_IDLE_SECONDS,
                clock=self.clock,
            )
            self.function_urls = FunctionUrls(self.emulator, self.runtime, self.authority)
            # Started first of the slow parts: it starts (some 5 s) while the rest is made.
            self.mlflow: MlflowServer | None = None
            if mlflow:
                self.mlflow = sandbox_tracking_server(
                    self.directory / "mlflow", self.authority, self.function_urls.port, self.clock
                )
                self.emulator.on_stop(self.mlflow.stop)
            self.custom_resources = CustomResources(self.emulator, self.runtime)
            self.emulator.answer(
                "iam",
                "SimulatePrincipalPolicy",
                "not in moto (HTTP 500, retried by every SDK): answered implicitDeny, as for a "
                "project-scoped role; the emulator enforces no IAM",
            )(simulated_policy)
            ResourceModels(self.emulator)
            self.bus = EventBus(self.emulator, self.runtime, clock=self.clock)
            self.git = CodeCommitGitEndpoint(self.emulator, self.authority, events=self.bus)
            CodeCommitTags(self.emulator)
            self.builds = CodeBuildRuns(
                self.emulator,
                environment={**trusted, "PYTHONPATH": str(BUILD_IMAGE)},
                events=self.bus,
                skip_phases=BUILD_PHASES_SKIPPED if not seed_tests else ("install",),
            )
            self.pipelines = PipelineRuns(self.emulator, environment=trusted)
            self.registry = ModelRegistry(self.emulator, self.bus)
            self.endpoints = SageMakerEndpoints(
                self.emulator,
                self.bus,
                creating_seconds=endpoint_seconds,
                updating_seconds=endpoint_seconds,
                deleting_seconds=endpoint_seconds / 2,
            )
            self.inference = EndpointInference(
                self.emulator,
                launcher=self.pipelines.launcher,
                environment=trusted,
                workers_per_variant=MODEL_WORKERS_PER_VARIANT,
            )
        except BaseException:
            self.stop()
            raise

    @property
    def region(self) -> str:
        return self.emulator.region

    @property
    def account_id(self) -> str:
        return self.emulator.account_id

    def environment(self) -> dict[str, str]:
        """What a process needs to reach the emulator (AWS CLI, boto3) and the git endpoint."""
        return {**self.emulator.environment(), **self.authority.environment()}

    @contextmanager
    def as_process_aws(self) -> Iterator[None]:
        """This process's AWS is the emulator while inside (publish's sessions read it)."""
        saved = dict(os.environ)
        os.environ.update(self.environment())
        os.environ.pop("AWS_PROFILE", None)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def settle(self, timeout: float = 300.0, *, scope: str | None = None) -> None:
        """Wait until nothing moves any more: no build, pipeline execution, endpoint change,
        queued Lambda event or event retry, twice in a row (one can start another).

        With ``scope`` (a project's id), only the builds and pipeline executions whose names
        hold it count: a walk waits for its own project's, while another project's walk
        builds beside it. Endpoint changes, Lambda events and retries count for every project
        (they take a second or less)."""
        deadline = time.monotonic() + timeout
        quiet_rounds = 0
        while quiet_rounds < 2:
            before = self._activity(scope)
            for waitable in self._running(scope):
                waitable.wait(max(0.0, deadline - time.monotonic()))
            if not self.endpoints.wait_until_settled(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"endpoints still changing after {timeout:g} s")
            if not self.runtime.wait_for_async(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"Lambda events still queued after {timeout:g} s")
            if time.monotonic() > deadline:
                raise TimeoutError(f"still busy after {timeout:g} s: {self.busy_text()}")
            busy = self._running(scope) or self.bus.retrying()
            quiet_rounds = 0 if busy or self._activity(scope) != before else quiet_rounds + 1
            if busy:
                time.sleep(0.05)

    def busy_text(self) -> str:
        """What still runs: builds, pipeline executions, Lambda events, delivery retries."""
        busy = [
            *(
                f"build {b.id} ({b.current_phase}; its log ends: {' | '.join(b.lines[-3:])})"
                for b in self.builds.builds.values()
                if not b.done.is_set()
            ),
            *(
                f"pipeline execution {r.arn} ({r.status})"
                for r in self.pipelines.executions.values()
                if not r.done.is_set()
            ),
        ]
        if not self.runtime.wait_for_async(0):
            busy.append("queued Lambda events")
        if self.bus.retrying():
            busy.append("event deliveries waiting to be retried")
        return ", ".join(busy) or "nothing (it kept changing)"

    def _builds(self, scope: str | None) -> list[Any]:
        return [b for b in list(self.builds.builds.values()) if scope is None or scope in b.id]

    def _executions(self, scope: str | None) -> list[Any]:
        runs = list(self.pipelines.executions.values())
        return [r for r in runs if scope is None or scope in r.arn]

    def _running(self, scope: str | None = None) -> list[threading.Event]:
        return [
            *(b.done for b in self._builds(scope) if not b.done.is_set()),
            *(r.done for r in self._executions(scope) if not r.done.is_set()),
        ]

    def _activity(self, scope: str | None) -> tuple[int, int, int, int]:
        return (
            len(self.runtime.invocations),
            len(self.bus.events),
            len(self._builds(scope)),
            len(self._executions(scope)),
        )

    def stop(self) -> None:
        self.emulator.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> EmbeddedAws:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
