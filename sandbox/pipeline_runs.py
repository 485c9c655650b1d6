"""A stand-in for SageMaker Pipelines: an execution runs its definition's steps on this machine.

moto marks every pipeline execution Succeeded at once and runs nothing; it lacks
ListPipelineExecutionSteps and StopPipelineExecution. :class:`PipelineRuns`
plays SageMaker after moto has recorded the execution:

- the execution is ``Executing`` while the definition it was started with (SDK
  v3 JSON, as the seed's CI upserted it) runs: processing and training steps
  run their scripts for real (:mod:`sandbox.pipeline_steps`), property files
  are read from the jobs' outputs, a condition step picks its branch, a fail
  step fails the execution with its message, a register step creates the model
  package with what the definition says (through the emulator's API, so the
  registry's events follow);
- then it is ``Succeeded``, ``Failed`` (with the failed step's reason) or, after
  StopPipelineExecution, ``Stopped``; DescribePipelineExecution (moto's) shows it;
- ListPipelineExecutionSteps answers each step's status, times, failure reason
  and metadata (the job ARN, the condition's outcome, the package ARN), the
  latest first.

Steps run one after another in the definition's order (SageMaker runs
independent steps side by side); only SageMaker-side step records are made, no
processing or training job records.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.emulator import AwsError, Call, Emulator
from sandbox.pipeline_steps import (
    Expressions,
    JobLauncher,
    Jobs,
    StepFailed,
    StepState,
    StepStopped,
)

logger = logging.getLogger(__name__)

PARAMETER_TYPES: dict[str, Any] = {
    "String": str,
    "Integer": int,
    "Float": float,
    "Boolean": lambda value: str(value).lower() == "true",
}


@dataclass
class ExecutionRun:
    arn: str
    region: str
    account_id: str
    pipeline_name: str
    definition: dict[str, Any]
    parameters: dict[str, Any]
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    steps: dict[str, StepState] = field(default_factory=dict)
    status: str = "Executing"
    failure_reason: str = ""
    stop: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def execution_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


class PipelineRuns:
    """Runs pipeline executions; registers itself on ``emulator``.

    ``run_before_answer`` runs each execution inside StartPipelineExecution (the
    caller sees it finished at once) instead of beside it, as SageMaker does.
    """

    def __init__(
        self,
        emulator: Emulator,
        *,
        environment: Mapping[str, str] | None = None,
        run_before_answer: bool = False,
        job_slots: int = 2,
        launcher: JobLauncher | None = None,
    ) -> None:
        self._emulator = emulator
        self._environment = dict(environment or {})
        self.run_before_answer = run_before_answer
        self._root = Path(tempfile.mkdtemp(prefix="pipelines-"))
        # Started now: preloading what the framework images hold takes a while.
        self._owns_launcher = launcher is None
        self.launcher = launcher or JobLauncher(self._root / "launcher", slots=job_slots)
        self.executions: dict[str, ExecutionRun] = {}
        emulator.before(
            "sagemaker",
            "StartPipelineExecution",
            "moto accepts any parameters: refused unless the definition declares them",
        )(self._check_parameters)
        emulator.after(
            "sagemaker",
            "StartPipelineExecution",
            "moto marks executions Succeeded at once: the definition's steps run here",
        )(self._started)
        emulator.answer(
            "sagemaker",
            "ListPipelineExecutionSteps",
            "not in moto: the steps of the executions run here",
        )(self._list_steps)
        emulator.answer(
            "sagemaker",
            "StopPipelineExecution",
            "not in moto: stops the running step, the execution ends Stopped",
        )(self._stop_execution)
        emulator.on_stop(self.stop)

    def wait_until_ready(self, timeout: float = 120.0) -> bool:
        """Whether the jobs' zygote has loaded the framework's libraries (it starts at once;
        the sandbox may wait here before its first push)."""
        return self.launcher.wait_until_ready(timeout)

    def wait(self, arn: str, timeout: float = 600.0) -> ExecutionRun:
        run = self.executions[arn]
        if not run.done.wait(timeout):
            raise TimeoutError(f"pipeline execution {arn} still {run.status} after {timeout} s")
        return run

    def stop(self) -> None:
        for run in list(self.executions.values()):
            run.stop.set()
        for run in list(self.executions.values()):
            run.done.wait(10)
        if self._owns_launcher:
            self.launcher.stop()
        shutil.rmtree(self._root, ignore_errors=True)

    # -- the API ----------------------------------------------------------------------------

    def _check_parameters(self, call: Call) -> None:
        pipeline = call.backend().pipelines.get(call.params["PipelineName"].rsplit("/", 1)[-1])
        if pipeline is not None:
            definition = json.loads(pipeline.pipeline_definition)
            parameter_values(definition, call.params.get("PipelineParameters") or [])

    def _started(self, call: Call, answer: dict[str, Any]) -> None:
        arn = answer["PipelineExecutionArn"]
        name = arn.split(":pipeline/", 1)[1].split("/execution/", 1)[0]
        record = call.backend().pipelines[name].pipeline_executions[arn]
        record.pipeline_execution_status = "Executing"
        definition = json.loads(record.pipeline_definition_for_execution)
        run = ExecutionRun(
            arn=arn,
            region=call.region,
            account_id=call.account_id,
            pipeline_name=name,
            definition=definition,
            parameters=parameter_values(definition, call.params.get("PipelineParameters") or []),
        )
        self.executions[arn] = run
        if self.run_before_answer:
            self._execute(run, record)
        else:
            threading.Thread(
                target=self._execute,
                args=(run, record),
                name=f"pipeline-{run.execution_id}",
                daemon=True,
            ).start()

    def _list_steps(self, call: Call) -> dict[str, Any]:
        run = self._run_of(call.params["PipelineExecutionArn"])
        ordered = sorted(run.steps.values(), key=lambda s: s.started)
        if call.params.get("SortOrder", "Descending") == "Descending":
            ordered.reverse()
        return {"PipelineExecutionSteps": [step.response() for step in ordered]}

    def _stop_execution(self, call: Call) -> dict[str, Any]:
        run = self._run_of(call.params["PipelineExecutionArn"])
        if not run.done.is_set():
            run.stop.set()
            run.status = "Stopping"
            self._record(run).pipeline_execution_status = "Stopping"
        return {"PipelineExecutionArn": run.arn}

    def _run_of(self, arn: str) -> ExecutionRun:
        run = self.executions.get(arn)
        if run is None:
            raise AwsError("ResourceNotFound", f"Pipeline execution {arn} does not exist.")
        return run

    def _record(self, run: ExecutionRun) -> Any:
        backend = self._emulator.backend("sagemaker", run.region, run.account_id)
        return backend.pipelines[run.pipeline_name].pipeline_executions[run.arn]

    # -- one execution ------------------------------------------------------------------------

    def _execute(self, run: ExecutionRun, record: Any) -> None:
        s3 = self._emulator.client("s3", run.region)
        jobs = Jobs(
            s3,
            {**self._emulator.environment(run.region), **self._environment},
            self._root / run.execution_id,
            self.launcher,
        )
        pipeline_arn = run.arn.split("/execution/", 1)[0]
        expressions = Expressions(
            run.parameters,
            {
                "PipelineExecutionId": run.execution_id,
                "PipelineExecutionArn": run.arn,
                "PipelineName": run.pipeline_name,
                "PipelineArn": pipeline_arn,
                "PipelineExecutionStartTime": run.started.isoformat(),
            },
            run.steps,
        )
        try:
            self._run_steps(run, run.definition.get("Steps") or [], expressions, jobs)
            run.status = "Succeeded"
        except StepStopped:
            run.status = "Stopped"
        except StepFailed as failure:
            run.status, run.failure_reason = "Failed", failure.reason
        except Exception as exc:  # the stand-in itself: the execution fails, saying so
            logger.exception("pipeline execution %s failed in the stand-in", run.arn)
            run.status, run.failure_reason = "Failed", f"InternalServerError: {exc}"
        finally:
            record.pipeline_execution_status = run.status
            record.pipeline_execution_failure_reason = run.failure_reason or None
            record.last_modified_time = datetime.now(UTC)
            shutil.rmtree(self._root / run.execution_id, ignore_errors=True)
            self._write_logs(run)
            run.done.set()

    def _run_steps(
        self, run: ExecutionRun, steps: list[dict[str, Any]], expressions: Expressions, jobs: Jobs
    ) -> None:
        for definition in steps:
            if run.stop.is_set():
                raise StepStopped()
            state = StepState(definition["Name"], definition["Type"], status="Executing")
            run.steps[state.name] = state
            try:
                branch = self._run_step(run, definition, state, expressions, jobs)
            except StepStopped:
                state.status, state.ended = "Stopped", datetime.now(UTC)
                raise
            except StepFailed as failure:
                state.status, state.ended = "Failed", datetime.now(UTC)
                state.failure_reason = failure.reason
                raise
            state.status, state.ended = "Succeeded", datetime.now(UTC)
            if branch:
                self._run_steps(run, branch, expressions, jobs)

    def _run_step(
        self,
        run: ExecutionRun,
        definition: dict[str, Any],
        state: StepState,
        expressions: Expressions,
        jobs: Jobs,
    ) -> list[dict[str, Any]]:
        """Run one step; the steps of the branch a condition chose (else none)."""
        kind = state.type
        arguments = definition.get("Arguments") or {}
        if kind == "Condition":
            holds = all(expressions.holds(c) for c in arguments.get("Conditions") or [])
            state.metadata = {"Condition": {"Outcome": "True" if holds else "False"}}
            return list(arguments.get("IfSteps" if holds else "ElseSteps") or [])
        if kind == "Fail":
            message = str(expressions.resolve(arguments.get("ErrorMessage", "")))
            state.metadata = {"Fail": {"ErrorMessage": message}}
            raise StepFailed(message)
        resolved = expressions.resolve(arguments)
        job_name = f"pipelines-{run.execution_id}-{state.name}-{secrets.token_hex(5)}"[:63]
        prefix = f"arn:aws:sagemaker:{run.region}:{run.account_id}"
        if kind == "Processing":
            state.metadata = {"ProcessingJob": {"Arn": f"{prefix}:processing-job/{job_name}"}}
            outputs = jobs.processing(state, job_name, resolved, run.stop)
            for spec in definition.get("PropertyFiles") or []:
                path = outputs[spec["OutputName"]] / spec["FilePath"]
                try:
                    state.property_files[spec["PropertyFileName"]] = json.loads(path.read_text())
                except (OSError, ValueError) as exc:
                    raise StepFailed(
                        f"ClientError: property file {spec['FilePath']} of output "
                        f"{spec['OutputName']} could not be read: {exc}"
                    ) from exc
        elif kind == "Training":
            state.metadata = {"TrainingJob": {"Arn": f"{prefix}:training-job/{job_name}"}}
            jobs.training(state, job_name, resolved, run.stop)
        elif kind == "RegisterModel":
            sagemaker = self._emulator.client("sagemaker", run.region)
            arn = sagemaker.create_model_package(**resolved)["ModelPackageArn"]
            state.metadata = {"RegisterModel": {"Arn": arn}}
            state.properties = {"ModelPackageArn": arn}
        elif kind == "Model":
            sagemaker = self._emulator.client("sagemaker", run.region)
            resolved.setdefault("ModelName", job_name)
            arn = sagemaker.create_model(**resolved)["ModelArn"]
            state.metadata = {"Model": {"Arn": arn}}
            state.properties = {"ModelName": resolved["ModelName"], "ModelArn": arn}
        else:
            raise StepFailed(f"ClientError: step type {kind} is not run by the sandbox")
        return []

    def _write_logs(self, run: ExecutionRun) -> None:
        try:
            logs = self._emulator.client("logs", run.region)
            for step in run.steps.values():
                if not step.lines:
                    continue
                group = (
                    "/aws/sagemaker/TrainingJobs"
                    if step.type == "Training"
                    else "/aws/sagemaker/ProcessingJobs"
                )
                job_arn = next(iter(step.metadata.values()), {}).get("Arn", step.name)
                stream = f"{job_arn.rsplit('/', 1)[-1]}/algo-1"
                with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                    logs.create_log_group(logGroupName=group)
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
                stamp = int(datetime.now(UTC).timestamp() * 1000)
                events = [{"timestamp": stamp, "message": line} for line in step.lines if line]
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        except Exception:
            logger.exception("could not write the logs of %s", run.arn)


def parameter_values(definition: Mapping[str, Any], given: list[dict[str, str]]) -> dict[str, Any]:
    """The execution's parameters: the definition's defaults, overridden by those given."""
    values: dict[str, Any] = {}
    types: dict[str, Any] = {}
    for parameter in definition.get("Parameters") or []:
        types[parameter["Name"]] = PARAMETER_TYPES.get(parameter.get("Type", "String"), str)
        if "DefaultValue" in parameter:
            values[parameter["Name"]] = parameter["DefaultValue"]
    for item in given:
        name = item["Name"]
        if name not in types:
            raise AwsError("ValidationException", f"Parameter {name} is not in the pipeline")
        values[name] = types[name](item["Value"])
    missing = [name for name in types if name not in values]
    if missing:
        raise AwsError("ValidationException", f"No value for parameters {', '.join(missing)}")
    return values
