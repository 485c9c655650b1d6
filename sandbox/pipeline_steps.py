"""The steps of a SageMaker pipeline definition, run on this machine.

:class:`Expressions` evaluates the definition's values (``Get`` of parameters,
execution variables and step properties, ``Std:Join``, ``Std:JsonGet``) and
its conditions. :class:`Jobs` runs processing and training jobs as SageMaker's
containers would, with the scripts of the definition:

- inputs are downloaded from S3 (moto's) under the job's own ``/opt/ml`` tree
  (a temporary directory, see :mod:`sandbox.container_paths`): processing
  inputs at their ``LocalPath``, training channels at
  ``/opt/ml/input/data/<channel>``, with ``/opt/ml/input/config/*.json``;
- a processing job runs its ``python3`` entry point with its arguments (the SDK's
  FrameworkProcessor script ``runproc.sh``: its source archive extracted and its
  python3 script run, its requirements not installed); a
  training job runs the SDK's entry script (``sourcecode.json`` of the
  ``sm_drivers`` channel) with the hyperparameters as ``--name value`` and the
  ``SM_*`` variables the SDK's driver sets, in the source directory;
- processing outputs are uploaded to their S3 URIs; the model directory is
  packed into ``<S3OutputPath>/<job>/output/model.tar.gz``;
- a non-zero exit fails the step with ``AlgorithmError`` and the job's last
  words (``/opt/ml/output/failure`` for training).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shlex
import signal
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox import container_paths
from sandbox.lambda_workers import Zygote

LAUNCHER = Path(container_paths.__file__)
PYTHON_ENTRY_POINTS = ("python3", "python")
# The SageMaker SDK's FrameworkProcessor runs ``/bin/bash <entrypoint input>/runproc.sh``.
FRAMEWORK_SCRIPT = "runproc.sh"
FRAMEWORK_CODE_DIR = "/opt/ml/processing/input/code"
FAILURE_TAIL_LINES = 5
DEFAULT_MAX_RUNTIME_SECONDS = 24 * 60 * 60


class StepFailed(Exception):
    """The step failed with ``reason`` (the step's FailureReason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StepStopped(Exception):
    """The execution was stopped while the step ran."""


@dataclass
class StepState:
    """One step of one execution, as ListPipelineExecutionSteps reports it."""

    name: str
    type: str
    status: str = "Starting"
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended: datetime | None = None
    failure_reason: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    property_files: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def response(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "StepName": self.name,
            "StartTime": self.started,
            "StepStatus": self.status,
            "Metadata": self.metadata,
            "AttemptCount": 1,
        }
        if self.ended is not None:
            answer["EndTime"] = self.ended
        if self.failure_reason:
            answer["FailureReason"] = self.failure_reason
        return answer


class Expressions:
    """Evaluates the values of a pipeline definition for one execution."""

    def __init__(
        self,
        parameters: Mapping[str, Any],
        execution: Mapping[str, str],
        steps: Mapping[str, StepState],
    ) -> None:
        self._parameters = parameters
        self._execution = execution
        self._steps = steps

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self._get(str(value["Get"]))
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            return str(join.get("On", "")).join(_text(self.resolve(v)) for v in join["Values"])
        if set(value) == {"Std:JsonGet"}:
            return self._json_get(value["Std:JsonGet"])
        return {key: self.resolve(item) for key, item in value.items()}

    def holds(self, condition: dict[str, Any]) -> bool:
        kind = condition["Type"]
        if kind == "Not":
            return not self.holds(condition["Condition"])
        if kind == "Or":
            return any(self.holds(c) for c in condition["Conditions"])
        if kind == "In":
            left = self.resolve(condition["QueryValue"])
            return left in [self.resolve(v) for v in condition["Values"]]
        left, right = self.resolve(condition["LeftValue"]), self.resolve(condition["RightValue"])
        comparisons: dict[str, Callable[[Any, Any], bool]] = {
            "Equals": lambda a, b: a == b,
            "GreaterThan": lambda a, b: a > b,
            "GreaterThanOrEqualTo": lambda a, b: a >= b,
            "LessThan": lambda a, b: a < b,
            "LessThanOrEqualTo": lambda a, b: a <= b,
        }
        if kind not in comparisons:
            raise StepFailed(f"condition type {kind} is not evaluated by the sandbox")
        if kind != "Equals":
            left, right = _number(left), _number(right)
        return comparisons[kind](left, right)

    def _get(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if head == "Parameters":
            return self._parameters[rest]
        if head == "Execution":
            return self._execution[rest]
        if head == "Steps":
            name, _, inner = rest.partition(".")
            step = self._steps.get(name)
            if step is None or step.status != "Succeeded":
                raise StepFailed(f"{path}: step {name} has not succeeded")
            if inner.startswith("PropertyFiles."):
                return step.property_files[inner.split(".", 1)[1]]
            return walk(step.properties, inner, path)
        raise StepFailed(f"cannot evaluate {path}")

    def _json_get(self, spec: dict[str, Any]) -> Any:
        document = self.resolve(spec["PropertyFile"])
        if isinstance(document, str):  # a property file named by its S3 location
            raise StepFailed("JsonGet of an S3 URI is not evaluated by the sandbox")
        return walk(document, spec["Path"], spec["Path"])


def walk(document: Any, path: str, what: str) -> Any:
    """``a.b['c'][0].d`` inside ``document``."""
    value = document
    for token in re.findall(r"[^.\[\]]+|\[[^\]]+\]", path):
        key: Any = token.strip("[]'\"") if token.startswith("[") else token
        if isinstance(value, list):
            key = int(key)
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise StepFailed(f"{what}: nothing at {token}") from exc
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise StepFailed(f"{value!r} is not a number") from exc


JOB_PRELOAD = (
    "numpy",
    "pandas",
    "sklearn",
    "sklearn.ensemble",
    "sklearn.model_selection",
    "sklearn.metrics",
    "joblib",
    "tarfile",
)
# One thread per job, as a small instance would give: also fair to a 2-CPU machine.
JOB_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class JobLauncher:
    """Starts jobs from a zygote that holds what the framework's container image holds."""

    def __init__(
        self, directory: Path, *, preload: tuple[str, ...] = JOB_PRELOAD, slots: int = 2
    ) -> None:
        self._condition = threading.Condition()
        self._pids: dict[str, int] = {}
        self._statuses: dict[str, int] = {}
        self._detached: set[str] = set()
        self._slots = threading.BoundedSemaphore(slots)
        directory.mkdir(parents=True, exist_ok=True)
        self._zygote = Zygote(
            [sys.executable, str(LAUNCHER), "--zygote", json.dumps(preload)],
            directory,
            directory / "zygote.log",
            environment={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **JOB_THREADS},
            on_message=self._heard,
        )

    def wait_until_ready(self, timeout: float) -> bool:
        return self._zygote.wait_until_ready(timeout)

    def _heard(self, line: str) -> None:
        message = json.loads(line)
        with self._condition:
            if message["job"] in self._detached:  # nobody waits for it: forget it once it ends
                if "status" in message:
                    self._detached.discard(message["job"])
                    self._pids.pop(message["job"], None)
                else:
                    self._pids[message["job"]] = int(message["pid"])
                return
            if "pid" in message:
                self._pids[message["job"]] = int(message["pid"])
            if "status" in message:
                self._statuses[message["job"]] = int(message["status"])
            self._condition.notify_all()

    def run(
        self,
        *,
        root: Path,
        script: str,
        arguments: list[str],
        environment: Mapping[str, str],
        cwd: Path,
        log: Path,
        max_seconds: float,
        stop: threading.Event,
    ) -> int:
        """Run one job to its end; its exit status (raises when stopped or out of time)."""
        job = secrets.token_hex(8)
        with self._slots:
            if stop.is_set():
                raise StepStopped()
            self._spawn(job, root, script, arguments, environment, cwd, log)
            deadline = time.monotonic() + max_seconds
            with self._condition:
                while job not in self._statuses:
                    pid = self._pids.get(job)
                    if pid is not None and (stop.is_set() or time.monotonic() > deadline):
                        _kill_group(pid)
                    self._condition.wait(0.2)
                self._pids.pop(job, None)
                status = self._statuses.pop(job)
        if stop.is_set():
            raise StepStopped()
        if time.monotonic() > deadline:
            raise StepFailed(f"MaxRuntimeExceeded: the job ran longer than {max_seconds:g} seconds")
        return status

    def start(
        self,
        *,
        root: Path,
        script: str,
        arguments: list[str],
        environment: Mapping[str, str],
        cwd: Path,
        log: Path,
    ) -> str:
        """Start a job that outlives this call (a serving worker); its id."""
        job = secrets.token_hex(8)
        with self._condition:
            self._detached.add(job)
        self._spawn(job, root, script, arguments, environment, cwd, log)
        return job

    def _spawn(
        self,
        job: str,
        root: Path,
        script: str,
        arguments: list[str],
        environment: Mapping[str, str],
        cwd: Path,
        log: Path,
    ) -> None:
        self._zygote.spawn(
            {
                "job": job,
                "root": str(root),
                "script": script,
                "arguments": arguments,
                "environment": {**environment, **JOB_THREADS},
                "cwd": str(cwd),
                "log": str(log),
            }
        )

    def stop(self) -> None:
        with self._condition:
            pids = list(self._pids.values())
        for pid in pids:
            _kill_group(pid)
        self._zygote.stop()


class Jobs:
    """Runs the jobs of one execution's steps, staging data through ``s3``."""

    def __init__(
        self, s3: Any, environment: Mapping[str, str], root: Path, launcher: JobLauncher
    ) -> None:
        self._s3 = s3
        self._environment = dict(environment)
        self._root = root
        self._launcher = launcher

    # -- processing -----------------------------------------------------------------------

    def processing(
        self, step: StepState, job_name: str, arguments: dict[str, Any], stop: threading.Event
    ) -> dict[str, Path]:
        """Run the job; its outputs' local directories, by output name."""
        root = self._root / job_name
        app = arguments.get("AppSpecification") or {}
        entry = list(app.get("ContainerEntrypoint") or [])
        framework = is_framework_script(entry)
        if not framework and (not entry or entry[0] not in PYTHON_ENTRY_POINTS):
            raise StepFailed(
                "ClientError: the sandbox runs python3 entry points and the SDK's "
                f"FrameworkProcessor script only (got {entry or 'none'})"
            )
        for item in arguments.get("ProcessingInputs") or []:
            source = item.get("S3Input")
            if source:
                target = _local(root, source["LocalPath"])
                self._download(source["S3Uri"], source.get("S3DataType", "S3Prefix"), target)
        outputs = (arguments.get("ProcessingOutputConfig") or {}).get("Outputs") or []
        for output in outputs:
            _local(root, output["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        script = framework_command(root, entry[1]) if framework else entry[1:]
        command = [*script, *[str(a) for a in app.get("ContainerArguments") or []]]
        self._run(
            step,
            root,
            command,
            {**(arguments.get("Environment") or {})},
            cwd=_local(root, FRAMEWORK_CODE_DIR) if framework else root,
            max_seconds=_max_runtime(arguments),
            stop=stop,
            failure_file=None,
        )
        described = {}
        for output in outputs:
            s3_output = output["S3Output"]
            self._upload(_local(root, s3_output["LocalPath"]), s3_output["S3Uri"])
            described[output["OutputName"]] = {
                "OutputName": output["OutputName"],
                "S3Output": dict(s3_output),
            }
        step.properties = {
            "ProcessingJobName": job_name,
            "ProcessingJobArn": step.metadata["ProcessingJob"]["Arn"],
            "ProcessingOutputConfig": {"Outputs": described},
            "ProcessingJobStatus": "Completed",
        }
        return {o["OutputName"]: _local(root, o["S3Output"]["LocalPath"]) for o in outputs}

    # -- training -------------------------------------------------------------------------

    def training(
        self, step: StepState, job_name: str, arguments: dict[str, Any], stop: threading.Event
    ) -> None:
        root = self._root / job_name
        data = root / "opt/ml/input/data"
        config_dir = root / "opt/ml/input/config"
        config_dir.mkdir(parents=True)
        channels: dict[str, dict[str, str]] = {}
        for channel in arguments.get("InputDataConfig") or []:
            source = channel["DataSource"]["S3DataSource"]
            target = data / channel["ChannelName"]
            self._download(source["S3Uri"], source.get("S3DataType", "S3Prefix"), target)
            channels[channel["ChannelName"]] = {
                "TrainingInputMode": channel.get("InputMode", "File"),
                "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
                "RecordWrapperType": "None",
                **({"ContentType": channel["ContentType"]} if "ContentType" in channel else {}),
            }
        hyperparameters = {k: str(v) for k, v in (arguments.get("HyperParameters") or {}).items()}
        instance_type = str((arguments.get("ResourceConfig") or {}).get("InstanceType", ""))
        resources = {
            "current_host": "algo-1",
            "current_instance_type": instance_type,
            "hosts": ["algo-1"],
            "network_interface_name": "eth0",
        }
        for name, document in (
            ("hyperparameters.json", hyperparameters),
            ("inputdataconfig.json", channels),
            ("resourceconfig.json", resources),
        ):
            (config_dir / name).write_text(json.dumps(document))
        source_code = data / "sm_drivers" / "sourcecode.json"
        if not source_code.is_file():
            raise StepFailed(
                "ClientError: the sandbox runs SDK v3 ModelTrainer jobs (an sm_drivers channel "
                "with sourcecode.json) only"
            )
        entry = str(json.loads(source_code.read_text()).get("entry_script") or "")
        environment = {
            **training_variables(job_name, channels, hyperparameters, resources),
            "SM_ENTRY_SCRIPT": entry,
            **{str(k): str(v) for k, v in (arguments.get("Environment") or {}).items()},
        }
        (root / "opt/ml/model").mkdir(parents=True)
        (root / "opt/ml/output/data").mkdir(parents=True)
        self._run(
            step,
            root,
            [f"/opt/ml/input/data/code/{entry}", *cli_arguments(hyperparameters)],
            environment,
            cwd=data / "code",
            max_seconds=_max_runtime(arguments),
            stop=stop,
            failure_file=root / "opt/ml/output/failure",
        )
        output_path = str(arguments["OutputDataConfig"]["S3OutputPath"]).rstrip("/")
        model_uri = f"{output_path}/{job_name}/output/model.tar.gz"
        archive = root / "model.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for path in sorted((root / "opt/ml/model").rglob("*")):
                tar.add(path, arcname=str(path.relative_to(root / "opt/ml/model")), recursive=False)
        bucket, key = split_s3(model_uri)
        self._s3.upload_file(str(archive), bucket, key)
        step.properties = {
            "TrainingJobName": job_name,
            "TrainingJobArn": step.metadata["TrainingJob"]["Arn"],
            "ModelArtifacts": {"S3ModelArtifacts": model_uri},
            "HyperParameters": hyperparameters,
            "TrainingJobStatus": "Completed",
        }

    # -- staging and running ---------------------------------------------------------------

    def _download(self, uri: Any, data_type: str, target: Path) -> None:
        bucket, prefix = split_s3(str(uri))
        target.mkdir(parents=True, exist_ok=True)
        if data_type == "ManifestFile":
            raise StepFailed("ClientError: manifest files are not read by the sandbox")
        found = False
        for page in self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix
        ):
            for item in page.get("Contents", []):
                key = item["Key"]
                relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
                destination = target / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                self._s3.download_file(bucket, key, str(destination))
                found = True
        if not found:
            raise StepFailed(f"ClientError: no object under {uri}")

    def _upload(self, directory: Path, uri: Any) -> None:
        bucket, prefix = split_s3(str(uri))
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                key = f"{prefix.rstrip('/')}/{path.relative_to(directory).as_posix()}"
                self._s3.upload_file(str(path), bucket, key)

    def _run(
        self,
        step: StepState,
        root: Path,
        command: list[str],
        environment: Mapping[str, str],
        *,
        cwd: Path,
        max_seconds: float,
        stop: threading.Event,
        failure_file: Path | None,
    ) -> None:
        log = root / "job.log"
        status = self._launcher.run(
            root=root,
            script=command[0],
            arguments=command[1:],
            environment={**self._environment, **environment},
            cwd=cwd,
            log=log,
            max_seconds=max_seconds,
            stop=stop,
        )
        if log.is_file():
            step.lines += log.read_text(errors="replace").splitlines()
        if status != 0:
            words = ""
            if failure_file is not None and failure_file.is_file():
                words = failure_file.read_text().strip()
            words = words or "\n".join(step.lines[-FAILURE_TAIL_LINES:])
            raise StepFailed(f"AlgorithmError: {words} (exit status {status})")


def training_variables(
    job_name: str,
    channels: Mapping[str, Any],
    hyperparameters: Mapping[str, str],
    resources: Mapping[str, Any],
) -> dict[str, str]:
    """The ``SM_*`` variables the SDK's training driver sets (container paths)."""
    decoded = {key: _decoded(value) for key, value in hyperparameters.items()}
    variables: dict[str, Any] = {
        "TRAINING_JOB_NAME": job_name,
        "SM_MODEL_DIR": "/opt/ml/model",
        "SM_INPUT_DIR": "/opt/ml/input",
        "SM_INPUT_DATA_DIR": "/opt/ml/input/data",
        "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
        "SM_OUTPUT_DIR": "/opt/ml/output",
        "SM_OUTPUT_FAILURE": "/opt/ml/output/failure",
        "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
        "SM_SOURCE_DIR": "/opt/ml/input/data/code",
        "SM_CHANNELS": list(channels),
        "SM_HPS": decoded,
        "SM_CURRENT_HOST": resources["current_host"],
        "SM_CURRENT_INSTANCE_TYPE": resources["current_instance_type"],
        "SM_HOSTS": resources["hosts"],
        "SM_HOST_COUNT": len(resources["hosts"]),
        "SM_CURRENT_HOST_RANK": 0,
        "SM_NUM_CPUS": os.cpu_count() or 1,
        "SM_NUM_GPUS": 0,
        "SM_RESOURCE_CONFIG": dict(resources),
        "SM_INPUT_DATA_CONFIG": dict(channels),
    }
    for channel in channels:
        variables[f"SM_CHANNEL_{channel.upper()}"] = f"/opt/ml/input/data/{channel}"
    for key, value in decoded.items():
        variables[f"SM_HP_{key.replace('-', '_').upper()}"] = value
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in variables.items()}


def cli_arguments(hyperparameters: Mapping[str, str]) -> list[str]:
    """``--name value`` for each hyperparameter, as the SDK's basic script driver passes them."""
    arguments = []
    for key, value in hyperparameters.items():
        decoded = _decoded(value)
        arguments += [f"--{key}", decoded if isinstance(decoded, str) else json.dumps(decoded)]
    return arguments


def _decoded(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise StepFailed(f"ClientError: {uri!r} is not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def is_framework_script(entry: list[str]) -> bool:
    return (
        len(entry) == 2
        and entry[0] in ("/bin/bash", "bash")
        and entry[1].endswith(f"/{FRAMEWORK_SCRIPT}")
    )


def framework_command(root: Path, script_path: str) -> list[str]:
    """What the FrameworkProcessor's script runs, done as it does: the source code archive
    (``sourcedir.tar.gz``) extracted in the code directory, then its last line, the user
    script (``python3 register.py "$@"``). Its requirements are not installed: no network
    here, and the sandbox's environment holds them, as for the builds' install phase."""
    lines = [
        line.strip()
        for line in _local(root, script_path).read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    words = [w for w in shlex.split(lines[-1]) if w != "$@"] if lines else []
    if len(words) < 2 or words[0] not in PYTHON_ENTRY_POINTS:
        raise StepFailed(f"ClientError: {script_path} does not end by running a python3 script")
    code = _local(root, FRAMEWORK_CODE_DIR)
    archive = code / "sourcedir.tar.gz"
    if not archive.is_file():
        raise StepFailed(f"AlgorithmError: sourcedir.tar.gz not found in {FRAMEWORK_CODE_DIR}")
    with tarfile.open(archive) as source:
        source.extractall(code, filter="data")
    user_script = words[1] if words[1].startswith("/") else f"{FRAMEWORK_CODE_DIR}/{words[1]}"
    return [user_script, *words[2:]]


def _local(root: Path, container_path: str) -> Path:
    return root / container_path.lstrip("/")


def _max_runtime(arguments: Mapping[str, Any]) -> float:
    stopping = arguments.get("StoppingCondition") or {}
    return float(stopping.get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME_SECONDS)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
