"""What a framework serving container runs for one model: load it once, then answer requests.

Copied into the serving workers' code directory and run there as a worker's
handler (:mod:`sandbox.lambda_workers`), standard library only at import. The
worker's environment names the model: ``SANDBOX_MODEL_DIR`` is the unpacked
``model.tar.gz`` (the container's ``/opt/ml/model``), ``SAGEMAKER_PROGRAM``
and ``SAGEMAKER_SUBMIT_DIRECTORY`` the inference script, as the model's
container environment says. The init phase imports the script and calls its
``model_fn``; each request goes through ``input_fn``, ``predict_fn`` and
``output_fn`` (the scikit-learn container's defaults where the script has
none). An error in them answers 500 with the traceback, as the SageMaker
inference toolkit does.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import sys
import traceback

CONTAINER_MODEL_DIR = "/opt/ml/model"
MODEL_DIR = os.environ["SANDBOX_MODEL_DIR"]


def _local(path: str) -> str:
    if path == CONTAINER_MODEL_DIR or path.startswith(CONTAINER_MODEL_DIR + "/"):
        return MODEL_DIR + path[len(CONTAINER_MODEL_DIR) :]
    return path


def _load_program():
    program = os.environ.get("SAGEMAKER_PROGRAM", "")
    if not program:
        return None
    directory = _local(os.environ.get("SAGEMAKER_SUBMIT_DIRECTORY", CONTAINER_MODEL_DIR + "/code"))
    sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(
        program.removesuffix(".py"), f"{directory}/{program}"
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {program} from {directory}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def default_model_fn(model_dir: str):
    import joblib

    return joblib.load(os.path.join(model_dir, "model.joblib"))


def default_input_fn(body, content_type):
    import numpy as np

    text = body.decode("utf-8") if isinstance(body, bytes) else body
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/json":
        return np.asarray(json.loads(text))
    if media == "text/csv":
        return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)
    raise ValueError(f"Content type {content_type} is not supported by this framework.")


def default_predict_fn(data, model):
    return model.predict(data)


def default_output_fn(prediction, accept):
    media = (accept or "application/json").split(";")[0].strip().lower()
    values = prediction.tolist() if hasattr(prediction, "tolist") else prediction
    if media in ("application/json", "*/*"):
        return json.dumps(values), "application/json"
    if media == "text/csv":
        rows = values if isinstance(values, list) else [values]
        lines = [",".join(map(str, r)) if isinstance(r, list) else str(r) for r in rows]
        return "\n".join(lines), "text/csv"
    raise ValueError(f"Accept type {accept} is not supported by this framework.")


PROGRAM = _load_program()
model_fn = getattr(PROGRAM, "model_fn", default_model_fn)
input_fn = getattr(PROGRAM, "input_fn", default_input_fn)
predict_fn = getattr(PROGRAM, "predict_fn", default_predict_fn)
output_fn = getattr(PROGRAM, "output_fn", default_output_fn)
MODEL = model_fn(MODEL_DIR)


def handler(event, context):
    """One request: ``body`` (base64), ``content_type``, ``accept``; the container's answer."""
    body = base64.b64decode(event.get("body") or "")
    content_type = event.get("content_type") or "application/json"
    accept = event.get("accept") or "application/json"
    try:
        answer = output_fn(predict_fn(input_fn(body, content_type), MODEL), accept)
    except Exception:
        trace = traceback.format_exc()
        print(trace, file=sys.stderr)
        return {
            "status": 500,
            "body": base64.b64encode(trace.encode()).decode(),
            "content_type": "text/plain",
        }
    if isinstance(answer, tuple):
        payload, returned_type = answer[0], answer[1]
    else:
        payload, returned_type = answer, accept
    data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    return {"status": 200, "body": base64.b64encode(data).decode(), "content_type": returned_type}
