"""Time the sandbox's parts one by one: start-up and per-call costs, and the memory they hold.

    .venv/bin/python benchmarks/sandbox_parts.py [--calls 50] [--skip-pipeline]

Each part runs on one embedded emulator in this process (its workers in child
processes), as the sandbox runs them:

- Lambda runtime: the zygote's start (a code package's interpreter with boto3),
  a cold invocation (fork and the handler's init), warm invocations (median),
  an Event invocation from the call to the handler's return;
- custom resources: CreateStack of a stack with one Custom:: resource, answered
  by a function of the runtime;
- event delivery: PutEvents to a Lambda target, until the handler ran;
- git endpoint: a push over HTTPS until CodeCommit's event is delivered;
- CodeBuild: a one-command build from StartBuild to SUCCEEDED;
- pipelines: the job zygote's start and one execution of the seed's own
  pipeline (preprocess, train, evaluate, register) through the seed's CI code;
- inference: a cold InvokeEndpoint (model load) and warm ones (median).

Memory: the peak resident set of this process and all its descendants, sampled
every 50 ms (zygotes and forked workers share pages, so this overstates it).
The machine's load changes every figure: run it when the machine is idle, and
report the load average printed with the figures.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "seed_code" / "common"))

ECHO = "def handler(event, context):\n    return event\n"
CUSTOM = """\
import json, urllib.request

def handler(event, context):
    body = json.dumps({"Status": "SUCCESS", "PhysicalResourceId": "thing",
                       "StackId": event["StackId"], "RequestId": event["RequestId"],
                       "LogicalResourceId": event["LogicalResourceId"], "Data": {}}).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT")
    urllib.request.urlopen(request, timeout=10).read()
"""


class MemoryPeak:
    """The peak memory of this process and its descendants, from /proc: resident (RSS, pages
    a zygote shares with its forks counted in each) and proportional (PSS, shared pages split
    between the processes that share them)."""

    def __init__(self, part_of: Callable[[str], str] | None = None) -> None:
        """``part_of``: what a process is, from its command line; with it, ``peak_parts``
        holds the PSS of each part at the peak and ``part_peaks`` each part's own peak."""
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.peak_parts: dict[str, int] = {}
        self.part_peaks: dict[str, int] = {}
        self._part_of = part_of
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            pids = tree(os.getpid())
            self.peak_kb = max(self.peak_kb, sum(rss.get(p, 0) for p in pids))
            proportional = {pid: pss_kb(pid) for pid in pids}
            total = sum(proportional.values())
            if self._part_of is not None:
                parts: dict[str, int] = {}
                for pid, kb in proportional.items():
                    part = self._part_of(command_line(pid))
                    parts[part] = parts.get(part, 0) + kb
                for part, kb in parts.items():
                    self.part_peaks[part] = max(self.part_peaks.get(part, 0), kb)
                if total > self.peak_pss_kb:
                    self.peak_parts = parts
            self.peak_pss_kb = max(self.peak_pss_kb, total)


