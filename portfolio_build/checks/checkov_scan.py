"""checkov over the built templates: a failed check is a finding, a skip needs a reason.

checkov runs in its own pinned virtualenv (``.venv-checkov/``, see
:mod:`portfolio_build.tool_environments`), in a child process that starts as soon as the
templates are written, so it works while the build packages and lints. A check that does not
fit the design is skipped where the generators make the resource, in its ``Metadata``
(``{"checkov": {"skip": [{"id": ..., "comment": ...}]}}``); there is no global skip list. A
skip without a comment is a finding.

checkov's answer depends only on the templates, the pinned packages and the runner, so it is
kept under ``.venv-checkov/reports/`` by their digest: a build whose templates did not change
does not run checkov again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from portfolio_build.checks import Finding
from portfolio_build.errors import BuildError
from portfolio_build.tool_environments import ToolEnvironment

logger = logging.getLogger("build")

CHECK = "checkov"
REQUIREMENTS = Path(__file__).with_name("checkov-requirements.txt")
RUNNER = Path(__file__).with_name("checkov_runner.py")
# What checkov records for a Metadata skip that has no comment.
NO_REASON = "No comment provided"
RUN_TIMEOUT_SECONDS = 600
KEPT_REPORTS = 20
STDERR_TAIL_LINES = 5


@dataclass(frozen=True, order=True)
class Skip:
    """A check skipped in a resource's Metadata, with the reason given there."""

    template: str
    resource: str  # "Type.LogicalId", as checkov names it
    check_id: str
    reason: str


@dataclass(frozen=True)
class CheckovReport:
    """What checkov found over the templates (named by their labels)."""

    version: str
    passed: int
    failed: list[Finding] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        """Failed checks, skips without a reason, templates checkov could not read."""
        unexplained = [
            Finding(
                s.template,
                f"{CHECK} {s.check_id}",
                f"{resource_name(s.resource)}: skipped without a reason; "
                "give one as the comment of the skip in the resource's Metadata",
            )
            for s in self.skips
            if not has_reason(s)
        ]
        unreadable = [
            Finding(t, CHECK, "checkov could not read the template") for t in self.unparsed
        ]
        return [*self.failed, *unexplained, *unreadable]

    def summary(self) -> str:
        justified = [s for s in self.skips if has_reason(s)]
        counts = Counter(s.check_id for s in justified)
        by_check = ", ".join(f"{check} x{n}" for check, n in sorted(counts.items()))
        return (
            f"checkov {self.version}: {self.passed} passed, {len(self.failed)} failed, "
            f"{len(justified)} skipped with a reason" + (f" ({by_check})" if by_check else "")
        )

    def skip_lines(self) -> list[str]:
        """Every skip with its reason, one line each."""
        return [
            f"{s.template}: {resource_name(s.resource)} skips {s.check_id}: {s.reason}"
            for s in self.skips
        ]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CheckovReport:
        data = json.loads(text)
        return cls(
            version=data["version"],
            passed=data["passed"],
            failed=[Finding(**f) for f in data["failed"]],
            skips=[Skip(**s) for s in data["skips"]],
            unparsed=list(data["unparsed"]),
        )


def has_reason(skip: Skip) -> bool:
    return bool(skip.reason.strip()) and skip.reason.strip() != NO_REASON


def resource_name(resource: str) -> str:
    """``AWS::S3::Bucket.Artifacts`` -> ``Artifacts (AWS::S3::Bucket)``."""
    kind, _, logical_id = resource.rpartition(".")
    return f"{logical_id} ({kind})" if kind else resource


