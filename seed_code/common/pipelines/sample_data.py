"""The sample dataset: scikit-learn's Wisconsin breast cancer data (569 rows, 30 features).

It ships inside the scikit-learn wheel, so local runs and the first pipeline
run need no download. Replace it with your own data by pointing the pipeline's
``InputDataUri`` at it (``INPUT_DATA_URI`` in buildspec.yml, under the
project's prefix: README.md, "Build settings"); keep a ``target`` column (0/1)
and numeric features.
"""

from __future__ import annotations

from pathlib import Path

TARGET = "target"


def write_sample_csv(path: Path) -> Path:
    """Write the sample as CSV (header row, ``target`` last) to ``path``; return it."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def sample_csv_bytes(scratch_dir: Path) -> bytes:
    return write_sample_csv(scratch_dir / "breast_cancer.csv").read_bytes()
