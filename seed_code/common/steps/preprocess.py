"""Preprocess: split the raw dataset into train, validation and test sets.

Reads every ``*.csv`` under ``--input-dir`` (one header row, a ``target``
column), writes ``train/train.csv``, ``validation/validation.csv`` and
``test/test.csv`` under ``--output-dir``, and ``dataset/dataset.json``: the
SHA-256 of the input files, row and column counts. The pipeline reads that
report (a property file) to record the dataset version on the registered model.

In SageMaker: a processing job, paths under ``/opt/ml/processing``.
Locally: ``python steps/preprocess.py --input-dir data/ --output-dir out/``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

TARGET = "target"
SPLITS = ("train", "validation", "test")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-dir", type=Path, default=Path("/opt/ml/processing/raw"))
    parser.add_argument("--output-dir", type=Path, default=Path("/opt/ml/processing"))
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def dataset_files(input_dir: Path) -> list[Path]:
    files = sorted(p for p in input_dir.rglob("*.csv") if p.is_file())
    if not files:
        raise SystemExit(f"preprocess: no *.csv file under {input_dir}")
    return files


def fingerprint(files: list[Path], root: Path) -> str:
    """SHA-256 over each file's relative name and bytes: the dataset version recorded as lineage."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def split(
    frame: pd.DataFrame, validation: float, test: float, seed: int
) -> dict[str, pd.DataFrame]:
    rest, test_part = train_test_split(
        frame, test_size=test, random_state=seed, stratify=frame[TARGET]
    )
    train_part, validation_part = train_test_split(
        rest,
        test_size=validation / (1 - test),
        random_state=seed,
        stratify=rest[TARGET],
    )
    return {"train": train_part, "validation": validation_part, "test": test_part}


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = parse_args(argv)
    files = dataset_files(args.input_dir)
    frame = pd.concat([pd.read_csv(path) for path in files], ignore_index=True)
    if TARGET not in frame.columns:
        raise SystemExit(f"preprocess: the dataset has no {TARGET!r} column")
    frame = frame.dropna()
    parts = split(frame, args.validation_fraction, args.test_fraction, args.seed)
    for name, part in parts.items():
        out = args.output_dir / name
        out.mkdir(parents=True, exist_ok=True)
        part.to_csv(out / f"{name}.csv", index=False)
    report: dict[str, object] = {
        "sha256": fingerprint(files, args.input_dir),
        "files": [p.relative_to(args.input_dir).as_posix() for p in files],
        "rows": len(frame),
        "columns": int(frame.shape[1]),
        "target": TARGET,
        "splits": {name: len(part) for name, part in parts.items()},
    }
    report_dir = args.output_dir / "dataset"
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "dataset.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"preprocess: {report['rows']} rows, sha256 {report['sha256'][:12]}, "
        f"splits {report['splits']}"
    )
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
