"""CodeBuild builds that run: the project's buildspec from its source, on this machine.

moto stores CodeBuild projects, drops ``environmentVariablesOverride`` and runs
no build. :class:`CodeBuildRuns` answers StartBuild, BatchGetBuilds, StopBuild,
ListBuildsForProject and ListBuilds on the emulator:

- the source is fetched as CodeBuild fetches it: a CodeCommit repository is
  cloned over HTTPS from the git endpoint with a SigV4 password of the service
  role's credentials (the emulator's), at ``sourceVersion`` (a commit, branch
  or tag); an S3 source is a zip in moto's S3;
- the buildspec (``buildspecOverride``, the project's, or ``buildspec.yml``)
  runs phase by phase, each command in bash in the same working directory and
  exported environment as the last (buildspec version 0.2), with ``finally``
  blocks; a failed INSTALL or PRE_BUILD skips to FINALIZING, a failed BUILD
  still runs POST_BUILD; the ``install`` phase is not run here (no network: the
  virtualenv already holds what the seed's requirements name);
- the environment is CodeBuild's variables (``CODEBUILD_BUILD_ID``,
  ``CODEBUILD_RESOLVED_SOURCE_VERSION``, ``CODEBUILD_START_TIME``, ...), the
  buildspec's, the project's and the override's (in rising precedence,
  PARAMETER_STORE and SECRETS_MANAGER resolved from moto), what reaches the
  emulator, and ``environment`` given here (the run's CA, SDK settings);
- the build's timeout stops it (TIMED_OUT), StopBuild stops it (STOPPED);
  BatchGetBuilds reports status and phases; the log is kept
  (:meth:`CodeBuildRuns.log`) and written to CloudWatch Logs;
- with an event bus, "CodeBuild Build State Change" is emitted as the build
  starts and ends.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import yaml

from sandbox.emulator import FAKE_CREDENTIALS, AwsError, Call, Emulator
from sandbox.event_delivery import EventBus
from sandbox.sigv4_check import expected_password

logger = logging.getLogger(__name__)

COMMAND_PHASES = ("install", "pre_build", "build", "post_build")
DEFAULT_TIMEOUT_MINUTES = 60
DEFAULT_SKIPPED_PHASES = ("install",)


@dataclass
class Phase:
    phase_type: str
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "IN_PROGRESS"
    ended: datetime | None = None
    contexts: list[dict[str, str]] = field(default_factory=list)

    def end(self, status: str, message: str = "", code: str = "") -> None:
        self.status, self.ended = status, datetime.now(UTC)
        if message:
            self.contexts.append({"statusCode": code or status, "message": message})

    def response(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "phaseType": self.phase_type,
            "startTime": self.started,
            "contexts": list(self.contexts),
        }
        if self.ended is not None:
            answer["phaseStatus"] = self.status
            answer["endTime"] = self.ended
            answer["durationInSeconds"] = int((self.ended - self.started).total_seconds())
        return answer


@dataclass
class Build:
    """One build: what it was asked, where it stands, what it printed."""

    id: str
    arn: str
    number: int
    project: dict[str, Any]
    region: str
    account_id: str
    source_version: str
    variables: list[dict[str, str]]  # the project's, then the override's
    buildspec_override: str
    timeout_minutes: int
    initiator: str
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "IN_PROGRESS"
    phases: list[Phase] = field(default_factory=lambda: [Phase("SUBMITTED")])
    resolved_source_version: str = ""
    ended: datetime | None = None
    lines: list[str] = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    process: subprocess.Popen[bytes] | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def project_name(self) -> str:
        return str(self.project["name"])

    @property
    def log_group(self) -> str:
        logs = (self.project.get("logsConfig") or {}).get("cloudWatchLogs") or {}
        return str(logs.get("groupName") or f"/aws/codebuild/{self.project_name}")

    @property
    def log_stream(self) -> str:
        logs = (self.project.get("logsConfig") or {}).get("cloudWatchLogs") or {}
        prefix = logs.get("streamName")
        suffix = self.id.split(":", 1)[1]
        return f"{prefix}/{suffix}" if prefix else suffix

    @property
    def current_phase(self) -> str:
        return self.phases[-1].phase_type

    def enter(self, phase_type: str) -> Phase:
        if self.phases[-1].ended is None:
            self.phases[-1].end("SUCCEEDED")
        phase = Phase(phase_type)
        self.phases.append(phase)
        self.say(f"Entering phase {phase_type}")
        return phase

    def say(self, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y/%m/%d %H:%M:%S.%f")
        self.lines.append(f"[Container] {stamp} {text}")

    def response(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "id": self.id,
            "arn": self.arn,
            "buildNumber": self.number,
            "startTime": self.started,
            "currentPhase": self.current_phase,
            "buildStatus": self.status,
            "sourceVersion": self.source_version,
            "projectName": self.project_name,
            "phases": [phase.response() for phase in self.phases],
            "source": self.project.get("source") or {},
            "artifacts": {"location": ""},
            "environment": {
                **(self.project.get("environment") or {}),
                "environmentVariables": list(self.variables),
            },
            "serviceRole": self.project.get("serviceRole", ""),
            "logs": {
                "groupName": self.log_group,
                "streamName": self.log_stream,
                "cloudWatchLogs": {"status": "ENABLED"},
            },
            "timeoutInMinutes": self.timeout_minutes,
            "queuedTimeoutInMinutes": self.project.get("queuedTimeoutInMinutes") or 480,
            "buildComplete": self.ended is not None,
            "initiator": self.initiator,
            "encryptionKey": self.project.get("encryptionKey", ""),
        }
        if self.resolved_source_version:
            answer["resolvedSourceVersion"] = self.resolved_source_version
        if self.ended is not None:
            answer["endTime"] = self.ended
        return answer


class BuildFailure(Exception):
    """Ends the build: ``status`` FAILED, FAULT, TIMED_OUT or STOPPED."""

    def __init__(self, status: str, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


class CodeBuildRuns:
    """Runs CodeBuild builds on this machine; registers itself on ``emulator``."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        environment: Mapping[str, str] | None = None,
        skip_phases: tuple[str, ...] = DEFAULT_SKIPPED_PHASES,
        max_concurrent_builds: int = 2,
        events: EventBus | None = None,
    ) -> None:
        self._emulator = emulator
        self._environment = dict(environment or {})
        self.skip_phases = skip_phases
        self._events = events
        self._root = Path(tempfile.mkdtemp(prefix="codebuild-"))
        self.builds: dict[str, Build] = {}
        self._numbers: dict[str, int] = {}
        self._tokens: dict[str, str] = {}
        self._slots = threading.BoundedSemaphore(max_concurrent_builds)
        self._lock = threading.Lock()
        for operation, answer, why in (
            (
                "StartBuild",
                self._start_build,
                "moto drops environmentVariablesOverride and runs nothing: run here",
            ),
            ("BatchGetBuilds", self._batch_get_builds, "the builds run here"),
            ("StopBuild", self._stop_build, "stops a build run here"),
            ("ListBuildsForProject", self._list_project_builds, "the builds run here"),
            ("ListBuilds", self._list_builds, "the builds run here, newest first"),
        ):
            emulator.answer("codebuild", operation, why)(answer)
        emulator.on_stop(self.stop)

    # -- the API ----------------------------------------------------------------------------

    def _start_build(self, call: Call) -> dict[str, Any]:
        params = call.params
        name = params["projectName"]
        backend = call.backend()
        project = backend.codebuild_projects.get(name)
        if project is None:
            raise AwsError("ResourceNotFoundException", f"Project cannot be found: {name}")
        token = params.get("idempotencyToken")
        if token:
            with self._lock:
                known = self._tokens.get(token)
            if known is not None:
                return {"build": self.builds[known].response()}
        with self._lock:
            self._numbers[name] = self._numbers.get(name, 0) + 1
            number = self._numbers[name]
        metadata = project.project_metadata
        build_id = f"{name}:{uuid.uuid4()}"
        build = Build(
            id=build_id,
            arn=f"arn:aws:codebuild:{call.region}:{call.account_id}:build/{build_id}",
            number=number,
            project=metadata,
            region=call.region,
            account_id=call.account_id,
            source_version=params.get("sourceVersion") or metadata.get("sourceVersion") or "",
            variables=[
                *((metadata.get("environment") or {}).get("environmentVariables") or []),
                *(params.get("environmentVariablesOverride") or []),
            ],
            buildspec_override=params.get("buildspecOverride") or "",
            timeout_minutes=int(
                params.get("timeoutInMinutesOverride")
                or metadata.get("timeoutInMinutes")
                or DEFAULT_TIMEOUT_MINUTES
            ),
            initiator=_initiator(call),
        )
        with self._lock:
            self.builds[build_id] = build
            if token:
                self._tokens[token] = build_id
        threading.Thread(
            target=self._run, args=(build,), name=f"build-{number}", daemon=True
        ).start()
        return {"build": build.response()}

    def _batch_get_builds(self, call: Call) -> dict[str, Any]:
        ids = call.params.get("ids") or []
        return {
            "builds": [self.builds[i].response() for i in ids if i in self.builds],
            "buildsNotFound": [i for i in ids if i not in self.builds],
        }

    def _stop_build(self, call: Call) -> dict[str, Any]:
        build = self.builds.get(call.params["id"])
        if build is None:
            raise AwsError("ResourceNotFoundException", f"Build {call.params['id']} not found")
        build.stop_requested.set()
        if build.process is not None:
            _kill(build.process)
        return {"build": build.response()}

    def _list_project_builds(self, call: Call) -> dict[str, Any]:
        name = call.params["projectName"]
        found = [b for b in self.builds.values() if b.project_name == name]
        return {"ids": [b.id for b in sorted(found, key=lambda b: b.started, reverse=True)]}

    def _list_builds(self, call: Call) -> dict[str, Any]:
        ordered = sorted(self.builds.values(), key=lambda b: b.started, reverse=True)
        return {"ids": [b.id for b in ordered]}

    # -- what the sandbox reads ------------------------------------------------------------

    def wait(self, build_id: str, timeout: float = 600.0) -> Build:
        build = self.builds[build_id]
        if not build.done.wait(timeout):
            raise TimeoutError(f"build {build_id} still {build.current_phase} after {timeout} s")
        return build

    def log(self, build_id: str) -> list[str]:
        return list(self.builds[build_id].lines)

    def stop(self) -> None:
        for build in list(self.builds.values()):
            build.stop_requested.set()
            if build.process is not None:
                _kill(build.process)
        for build in list(self.builds.values()):
            build.done.wait(10)
        shutil.rmtree(self._root, ignore_errors=True)

    # -- one build ---------------------------------------------------------------------------

    def _run(self, build: Build) -> None:
        build.enter("QUEUED")
        with self._slots:
            self._emit(build)
            work = self._root / build.id.split(":", 1)[1]
            try:
                build.enter("PROVISIONING")
                source = self._download_source(build, work)
                self._run_buildspec(build, source, work)
                build.status = "SUCCEEDED" if build.status == "IN_PROGRESS" else build.status
            except BuildFailure as failure:
                build.phases[-1].end(failure.status, failure.message, failure.code)
                build.say(f"Phase complete: {build.current_phase} State: {failure.status}")
                build.status = failure.status
            except Exception as exc:
                logger.exception("build %s failed in the runner", build.id)
                build.phases[-1].end("FAULT", str(exc))
                build.status = "FAULT"
            finally:
                build.enter("UPLOAD_ARTIFACTS")
                build.enter("FINALIZING")
                build.enter("COMPLETED")
                build.ended = datetime.now(UTC)
                build.process = None
                shutil.rmtree(work, ignore_errors=True)
                self._write_log(build)
                self._emit(build)
                build.done.set()

    def _download_source(self, build: Build, work: Path) -> Path:
        build.enter("DOWNLOAD_SOURCE")
        source = build.project.get("source") or {}
        kind = str(source.get("type", "NO_SOURCE"))
        target = work / "src"
        target.mkdir(parents=True)
        if kind == "CODECOMMIT":
            self._clone(build, str(source.get("location", "")), target)
        elif kind == "S3":
            bucket, _, key = str(source.get("location", "")).partition("/")
            body = self._emulator.client("s3", build.region).get_object(Bucket=bucket, Key=key)
            with zipfile.ZipFile(io.BytesIO(body["Body"].read())) as archive:
                archive.extractall(target)
        elif kind != "NO_SOURCE":
            raise BuildFailure(
                "FAULT", f"source type {kind} is not fetched by the sandbox", "CLIENT_ERROR"
            )
        return target

    def _clone(self, build: Build, location: str, target: Path) -> None:
        parts = urlsplit(location)
        timestamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        user = f"{FAKE_CREDENTIALS['AWS_ACCESS_KEY_ID']}%{FAKE_CREDENTIALS['AWS_SESSION_TOKEN']}"
        password = expected_password(
            FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            parts.hostname or "",
            parts.path,
            build.region,
            timestamp,
        )
        netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.netloc}"
        url = parts._replace(netloc=netloc).geturl()
        environment = {**self._git_environment(target), **self._environment}
        version = build.source_version or "HEAD"
        for command in (
            ["git", "clone", "--quiet", "--no-checkout", url, str(target)],
            ["git", "-C", str(target), "checkout", "--quiet", version.removeprefix("refs/heads/")],
        ):
            done = subprocess.run(command, env=environment, capture_output=True, text=True)
            if done.returncode != 0:
                message = done.stderr.replace(password, "***").strip()
                raise BuildFailure(
                    "FAILED",
                    f"CLIENT_ERROR: could not fetch {location} at {version}: {message}",
                    "CLIENT_ERROR",
                )
        build.resolved_source_version = subprocess.run(
            ["git", "-C", str(target), "rev-parse", "HEAD"],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    def _run_buildspec(self, build: Build, source: Path, work: Path) -> None:
        spec = self._buildspec(build, source)
        state = work / "state"
        state.mkdir()
        (state / "cwd").write_text(str(source))
        environment = self._build_environment(build, spec, source, work)
        (state / "env.sh").write_text("")
        failed_early = False
        for name in COMMAND_PHASES:
            phase = build.enter(name.upper())
            if name in self.skip_phases:
                phase.end(
                    "SUCCEEDED",
                    "not run in the sandbox (no network; the virtualenv "
                    "already holds what it installs)",
                    "SKIPPED",
                )
                continue
            if failed_early:
                phase.end("SUCCEEDED", "skipped: an earlier phase failed", "SKIPPED")
                continue
            block = (spec.get("phases") or {}).get(name) or {}
            error = self._run_commands(build, block.get("commands") or [], environment, state)
            final = self._run_commands(build, block.get("finally") or [], environment, state)
            error = error or final
            if error is None:
                phase.end("SUCCEEDED")
                build.say(f"Phase complete: {name.upper()} State: SUCCEEDED")
                continue
            phase.end("FAILED", error, "COMMAND_EXECUTION_ERROR")
            build.say(f"Phase complete: {name.upper()} State: FAILED")
            build.say(f"Phase context status code: COMMAND_EXECUTION_ERROR Message: {error}")
            build.status = "FAILED"
            with (state / "env.sh").open("a") as carried:  # what later commands see
                carried.write("export CODEBUILD_BUILD_SUCCEEDING=0\n")
            if block.get("on-failure") != "CONTINUE" and name in ("install", "pre_build"):
                failed_early = True

    def _run_commands(
        self, build: Build, commands: list[Any], environment: dict[str, str], state: Path
    ) -> str | None:
        """Run ``commands`` one by one in the build's shell state; the first error, or None."""
        for command in commands:
            if build.stop_requested.is_set():
                raise BuildFailure("STOPPED", "Build was stopped")
            left = (
                build.started.timestamp()
                + build.timeout_minutes * 60
                - datetime.now(UTC).timestamp()
            )
            if left <= 0:
                raise BuildFailure("TIMED_OUT", "Build has timed out.", "BUILD_TIMED_OUT")
            build.say(f"Running command {command}")
            script = (
                f"source {shlex.quote(str(state / 'env.sh'))}\n"
                f'cd "$(cat {shlex.quote(str(state / "cwd"))})"\n'
                f"{command}\n"
                "__codebuild_status=$?\n"
                f"export -p > {shlex.quote(str(state / 'env.sh'))}\n"
                f"pwd > {shlex.quote(str(state / 'cwd'))}\n"
                "exit $__codebuild_status\n"
            )
            status = self._shell(build, script, environment, left)
            if status != 0:
                return f"Error while executing command: {command}. Reason: exit status {status}"
        return None

    def _shell(self, build: Build, script: str, environment: dict[str, str], left: float) -> int:
        process = subprocess.Popen(
            ["bash", "-c", script],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        build.process = process
        reader = threading.Thread(target=_read_lines, args=(process, build.lines), daemon=True)
        reader.start()
        try:
            status = process.wait(timeout=left)
        except subprocess.TimeoutExpired:
            _kill(process)
            reader.join(5)
            raise BuildFailure("TIMED_OUT", "Build has timed out.", "BUILD_TIMED_OUT") from None
        reader.join(5)
        build.process = None
        if build.stop_requested.is_set():
            raise BuildFailure("STOPPED", "Build was stopped")
        return status

    def _buildspec(self, build: Build, source: Path) -> dict[str, Any]:
        text = build.buildspec_override or str(
            (build.project.get("source") or {}).get("buildspec") or ""
        )
        if not text or ("\n" not in text and not text.strip().startswith("version")):
            path = source / (text or "buildspec.yml")
            if not path.is_file():
                raise BuildFailure(
                    "FAILED",
                    f"YAML_FILE_ERROR: {path.name} not found in the source",
                    "YAML_FILE_ERROR",
                )
            text = path.read_text()
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise BuildFailure("FAILED", f"YAML_FILE_ERROR: {exc}", "YAML_FILE_ERROR") from exc
        if not isinstance(spec, dict) or str(spec.get("version")) not in ("0.2", "0.1"):
            raise BuildFailure(
                "FAILED", "YAML_FILE_ERROR: the buildspec has no version 0.2", "YAML_FILE_ERROR"
            )
        return spec

    def _build_environment(
        self, build: Build, spec: dict[str, Any], source: Path, work: Path
    ) -> dict[str, str]:
        env_block = spec.get("env") or {}
        variables: dict[str, str] = {
            str(k): str(v) for k, v in (env_block.get("variables") or {}).items()
        }
        for name, parameter in (env_block.get("parameter-store") or {}).items():
            variables[str(name)] = self._parameter(build, str(parameter))
        for name, reference in (env_block.get("secrets-manager") or {}).items():
            variables[str(name)] = self._secret(build, str(reference))
        for variable in build.variables:  # the project's, then the override's: the last wins
            kind = variable.get("type", "PLAINTEXT")
            value = str(variable.get("value", ""))
            if kind == "PARAMETER_STORE":
                value = self._parameter(build, value)
            elif kind == "SECRETS_MANAGER":
                value = self._secret(build, value)
            variables[variable["name"]] = value
        home = work / "home"
        home.mkdir(exist_ok=True)
        project = build.project
        codebuild = {
            "CODEBUILD_BUILD_ARN": build.arn,
            "CODEBUILD_BUILD_ID": build.id,
            "CODEBUILD_BUILD_IMAGE": str((project.get("environment") or {}).get("image", "")),
            "CODEBUILD_BUILD_NUMBER": str(build.number),
            "CODEBUILD_BUILD_SUCCEEDING": "1",
            "CODEBUILD_INITIATOR": build.initiator,
            "CODEBUILD_KMS_KEY_ID": str(project.get("encryptionKey", "")),
            "CODEBUILD_LOG_PATH": build.log_stream,
            "CODEBUILD_PROJECT_ARN": str(project.get("arn", "")),
            "CODEBUILD_RESOLVED_SOURCE_VERSION": build.resolved_source_version,
            "CODEBUILD_SOURCE_REPO_URL": str((project.get("source") or {}).get("location", "")),
            "CODEBUILD_SOURCE_VERSION": build.source_version,
            "CODEBUILD_SRC_DIR": str(source),
            "CODEBUILD_START_TIME": str(int(build.started.timestamp() * 1000)),
        }
        return {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            **self._emulator.environment(build.region),
            **self._environment,
            **variables,
            **codebuild,
        }

    def _parameter(self, build: Build, name: str) -> str:
        ssm = self._emulator.client("ssm", build.region)
        try:
            return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
        except ssm.exceptions.ParameterNotFound as exc:
            raise BuildFailure(
                "FAILED", f"CLIENT_ERROR: parameter {name} not found", "CLIENT_ERROR"
            ) from exc

    def _secret(self, build: Build, reference: str) -> str:
        secret_id, _, rest = reference.partition(":")
        if reference.startswith("arn:"):
            parts = reference.split(":")
            secret_id, rest = ":".join(parts[:7]), ":".join(parts[7:])
        json_key = rest.split(":", 1)[0] if rest else ""
        secrets = self._emulator.client("secretsmanager", build.region)
        value = str(secrets.get_secret_value(SecretId=secret_id)["SecretString"])
        return str(json.loads(value)[json_key]) if json_key else value

    def _git_environment(self, work: Path) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(work),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }

    def _write_log(self, build: Build) -> None:
        try:
            logs = self._emulator.client("logs", build.region)
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_group(logGroupName=build.log_group)
            logs.create_log_stream(logGroupName=build.log_group, logStreamName=build.log_stream)
            stamp = int(time.time() * 1000)
            events = [{"timestamp": stamp, "message": line} for line in build.lines if line]
            if events:
                logs.put_log_events(
                    logGroupName=build.log_group, logStreamName=build.log_stream, logEvents=events
                )
        except Exception:
            logger.exception("could not write the log of build %s", build.id)

    def _emit(self, build: Build) -> None:
        if self._events is None:
            return
        self._events.emit(
            source="aws.codebuild",
            detail_type="CodeBuild Build State Change",
            detail={
                "build-status": build.status,
                "project-name": build.project_name,
                "build-id": build.arn,
                "current-phase": build.current_phase,
                "current-phase-context": "[]",
                "version": "1",
                "additional-information": {
                    "initiator": build.initiator,
                    "source-version": build.source_version,
                    "build-number": build.number,
                    "build-complete": build.ended is not None,
                    "start-time": build.started.strftime("%b %d, %Y %I:%M:%S %p"),
                },
            },
            resources=[build.arn],
            region=build.region,
            account_id=build.account_id,
        )


def _initiator(call: Call) -> str:
    """Who started the build: the caller's name, as STS identifies its access key."""
    authorization = call.headers.get("Authorization", "")
    access_key = authorization.split("Credential=", 1)[-1].split("/", 1)[0]
    sts = call.emulator.backend("sts", "aws", call.account_id)
    return str(sts.get_caller_identity(access_key, call.region)[1]).rsplit("/", 1)[-1]


def _read_lines(process: subprocess.Popen[bytes], lines: list[str]) -> None:
    assert process.stdout is not None
    for raw in process.stdout:
        lines.append(raw.decode("utf-8", errors="replace").rstrip("\n"))


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
