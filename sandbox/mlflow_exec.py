"""``mlflow server`` whose process becomes its uvicorn server: run as a script with the
arguments of ``mlflow server``.

MLflow's command checks its options, initialises the stores (the SQLite schema) and then
starts uvicorn as a child, which it waits for: a parent of ~200 MB that does nothing but
forward signals. Here the command does all the same up to that point and then replaces
itself with that uvicorn command (``os.execvpe``, same process and process group, with the
environment MLflow made for it), so the sandbox's tracking server is one process. Which
function MLflow starts the child with (``mlflow.server._exec_cmd``) is a fact of the MLflow
version ``pyproject.toml`` pins; tests/sandbox/test_mlflow_tracking.py holds it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn


def exec_instead(
    command: Sequence[str], extra_env: Mapping[str, str] | None = None, **_: Any
) -> NoReturn:
    os.execvpe(command[0], list(command), {**os.environ, **(extra_env or {})})


def main(arguments: Sequence[str]) -> int:
    import mlflow.server
    from mlflow.cli import cli

    if not callable(getattr(mlflow.server, "_exec_cmd", None)):
        raise SystemExit(
            "this MLflow version starts its server otherwise: see sandbox/mlflow_exec.py"
        )
    mlflow.server._exec_cmd = exec_instead  # type: ignore[attr-defined]
    cli.main(["server", *arguments], prog_name="mlflow")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