def parse_report(output: Any, labels: Mapping[Path, str]) -> CheckovReport:
    """checkov's JSON output (one report, or a list of them) as a :class:`CheckovReport`;
    ``labels`` names each template path given to checkov."""
    reports = output if isinstance(output, list) else [output]
    version, passed = "", 0
    failed: list[Finding] = []
    skips: list[Skip] = []
    unparsed: list[str] = []

    def label(record: Mapping[str, Any]) -> str:
        path = Path(str(record.get("file_abs_path") or record.get("file_path", "")))
        return labels.get(path.resolve(), path.as_posix())

    for report in reports:
        summary = report.get("summary", report)
        version = str(summary.get("checkov_version", version))
        passed += int(summary.get("passed", 0))
        results = report.get("results", {})
        for check in results.get("failed_checks", []):
            failed.append(
                Finding(
                    label(check),
                    f"{CHECK} {check['check_id']}",
                    f"{resource_name(check['resource'])}: {check['check_name']}",
                )
            )
        for check in results.get("skipped_checks", []):
            reason = str(check.get("check_result", {}).get("suppress_comment") or "")
            skips.append(Skip(label(check), check["resource"], check["check_id"], reason))
        for path in results.get("parsing_errors", []):
            resolved = Path(path).resolve()
            unparsed.append(labels.get(resolved, Path(path).as_posix()))
    return CheckovReport(version, passed, sorted(failed), sorted(skips), sorted(unparsed))


class CheckovScan:
    """checkov at work over the templates; :meth:`result` waits for its report."""

    def __init__(
        self,
        labels: Mapping[Path, str],
        environment: ToolEnvironment | None = None,
    ) -> None:
        self._labels = {path.resolve(): label for path, label in labels.items()}
        self._environment = environment or ToolEnvironment.beside_project(CHECK, REQUIREMENTS)
        self._key = report_key(self._labels)
        self._cached = self._read_kept()
        self._process: subprocess.Popen[bytes] | None = None
        if self._cached is None:
            self._start()

    @property
    def _reports_dir(self) -> Path:
        return self._environment.directory / "reports"

    def _read_kept(self) -> CheckovReport | None:
        if not self._environment.is_ready():
            return None
        kept = self._reports_dir / f"{self._key}.json"
        try:
            return CheckovReport.from_json(kept.read_text())
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _start(self) -> None:
        python = self._environment.ensure()
        # Pipes are drained by communicate() in result(); until then checkov may at most wait
        # to write the end of its report.
        self._process = subprocess.Popen(
            [str(python), "-I", str(RUNNER), *(str(p) for p in sorted(self._labels))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )

    def result(self) -> CheckovReport:
        if self._cached is not None:
            return self._cached
        assert self._process is not None
        try:
            out, err = self._process.communicate(timeout=RUN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            self._process.kill()
            self._process.communicate()
            raise BuildError(f"checkov did not finish in {RUN_TIMEOUT_SECONDS} s") from exc
        code = self._process.returncode
        stdout, stderr = out.decode(), err.decode(errors="replace")
        if stderr.strip():
            logger.debug("checkov said on stderr:\n%s", stderr.rstrip())
        try:
            output = json.loads(stdout) if code in (0, 1) else None
        except ValueError:
            output = None
        if output is None:
            tail = " | ".join(stderr.strip().splitlines()[-STDERR_TAIL_LINES:])
            raise BuildError(f"checkov could not check the templates (exit {code}): {tail}")
        report = parse_report(output, self._labels)
        self._keep(report)
        return report

    def _keep(self, report: CheckovReport) -> None:
        self._reports_dir.mkdir(exist_ok=True)
        kept = self._reports_dir / f"{self._key}.json"
        partial = kept.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(report.to_json())
        partial.replace(kept)
        for old in sorted(self._reports_dir.glob("*.json"), key=os.path.getmtime)[:-KEPT_REPORTS]:
            old.unlink(missing_ok=True)


def report_key(labels: Mapping[Path, str]) -> str:
    """The digest of what checkov's answer depends on: the pinned packages, the runner, and
    every template's label and bytes."""
    digest = hashlib.sha256()
    for part in (REQUIREMENTS.read_bytes(), RUNNER.read_bytes()):
        digest.update(hashlib.sha256(part).digest())
    for path, label in sorted(labels.items(), key=lambda item: item[1]):
        digest.update(label.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
