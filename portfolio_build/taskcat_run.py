"""``python build.py taskcat``: taskcat's cross-region test of the build, from its own virtualenv.

taskcat pins libraries this project pins differently (jsonschema < 4, urllib3 < 2), so it
runs from ``.venv-taskcat/`` (made when missing, from ``taskcat-requirements.txt``, see
:mod:`portfolio_build.tool_environments`) through ``taskcat_runner.py``, in the project
directory prepared from the build (:mod:`portfolio_build.taskcat_project`).

- ``--lint``: ``taskcat lint --strict`` over the region test and every template it
  launches, offline; any finding fails.
- default: ``taskcat test run`` in the regions asked, with the AWS credentials of this
  machine (``--profile``, or taskcat's own ``general.auth`` profiles per region in
  ``~/.taskcat.yml``); taskcat writes its report under ``taskcat_outputs/``.
- ``--emulator``: the same run against the embedded emulator on 127.0.0.1, with every
  route taskcat needs kept in the emulator support code (the only import of ``sandbox``
  here, and only then).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from portfolio_build import taskcat_checks, taskcat_project
from portfolio_build.errors import BuildError
from portfolio_build.release import Release
from portfolio_build.tool_environments import ToolEnvironment

REQUIREMENTS = Path(__file__).with_name("taskcat-requirements.txt")
RUNNER = Path(__file__).with_name("taskcat_runner.py")
REPORT_DIRECTORY = "taskcat_outputs"
REPORT_NAME = "index.html"
# The run's stacks are those created after it started (by the clock of AWS, within this).
CLOCK_SKEW = timedelta(minutes=5)


class TaskcatError(BuildError):
    """taskcat could not be run, or its run failed; the message says which."""


@dataclass(frozen=True)
class TaskcatOptions:
    regions: tuple[str, ...]
    lint: bool = False
    emulator: bool = False
    profile: str | None = None


def environment() -> ToolEnvironment:
    return ToolEnvironment.beside_project("taskcat", REQUIREMENTS)


def run(release: Release, options: TaskcatOptions) -> int:
    """Prepare the project directory, run taskcat, say where its report is; the exit code."""
    python = environment().ensure()
    directory = taskcat_project.prepare(
        release, release.dist / taskcat_project.PROJECT_DIRECTORY, options.regions
    )
    if options.lint:
        return taskcat(python, directory, ["lint", "--strict"], loopback_only=True)
    report = directory / REPORT_DIRECTORY
    arguments = ["test", "run", "--output-directory", str(report)]
    products = taskcat_project.tested_build(release).products
    since = datetime.now(UTC) - CLOCK_SKEW
    if options.emulator:
        from sandbox.taskcat_aws import TaskcatAws

        with TaskcatAws(options.regions) as aws:
            code = taskcat(python, directory, arguments, aws.environment(), loopback_only=True)
            problems = taskcat_checks.check_run(aws.client, options.regions, since, products)
            problems += aws.leftovers()
    else:
        if options.profile:
            arguments = ["--profile", options.profile, *arguments]
        code = taskcat(python, directory, arguments)
        session = boto3.Session(profile_name=options.profile)
        problems = taskcat_checks.check_run(
            lambda service, region: session.client(service, region_name=region),
            options.regions,
            since,
            products,
        )
    index = report / REPORT_NAME
    print(f"taskcat report: {index}" if index.is_file() else f"no taskcat report in {report}")
    for problem in problems:
        print(f"  after the run: {problem}", file=sys.stderr)
    if not problems:
        print(f"after the run: nothing left behind in {', '.join(options.regions)}")
    return code or (1 if problems else 0)


def taskcat(
    python: Path,
    directory: Path,
    arguments: list[str],
    extra_environment: Mapping[str, str] | None = None,
    *,
    loopback_only: bool = False,
) -> int:
    """Run taskcat with ``arguments`` in ``directory``; its exit code (its output is ours)."""
    command = [str(python), str(RUNNER), *(["--loopback-only"] if loopback_only else [])]
    try:
        result = subprocess.run(
            [*command, *arguments],
            cwd=directory,
            env={**os.environ, **(extra_environment or {})},
            check=False,
        )
    except OSError as exc:
        raise TaskcatError(f"could not run taskcat from {python}: {exc}") from exc
    return result.returncode
