"""Serving functions for the SageMaker scikit-learn container.

Requests: ``text/csv`` (one record per line, the features in training order,
no header) or ``application/json`` (``{"instances": [[...], ...]}``).
Response (``application/json``)::

    {"predictions": [{"label": 1, "probability": 0.98}, ...]}
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import joblib
import numpy as np

CSV = "text/csv"
JSON = "application/json"


def model_fn(model_dir: str) -> object:
    return joblib.load(Path(model_dir) / "model.joblib")


def input_fn(body: str | bytes, content_type: str = CSV) -> np.ndarray:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == CSV:
        rows = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)
    elif media_type == JSON:
        document = json.loads(text)
        instances = document.get("instances") if isinstance(document, dict) else document
        if not isinstance(instances, list) or not instances:
            raise ValueError('JSON requests must be {"instances": [[feature, ...], ...]}')
        rows = np.asarray(instances, dtype=float)
        if rows.ndim == 1:
            rows = rows.reshape(1, -1)
    else:
        raise ValueError(f"unsupported content type {content_type!r}: send {CSV} or {JSON}")
    return rows


def predict_fn(rows: np.ndarray, model: object) -> list[dict[str, float | int]]:
    labels = model.predict(rows)  # type: ignore[attr-defined]
    probabilities = model.predict_proba(rows)[:, 1]  # type: ignore[attr-defined]
    return [
        {"label": int(label), "probability": round(float(p), 6)}
        for label, p in zip(labels, probabilities, strict=True)
    ]


def output_fn(predictions: list[dict[str, float | int]], accept: str = JSON) -> tuple[str, str]:
    if accept and accept.split(";")[0].strip().lower() not in (JSON, "*/*"):
        raise ValueError(f"unsupported accept type {accept!r}: responses are {JSON}")
    return json.dumps({"predictions": predictions}), JSON
