"""Served inference: InvokeEndpoint answered by the model the endpoint's variant serves.

moto answers InvokeEndpoint with a canned text. :class:`EndpointInference`
answers it as a framework serving container would:

- the production variant is ``TargetVariant``, or one picked at random by the
  variants' weights; shadow variants (kept on the config by the emulator) get a
  copy of the request and their answers are dropped, as SageMaker does;
- the variant's model (its ``ModelDataUrl`` in moto's S3, its container
  environment) is unpacked once (as the container's ``/opt/ml/model``) and
  served by a worker process forked from the zygote that holds the framework's
  libraries (the pipelines' jobs' one when given, :mod:`sandbox.model_server`):
  the model's own ``inference.py`` loads it (``model_fn``) and answers each
  request (``input_fn``, ``predict_fn``, ``output_fn``); workers are reused;
- a container error answers ``ModelError`` with the container's status and
  message (``OriginalStatusCode``, ``OriginalMessage``, ``LogStreamArn``), a
  request that outlives 60 seconds too; an endpoint that is not in service,
  or a variant it lacks, answers ``ValidationError``;
- the containers' output is kept per endpoint (:meth:`EndpointInference.logs`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import shutil
import tarfile
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox import lambda_bootstrap
from sandbox.emulator import AwsError, Call, Emulator
from sandbox.lambda_workers import Worker, WorkerListener, WorkerPool
from sandbox.pipeline_steps import JOB_THREADS, JobLauncher

INVOCATION_TIMEOUT_SECONDS = 60.0
MODEL_LOAD_TIMEOUT_SECONDS = 120.0
SERVING_STATES = ("InService", "Updating", "SystemUpdating", "RollingBack")
SERVER_MODULE = "model_server"
# Copied into the workers' code directory, never imported here: it loads a model at import.
SERVER_SOURCE = Path(__file__).with_name(f"{SERVER_MODULE}.py")
BOOTSTRAP = Path(lambda_bootstrap.__file__)


@dataclass(frozen=True)
class ServedModel:
    """What one variant serves: its model's archive and container environment."""

    endpoint: str
    variant: str
    model_name: str
    model_data_url: str
    environment: tuple[tuple[str, str], ...]


@dataclass
class Invocation:
    endpoint: str
    variant: str
    status: int
    shadow: bool = False


