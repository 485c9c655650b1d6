"""What ``python build.py sandbox`` prints and writes: a line per step as it ends, then a table
per project; ``--report FILE`` writes the same as JSON.

A step line reads ``✓   2.41 s  baseline-sagemaker  push feature-x  <what happened>``
(``✗`` and the reason when it failed). The JSON document::

    {"ok": true, "seconds": 71.3, "failed_step": null,
     "steps": [{"project": "...", "step": "...", "seconds": 2.41, "ok": true, "detail": "..."}],
     "projects": [{"product": "...", "name": "...", "id": "...", "method": "servicecatalog",
                   "on_delete": "delete-all", "repository": "...", "branches": [...],
                   "packages": {"feature": [{"version": 1, "status": "Approved",
                                             "commit": "..."}], ...},
                   "registry": "mlflow" (MLflow products: packages are MLflow versions,
                                         status their aliases),
                   "endpoints": {"<name>": [{"name": "AllTraffic", "weight": 1.0,
                                            "package": "..."}]},
                   "tests": [{"endpoint": "...", "after": "approve dev", ...}],
                   "left_after_delete": {"repositories": [...], ...}}]}
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

T = TypeVar("T")
PASSED, FAILED = "✓", "✗"


@dataclass
class StepLine:
    project: str
    step: str
    seconds: float
    ok: bool
    detail: str = ""

    def text(self) -> str:
        mark = PASSED if self.ok else FAILED
        detail = self.detail.replace("\n", "\n" + " " * 14)
        return f"{mark} {self.seconds:7.2f} s  {self.project:<19} {self.step:<34} {detail}".rstrip()


@dataclass
class Described(Generic[T]):
    """What a step returns when its value is not the text of its line."""

    value: T
    summary: str


class StepFailed(Exception):
    """A step of the walk failed: the run stops here and exits non-zero, naming it."""

    def __init__(self, line: StepLine) -> None:
        super().__init__(f"step failed: {line.project}: {line.step}: {line.detail}")
        self.line = line


@dataclass
class Report:
    """Every step so far and each project's facts; printed as it goes."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    steps: list[StepLine] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    failed: StepLine | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def step(self, project: str, name: str, action: Callable[[], Described[T] | str]) -> Any:
        """Run ``action``; its line (with the text it returns, or the summary of what it
        describes) printed when it ends; the described value (or the text). Projects walked
        side by side call it from their threads; once a step failed, no other one starts."""
        if self.failed is not None:
            raise StepFailed(self.failed)
        began = time.perf_counter()
        try:
            result = action()
        except Exception as exc:
            line = StepLine(project, name, time.perf_counter() - began, False, _reason(exc))
            with self._lock:
                self._add(line)
                self.failed = self.failed or line
            raise StepFailed(line) from exc
        detail = result.summary if isinstance(result, Described) else str(result or "")
        with self._lock:
            self._add(StepLine(project, name, time.perf_counter() - began, True, detail))
        return result.value if isinstance(result, Described) else result

    def _add(self, line: StepLine) -> None:
        self.steps.append(line)
        print(line.text(), file=self.out, flush=True)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def document(self) -> dict[str, Any]:
        return {
            "ok": self.failed is None,
            "seconds": round(self.seconds, 2),
            "failed_step": asdict(self.failed) if self.failed else None,
            "steps": [{**asdict(s), "seconds": round(s.seconds, 3)} for s in self.steps],
            "projects": self.projects,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.document(), indent=2, sort_keys=True) + "\n")

    def print_tables(self) -> None:
        for project in self.projects:
            print(file=self.out)
            for line in project_table(project):
                print(line, file=self.out)
        verdict = "all steps passed" if self.failed is None else f"FAILED: {self.failed.step}"
        print(f"\n{len(self.steps)} steps in {self.seconds:.1f} s: {verdict}", file=self.out)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 2000 else text[:2000] + " ..."


def _some(names: list[str], shown: int = 2) -> str:
    more = f", ... ({len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def project_table(project: dict[str, Any]) -> list[str]:
    """Two columns, what and value, under the project's title."""
    rows: list[tuple[str, str]] = [
        ("product", project["product"]),
        ("created through", project["method"]),
        ("project id", project.get("id", "")),
        ("repository", project.get("repository", "")),
        ("branches", ", ".join(project.get("branches", []))),
    ]
    registered = "MLflow versions" if project.get("registry") == "mlflow" else "packages"
    for kind, packages in (project.get("packages") or {}).items():
        text = ", ".join(f"v{p['version']} {p['status']} ({p['commit'][:8]})" for p in packages)
        rows.append((f"{registered} in {kind}", text or "none"))
    for endpoint, variants in (project.get("endpoints") or {}).items():
        text = ", ".join(
            f"{v['name']} {v['share']:.0f}% v{v['package'].rsplit('/', 1)[-1]}" for v in variants
        )
        rows.append((f"endpoint {endpoint}", text or "gone"))
    for test in project.get("tests", []):
        rows.append((f"tests after {test['after']}", test.get("summary", "")))
    rows.append(("deleted with OnDelete", project.get("on_delete", "")))
    left = project.get("left_after_delete")
    if left is not None:
        kept = [f"{kind} ({len(names)}): {_some(names)}" for kind, names in left.items() if names]
        rows.append(("left after delete", "; ".join(kept) or "nothing"))
    rows = [(what, value) for what, value in rows if value]
    width = max(len(what) for what, _ in rows)
    title = f"{project['name']} ({project['product']})"
    return [title, "-" * len(title), *(f"  {what:<{width}}  {value}" for what, value in rows)]
