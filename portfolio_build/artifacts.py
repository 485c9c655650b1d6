"""Deterministic zips: same inputs, same bytes (fixed timestamps, order and modes)."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Caches, and what running the seed code locally leaves behind (local_runs/, mlruns/).
EXCLUDED_DIRS = frozenset(
    {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git", "local_runs", "mlruns"}
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd")
EXCLUDED_NAMES = frozenset({".DS_Store"})


def collect_files(root: Path, arc_prefix: str = "") -> dict[str, Path]:
    """Archive name -> file under ``root``, skipping caches and compiled files."""
    files: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in EXCLUDED_DIRS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if not path.is_file() or path.name in EXCLUDED_NAMES or path.suffix in EXCLUDED_SUFFIXES:
            continue
        files[f"{arc_prefix}{relative.as_posix()}"] = path
    return files


def write_zip(destination: Path, files: dict[str, Path] | Iterable[tuple[str, Path]]) -> None:
    """Write ``files`` (archive name -> source) sorted by name, keeping the executable bit."""
    entries = sorted(dict(files).items())
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, source in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # Unix, so that unzip and git honour the mode bits
            executable = source.stat().st_mode & stat.S_IXUSR
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(
                info, source.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6
            )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
