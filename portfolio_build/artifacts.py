"""Deterministic zips: same inputs, same bytes (fixed timestamps, order and modes)."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path

from dulwich.ignore import IgnoreFilter

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Caches, virtual environments, and what running the seed code locally leaves behind
# (local_runs/, mlruns/), whatever a .gitignore says.
EXCLUDED_DIRS = frozenset(
    {
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".git",
        ".venv",
        "venv",
        "local_runs",
        "mlruns",
    }
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd")
EXCLUDED_NAMES = frozenset({".DS_Store"})


def collect_files(
    root: Path, arc_prefix: str = "", ignore_files: Iterable[Path] = ()
) -> dict[str, Path]:
    """Archive name -> file under ``root``, skipping caches, compiled files and what the
    ``.gitignore`` of ``root`` (and any further ``ignore_files``) ignores: a working tree
    packs like a fresh clone, not with someone's local database or virtualenv."""
    filters = [
        IgnoreFilter.from_path(ignore)
        for ignore in (root / ".gitignore", *ignore_files)
        if ignore.is_file()
    ]
    files: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in EXCLUDED_DIRS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if not path.is_file() or path.name in EXCLUDED_NAMES or path.suffix in EXCLUDED_SUFFIXES:
            continue
        if any(_ignored(f, relative) for f in filters):
            continue
        files[f"{arc_prefix}{relative.as_posix()}"] = path
    return files


def _ignored(ignore: IgnoreFilter, relative: Path) -> bool:
    """Ignored itself or through one of its directories (as git sees it)."""
    parents = [f"{parent.as_posix()}/" for parent in reversed(relative.parents[:-1])]
    return any(ignore.is_ignored(p) for p in [*parents, relative.as_posix()])


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
