"""Time and size of a fresh install of each seed-code requirement set, as a data scientist
meets it: a new virtualenv, an empty pip cache (``--no-cache-dir``), the registry reachable.

    .venv/bin/python benchmarks/seed_install.py [--sets local,mlflow,pipeline] [--readme]

For each set: ``python3 -m venv`` then the Makefile's target (``make install``, which
picks requirements-mlflow.txt in an MLflow project, or ``make install-pipeline``) with
``PIP_NO_CACHE_DIR=1``, in a fresh seed repository (seed_code/common overlaid by the
baseline scenario, with a project.json as the platform writes it); prints the wall time
and the virtualenv's size. ``--readme`` also runs the first code block of the seed README
as written, line by line with bash, timing each (``make install`` there is the local
set). Target (issue 15): the local set in under 60 s. Needs the package registry:
not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lambda_project_lifecycle.naming import ProjectNames  # noqa: E402
from lambda_project_lifecycle.scenarios import SCENARIOS  # noqa: E402
from portfolio_build import render  # noqa: E402

# set -> (requirements file, registry of the project, the make target that installs it)
SETS = {
    "local": ("requirements.txt", "sagemaker", "install"),
    "mlflow": ("requirements-mlflow.txt", "mlflow", "install"),
    "pipeline": ("requirements-pipeline.txt", "sagemaker", "install-pipeline"),
}
TARGET_SECONDS = 60.0


def seed_repository(
    destination: Path, scenario: str = "baseline", registry: str = "sagemaker"
) -> Path:
    staging = destination.parent / "staging"
    for name, source in render.seed_files(render.SEED_CODE_DIR, scenario, staging).items():
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination / name)
    names = ProjectNames("churn", "p-abc123def456")
    document = {
        "schema_version": 1,
        "project_name": names.project_name,
        "project_id": names.project_id,
        "scenario": scenario,
        "registry": registry,
        "region": "eu-west-1",
        "account_id": "123456789012",
        "bucket": "mlops-portfolio-artifacts-123456789012-eu-west-1",
        "prefix": names.prefix,
        "model_groups": {
            kind: names.model_package_group(kind) for kind in SCENARIOS[scenario].model_group_kinds
        },
    }
    if registry == "mlflow":
        document["mlflow_tracking_uri"] = "http://127.0.0.1:5000"
    (destination / "project.json").write_text(json.dumps(document, indent=2))
    return destination


def megabytes(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(REPO))
    )
    env["PIP_NO_CACHE_DIR"] = "1"
    return env


def install(repo: Path, target: str) -> tuple[float, float]:
    """``python3 -m venv .venv`` and ``make <target>`` with its python: (seconds, MB)."""
    venv = repo / ".venv"
    started = time.perf_counter()
    for command in (
        ["python3", "-m", "venv", str(venv)],
        ["make", "--no-print-directory", target, f"PYTHON={venv / 'bin' / 'python'}"],
    ):
        done = subprocess.run(command, cwd=repo, env=environment(), capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started, megabytes(venv)


def readme_commands() -> list[str]:
    text = (render.SEED_CODE_DIR / "common" / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block is not None, "the seed README has no bash block"
    return [line for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def run_readme(repo: Path) -> None:
    # One bash for the whole block (its first line activates the virtualenv), timed per line.
    lines = readme_commands()
    script = "set -e\n" + "".join(
        f'echo "README {index} $EPOCHREALTIME" >&2\n{line}\n' for index, line in enumerate(lines)
    )
    script += f'echo "README {len(lines)} $EPOCHREALTIME" >&2\n'
    done = subprocess.run(
        ["bash", "-c", script], cwd=repo, env=environment(), capture_output=True, text=True
    )
    marks = [line.split() for line in done.stderr.splitlines() if line.startswith("README ")]
    times = {int(index): float(stamp) for _, index, stamp in marks}
    for index, line in enumerate(lines):
        if index + 1 in times:
            print(f"  {times[index + 1] - times[index]:6.1f} s  {line.split('#')[0].strip()}")
    if done.returncode != 0:
        raise SystemExit(
            f"the README's commands failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as scratch:
        for name in args.sets.split(","):
            requirements, registry, make_target = SETS[name]
            repo = seed_repository(Path(scratch) / name / "repo", registry=registry)
            seconds, size = install(repo, make_target)
            target = f"; target < {TARGET_SECONDS:.0f} s" if name == "local" else ""
            print(f"{name:<9} {requirements:<26} {seconds:6.1f} s  {size:7.0f} MB{target}")
            ok = ok and (name != "local" or seconds < TARGET_SECONDS)
        if args.readme:
            print("the seed README's first commands, as written:")
            run_readme(seed_repository(Path(scratch) / "readme" / "repo"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