def command_line(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def pss_kb(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


rss: dict[int, int] = {}


def tree(root: int) -> list[int]:
    """``root`` and its descendants; their RSS is left in ``rss``."""
    children: dict[int, list[int]] = {}
    rss.clear()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, parent = int(entry), int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack += children.get(pid, [])
    return found


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def code_zip(name: str, source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


@contextmanager
def pieces() -> Iterator[dict[str, Any]]:
    from sandbox.emulator import Emulator

    started = time.perf_counter()
    with Emulator() as emulator:
        yield {"emulator": emulator, "emulator_start": time.perf_counter() - started}


def lambda_figures(parts: dict[str, Any], calls: int) -> dict[str, float]:
    from sandbox.lambda_runtime import LambdaRuntime

    emulator = parts["emulator"]
    runtime = LambdaRuntime(emulator, retry_delays=(0.1, 0.1))
    parts["runtime"] = runtime
    role = emulator.client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument="{}")
    parts["role"] = role["Role"]["Arn"]
    client = emulator.client("lambda")
    client.create_function(
        FunctionName="echo",
        Runtime="python3.13",
        Role=parts["role"],
        Handler="app.handler",
        Code={"ZipFile": code_zip("app.py", ECHO)},
    )
    cold = timed(lambda: client.invoke(FunctionName="echo", Payload=b"{}"))
    warm = [timed(lambda: client.invoke(FunctionName="echo", Payload=b"{}")) for _ in range(calls)]
    before = len(runtime.invocations)

    def event_round_trip() -> None:
        client.invoke(FunctionName="echo", InvocationType="Event", Payload=b"{}")
        while len(runtime.invocations) == before:
            time.sleep(0.005)

    return {
        "lambda cold invoke (zygote + fork + init), s": cold,
        "lambda warm invoke, median ms": statistics.median(warm) * 1000,
        "lambda Event invoke to handler done, ms": timed(event_round_trip) * 1000,
    }


def custom_resource_figures(parts: dict[str, Any]) -> dict[str, float]:
    from sandbox.custom_resources import CustomResources

    emulator = parts["emulator"]
    CustomResources(emulator, parts["runtime"])
    arn = emulator.client("lambda").create_function(
        FunctionName="custom",
        Runtime="python3.13",
        Role=parts["role"],
        Handler="app.handler",
        Code={"ZipFile": code_zip("app.py", CUSTOM)},
    )["FunctionArn"]
    body = {"Resources": {"Thing": {"Type": "Custom::Thing", "Properties": {"ServiceToken": arn}}}}
    cloudformation = emulator.client("cloudformation")

    def create() -> None:
        cloudformation.create_stack(StackName="bench", TemplateBody=json.dumps(body))

    return {"CreateStack with one custom resource, s": timed(create)}


def event_figures(parts: dict[str, Any]) -> dict[str, float]:
    from sandbox.event_delivery import EventBus

    emulator, runtime = parts["emulator"], parts["runtime"]
    bus = EventBus(emulator, runtime)
    parts["bus"] = bus
    events = emulator.client("events")
    events.put_rule(Name="bench", EventPattern=json.dumps({"source": ["bench"]}))
    arn = emulator.client("lambda").get_function(FunctionName="echo")["Configuration"][
        "FunctionArn"
    ]
    events.put_targets(Rule="bench", Targets=[{"Id": "echo", "Arn": arn}])
    before = len(runtime.invocations)

    def deliver() -> None:
        events.put_events(Entries=[{"Source": "bench", "DetailType": "b", "Detail": "{}"}])
        while len(runtime.invocations) == before:
            time.sleep(0.005)

    return {"PutEvents to a Lambda target's handler done, ms": timed(deliver) * 1000}


def git_and_build_figures(parts: dict[str, Any], work: Path) -> dict[str, float]:
    from sandbox.codebuild_runs import CodeBuildRuns
    from sandbox.codecommit_git import CodeCommitGitEndpoint
    from sandbox.tls import CertificateAuthority
    from tests.sandbox.conftest import commit_files, git, git_environment

    emulator = parts["emulator"]
    authority = CertificateAuthority.create(work / "ca")
    parts["authority"] = authority
    git_endpoint = CodeCommitGitEndpoint(emulator, authority, events=parts["bus"])
    builds = CodeBuildRuns(emulator, environment=authority.environment())
    clone_url = emulator.client("codecommit").create_repository(repositoryName="sagemaker-bench")[
        "repositoryMetadata"
    ]["cloneUrlHttp"]
    source = work / "source"
    source.mkdir()
    environment = git_environment(source, authority)
    buildspec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo built\n"
    commit_files(source, environment, "dev", {"buildspec.yml": buildspec})
    before = len(parts["bus"].events)
    push = timed(
        lambda: git(
            source,
            environment,
            "push",
            "-q",
            git_endpoint.authenticated_url("sagemaker-bench"),
            "dev",
        )
    )
    assert len(parts["bus"].events) > before
    codebuild = emulator.client("codebuild")
    codebuild.create_project(
        name="bench",
        source={"type": "CODECOMMIT", "location": clone_url},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "x",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole="arn:aws:iam::123456789012:role/bench",
    )

    def build() -> None:
        build_id = codebuild.start_build(projectName="bench", sourceVersion="dev")["build"]["id"]
        assert builds.wait(build_id, 300).status == "SUCCEEDED"

    return {
        "git push over HTTPS with its event delivered, s": push,
        "CodeBuild one-command build, StartBuild to SUCCEEDED, s": timed(build),
    }


def pipeline_figures(parts: dict[str, Any], work: Path) -> dict[str, float]:
    from pipelines.definition import TrainingRun
    from pipelines.pipeline_run import run_training
    from pipelines.project import parse_project

    from sandbox.pipeline_runs import PipelineRuns
    from sandbox.sagemaker_registry import ModelRegistry
    from tests.seed_code.conftest import BUCKET, ROLE_ARN, create_groups, project_document
    from tests.support import sagemaker_sdk

    emulator = parts["emulator"]
    started = time.perf_counter()
    runs = PipelineRuns(emulator)
    parts["launcher"] = runs.launcher  # served models fork from the same zygote
    runs.wait_until_ready(300)
    ready = time.perf_counter() - started
    ModelRegistry(emulator, parts["bus"])
    for name, value in {  # every client of this process reaches the emulator, as in a build
        **sagemaker_sdk.offline_environment(work, emulator.region),
        **emulator.environment(),
    }.items():
        os.environ[name] = value
    document = project_document("baseline", "sagemaker", region=emulator.region)
    emulator.client("s3").create_bucket(Bucket=BUCKET)
    create_groups(emulator.session(), document)
    project = parse_project(document)
    run = TrainingRun(kind="dev", branch="dev", commit="a" * 40, role_arn=ROLE_ARN)
    first = time.perf_counter()
    result = run_training(
        project,
        run,
        emulator.session(),
        poll_seconds=0.2,
        timeout_seconds=600,
        report=lambda _: None,
    )
    assert result.status == "Succeeded"
    upserted = time.perf_counter() - first
    execution = timed(
        lambda: runs.wait(
            emulator.client("sagemaker").start_pipeline_execution(
                PipelineName=result.pipeline_name
            )["PipelineExecutionArn"],
            600,
        )
    )
    parts["model_url"] = latest_model_url(emulator, document["model_groups"]["dev"])
    return {
        "pipeline: seed CI run_training (SDK build, upsert, first execution), s": upserted,
        "pipeline: one more execution of the seed's pipeline, s": execution,
        "pipeline: job zygote start (pandas, scikit-learn loaded), s": ready,
    }


def latest_model_url(emulator: Any, group: str) -> str:
    sagemaker = emulator.client("sagemaker")
    arn = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"][0][
        "ModelPackageArn"
    ]
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    return str(package["InferenceSpecification"]["Containers"][0]["ModelDataUrl"])


def inference_figures(parts: dict[str, Any], calls: int, work: Path) -> dict[str, float]:
    from sandbox.endpoint_inference import EndpointInference

    emulator = parts["emulator"]
    EndpointInference(emulator, launcher=parts.get("launcher"))
    url = parts.get("model_url") or local_model(emulator, work)
    sagemaker = emulator.client("sagemaker")
    sagemaker.create_model(
        ModelName="bench",
        PrimaryContainer={
            "Image": "sklearn",
            "ModelDataUrl": url,
            "Environment": {
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            },
        },
        ExecutionRoleArn="arn:aws:iam::123456789012:role/model",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="bench",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "bench",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="bench", EndpointConfigName="bench")
    payload = json.loads(
        (REPO / "seed_code/common/integration_tests/payloads/single_csv_record.json").read_text()
    )
    runtime = emulator.client("sagemaker-runtime")

    def invoke() -> None:
        runtime.invoke_endpoint(
            EndpointName="bench", ContentType="text/csv", Body=payload["body"].encode()
        )["Body"].read()

    cold = timed(invoke)
    warm = [timed(invoke) for _ in range(calls)]
    return {
        "inference cold invoke (zygote + model load), s": cold,
        "inference warm invoke, median ms": statistics.median(warm) * 1000,
    }


def local_model(emulator: Any, work: Path) -> str:
    from pipelines.local import run_locally

    run = run_locally(work / "local", payloads_dir=None)
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as archive:
        for path in sorted((run.output_dir / "model").rglob("*")):
            archive.add(path, arcname=str(path.relative_to(run.output_dir / "model")))
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="bench-models")
    s3.put_object(Bucket="bench-models", Key="model.tar.gz", Body=packed.getvalue())
    return "s3://bench-models/model.tar.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="warm calls per timed path")
    parser.add_argument("--skip-pipeline", action="store_true", help="leave out the pipeline")
    args = parser.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as scratch, MemoryPeak() as memory, pieces() as parts:
        work = Path(scratch)
        figures["emulator start, s"] = parts["emulator_start"]
        figures.update(lambda_figures(parts, args.calls))
        figures.update(custom_resource_figures(parts))
        figures.update(event_figures(parts))
        figures.update(git_and_build_figures(parts, work))
        if not args.skip_pipeline:
            figures.update(pipeline_figures(parts, work))
        figures.update(inference_figures(parts, args.calls, work))
        figures["peak RSS of the process tree, MB"] = memory.peak_kb / 1024
        figures["peak PSS of the process tree, MB"] = memory.peak_pss_kb / 1024
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:9.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