class EndpointInference:
    """Answers sagemaker-runtime InvokeEndpoint on ``emulator`` from the served models."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        launcher: JobLauncher | None = None,
        environment: Mapping[str, str] | None = None,
        workers_per_variant: int = 2,
    ) -> None:
        self._emulator = emulator
        self._environment = dict(environment or {})
        self.workers_per_variant = workers_per_variant
        self._root = Path(tempfile.mkdtemp(prefix="inference-"))
        self._server_dir = self._root / "server"
        self._server_dir.mkdir()
        shutil.copy(SERVER_SOURCE, self._server_dir / f"{SERVER_MODULE}.py")
        # Workers fork from the zygote of the pipelines' jobs when given (one copy of the
        # framework's libraries for both), else from one of their own.
        self._owns_launcher = launcher is None
        self._launcher = launcher or JobLauncher(self._root / "launcher")
        self._listener = WorkerListener(self._root)
        self._models: dict[str, Path] = {}  # model data URL -> unpacked directory
        self._pool = WorkerPool()
        self._lock = threading.Lock()
        self.invocations: list[Invocation] = []
        self._logs: dict[str, list[str]] = {}
        emulator.answer(
            "sagemaker-runtime",
            "InvokeEndpoint",
            "moto answers a canned text: served from the variant's model.tar.gz by the "
            "model's own inference code",
        )(self._invoke)
        for operation in ("UpdateEndpoint", "DeleteEndpoint"):
            emulator.before(
                "sagemaker", operation, "the endpoint's idle model workers end (memory)"
            )(self._retire_endpoint_workers)
        emulator.on_stop(self.stop)

    def logs(self, endpoint: str) -> list[str]:
        with self._lock:
            return list(self._logs.get(endpoint, []))

    def stop(self) -> None:
        self._pool.close()
        if self._owns_launcher:
            self._launcher.stop()
        self._listener.close()
        shutil.rmtree(self._root, ignore_errors=True)

    def worker_pids(self, endpoint: str) -> list[int]:
        """The processes of the endpoint's idle workers."""
        return self._pool.idle_pids(lambda key: getattr(key, "endpoint", None) == endpoint)

    def _retire_endpoint_workers(self, call: Call) -> None:
        """An endpoint deleted or updated to another config serves none of its old models:
        their idle workers end (a worker still needed is started again on the next call)."""
        name = call.params.get("EndpointName")
        self._pool.retire(lambda key, _: getattr(key, "endpoint", None) == name)

    # -- the API ----------------------------------------------------------------------------

    def _invoke(self, call: Call) -> dict[str, Any]:
        params = call.params
        name = params["EndpointName"]
        backend = call.backend("sagemaker")
        endpoint = backend.endpoints.get(name)
        if endpoint is None:
            raise AwsError(
                "ValidationError", f"Endpoint {name} of account {call.account_id} not found."
            )
        if endpoint.endpoint_status not in SERVING_STATES:
            raise AwsError(
                "ValidationError", f"Endpoint {name} is {endpoint.endpoint_status}, not InService."
            )
        config = backend.endpoint_configs[endpoint.endpoint_config_name]
        variant = self._variant(endpoint, params.get("TargetVariant"))
        body = params.get("Body") or b""
        body = body.encode() if isinstance(body, str) else bytes(body)
        request = {
            "body": base64.b64encode(body).decode(),
            "content_type": params.get("ContentType") or "application/json",
            "accept": params.get("Accept") or "application/json",
        }
        for shadow in getattr(config, "shadow_production_variants", None) or []:
            served = self._served(call, name, shadow)
            threading.Thread(
                target=self._serve, args=(call, served, request, True), daemon=True
            ).start()
        production = next(v for v in config.production_variants if v["VariantName"] == variant)
        answer = self._serve(call, self._served(call, name, production), request, False)
        status = int(answer.get("status", 500))
        data = base64.b64decode(answer.get("body") or "")
        if status != 200:
            raise self._model_error(call, name, variant, status, data.decode("utf-8", "replace"))
        return {
            "Body": data,
            "ContentType": answer.get("content_type") or request["accept"],
            "InvokedProductionVariant": variant,
        }

    def _variant(self, endpoint: Any, target: str | None) -> str:
        variants = endpoint.production_variants
        names = [v["VariantName"] for v in variants]
        if target:
            if target not in names:
                raise AwsError(
                    "ValidationError",
                    f"The variant {target} is not one of endpoint {endpoint.endpoint_name}'s: "
                    f"{', '.join(names)}",
                )
            return str(target)
        weights = [float(v.get("CurrentWeight", v.get("DesiredWeight", 1.0))) for v in variants]
        if not any(weights):
            weights = [1.0] * len(variants)
        return str(random.choices(names, weights=weights)[0])

    def _served(self, call: Call, endpoint: str, variant: dict[str, Any]) -> ServedModel:
        model = call.backend("sagemaker")._models.get(variant["ModelName"])
        if model is None:
            raise AwsError("ValidationError", f"Model {variant['ModelName']} does not exist.")
        container = model.primary_container or (model.containers or [{}])[0]
        if container.get(
            "ModelPackageName"
        ):  # a model of a registered package serves its container
            package = call.backend("sagemaker").describe_model_package(
                container["ModelPackageName"]
            )
            container = (package.inference_specification or {}).get("Containers", [{}])[0]
        return ServedModel(
            endpoint=endpoint,
            variant=variant["VariantName"],
            model_name=variant["ModelName"],
            model_data_url=str(container.get("ModelDataUrl", "")),
            environment=tuple(sorted((container.get("Environment") or {}).items())),
        )

    def _model_error(
        self, call: Call, endpoint: str, variant: str, status: int, message: str
    ) -> AwsError:
        kind = "client" if 400 <= status < 500 else "server"
        group = f"/aws/sagemaker/Endpoints/{endpoint}"
        error = AwsError(
            "ModelError",
            f'Received {kind} error ({status}) from primary with message "{message}". See '
            f"https://{call.region}.console.aws.amazon.com/cloudwatch/home?region={call.region}"
            f"#logEventViewer:group={group} in account {call.account_id} for more information.",
        )
        error.OriginalStatusCode = status  # type: ignore[attr-defined]
        error.OriginalMessage = message  # type: ignore[attr-defined]
        error.LogStreamArn = (  # type: ignore[attr-defined]
            f"arn:aws:logs:{call.region}:{call.account_id}:log-group:{group}:"
            f"log-stream:{variant}/i-0000000000000000"
        )
        return error

    # -- workers ------------------------------------------------------------------------------

    def _serve(
        self, call: Call, served: ServedModel, request: dict[str, str], shadow: bool
    ) -> dict[str, Any]:
        worker, init_error = self._acquire(call, served)
        try:
            if init_error is not None:
                return {"status": 500, "body": base64.b64encode(init_error.encode()).decode()}
            meta = {
                "request_id": str(uuid.uuid4()),
                "deadline_ms": 0,
                "invoked_function_arn": served.endpoint,
            }
            result = worker.invoke(meta, json.dumps(request).encode(), INVOCATION_TIMEOUT_SECONDS)
        finally:
            self._release(served, worker)
        if result.timed_out:
            message = (
                "Your invocation timed out while waiting for a response from container primary."
            )
            answer = {"status": 0, "body": base64.b64encode(message.encode()).decode()}
        elif result.error is not None or result.exited is not None:
            text = json.dumps(result.error or {"errorMessage": "the container exited"})
            answer = {"status": 500, "body": base64.b64encode(text.encode()).decode()}
        else:
            answer = dict(json.loads(result.body))
        with self._lock:
            self._logs.setdefault(served.endpoint, []).extend(result.lines)
            self.invocations.append(
                Invocation(served.endpoint, served.variant, int(answer["status"]), shadow)
            )
        return answer

    def _acquire(self, call: Call, served: ServedModel) -> tuple[Worker, str | None]:
        # Workers of models the endpoint's variant no longer serves end.
        self._pool.retire(
            lambda key, worker: (
                key != served
                and getattr(key, "endpoint", "") == served.endpoint
                and getattr(key, "variant", "") == served.variant
            )
        )
        worker = self._pool.take(served, served, self.workers_per_variant, wait=True)
        if worker is not None:
            return worker, None
        try:
            return self._start(call, served)
        except BaseException:
            self._pool.give_back(served, served, None)
            raise

    def _release(self, served: ServedModel, worker: Worker | None) -> None:
        self._pool.give_back(served, served, worker)

    def _start(self, call: Call, served: ServedModel) -> tuple[Worker, str | None]:
        root = self._model_root(call, served.model_data_url)
        worker_id = uuid.uuid4().hex
        environment = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "SAGEMAKER_REGION": call.region,
            **dict(served.environment),
            **self._emulator.environment(call.region),
            **JOB_THREADS,
            **self._environment,
            "SANDBOX_MODEL_DIR": str(root / "opt/ml/model"),
        }
        spec = {
            "worker": worker_id,
            "socket": self._listener.path,
            "handler": f"{SERVER_MODULE}.handler",
            "code_dir": str(self._server_dir),
            "environment": environment,
        }
        self._launcher.start(
            root=root,  # /opt/ml/model is the unpacked model.tar.gz, as in the container
            script=str(BOOTSTRAP),
            arguments=["--worker", json.dumps(spec)],
            environment=environment,
            cwd=root / "opt/ml/model",
            log=self._root / f"worker-{worker_id}.log",
        )
        control, log, pid = self._listener.wait(worker_id, MODEL_LOAD_TIMEOUT_SECONDS)
        worker = Worker(worker_id, control, log, pid)
        init = worker.await_init(MODEL_LOAD_TIMEOUT_SECONDS)
        with self._lock:
            self._logs.setdefault(served.endpoint, []).extend(init.lines)
        failure = init.header.get("init_error")
        if init.timed_out or init.exited is not None or failure:
            worker.kill()
            reason = (failure or {}).get("errorMessage") or "the container did not start"
            return worker, f"the model of variant {served.variant} could not be loaded: {reason}"
        return worker, None

    def _model_root(self, call: Call, url: str) -> Path:
        """A directory whose ``opt/ml/model`` holds the unpacked ``model.tar.gz`` at ``url``."""
        with self._lock:
            known = self._models.get(url)
        if known is not None:
            return known
        bucket, _, key = url.removeprefix("s3://").partition("/")
        s3 = self._emulator.client("s3", call.region)
        try:
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as exc:  # botocore's NoSuchKey or NoSuchBucket
            raise AwsError("ValidationError", f"Could not read model data {url}: {exc}") from exc
        root = self._root / "models" / hashlib.sha256(url.encode()).hexdigest()[:16]
        (root / "opt/ml/model").mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(root / "opt/ml/model", filter="data")
        with self._lock:
            self._models[url] = root
        return root
