"""checkov in the build: zero failed checks over the built templates, every skip justified,
and a weak template fails the build naming template, resource and check.

checkov runs for real, from its own virtualenv (``.venv-checkov/``, made by the first
``python build.py``, which the README's first set-up command runs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from troposphere import s3

import products.template
from portfolio_build.checks.checkov_scan import CheckovScan, Skip, parse_report
from portfolio_build.tool_environments import ToolEnvironment, ToolEnvironmentError
from template_common.checkov_skips import skip_metadata
from tests.portfolio_build.conftest import run_build


def test_the_built_templates_fail_no_check_and_every_skip_has_a_reason(
    built: tuple[Path, dict[str, Any]],
) -> None:
    dist, _ = built
    templates = sorted((dist / "templates").rglob("*.json"))
    report = CheckovScan({p: p.relative_to(dist).as_posix() for p in templates}).result()

    assert report.findings == []
    assert report.passed > 100
    assert report.skips, "the design has checks that do not fit it"
    assert all(len(s.reason) > 40 for s in report.skips), report.skip_lines()
    # Each reason is said once, in one place, however many resources it concerns.
    assert len({s.reason for s in report.skips}) == len({s.check_id for s in report.skips})


def add_weak_bucket(original: Any) -> Any:
    def build(product: Any, settings: Any) -> Any:
        template = original(product, settings)
        if product.name == "baseline-sagemaker":
            bucket = template.add_resource(s3.Bucket("ScratchBucket"))
            bucket.Metadata = {"checkov": {"skip": [{"id": "CKV_AWS_18"}]}}
        return template

    return build


def test_a_weak_resource_fails_the_build_naming_template_resource_and_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(products.template, "build", add_weak_bucket(products.template.build))

    assert run_build(tmp_path, "--regions", "us-east-1") == 1

    out, err = capsys.readouterr()
    template = "templates/products/baseline-sagemaker.json"
    # No versioning: a real weakness checkov finds.
    assert (
        f"{template}: [checkov CKV_AWS_21] ScratchBucket (AWS::S3::Bucket): "
        "Ensure the S3 bucket has versioning enabled"
    ) in err
    assert (
        f"{template}: [checkov CKV_AWS_18] ScratchBucket (AWS::S3::Bucket): skipped without a "
        "reason; give one as the comment of the skip in the resource's Metadata"
    ) in err
    assert not (tmp_path / "manifest.json").exists()
    summary = next(line for line in out.splitlines() if line.startswith("checkov 3.3.30: "))
    assert " 0 failed" not in summary


def test_the_build_prints_how_many_checks_passed_failed_and_were_skipped_with_a_reason(
    built: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run_build(tmp_path) == 0  # the same templates: checkov's kept report answers

    out, _ = capsys.readouterr()
    summary = next(line for line in out.splitlines() if line.startswith("checkov 3.3.30: "))
    assert " passed, 0 failed, " in summary
    assert " skipped with a reason (CKV_AWS_" in summary


def test_checkovs_report_is_read_whatever_its_shape() -> None:
    labels = {Path("/dist/templates/platform.json").resolve(): "templates/platform.json"}
    failed = {
        "check_id": "CKV_AWS_27",
        "check_name": "Ensure all data stored in the SQS queue is encrypted",
        "file_abs_path": "/dist/templates/platform.json",
        "resource": "AWS::SQS::Queue.Failed",
    }
    skipped = {
        "check_id": "CKV_AWS_117",
        "file_abs_path": "/dist/templates/platform.json",
        "resource": "AWS::Lambda::Function.Fn",
        "check_result": {"result": "SKIPPED", "suppress_comment": "No comment provided"},
    }
    report = parse_report(
        [
            {
                "check_type": "cloudformation",
                "results": {"failed_checks": [failed], "skipped_checks": [skipped]},
                "summary": {"passed": 3, "checkov_version": "3.3.30"},
            },
            {"passed": 0, "failed": 0, "checkov_version": "3.3.30"},  # nothing of a framework
        ],
        labels,
    )

    assert report.passed == 3
    assert [str(f) for f in report.findings] == [
        "templates/platform.json: [checkov CKV_AWS_27] Failed (AWS::SQS::Queue): "
        "Ensure all data stored in the SQS queue is encrypted",
        "templates/platform.json: [checkov CKV_AWS_117] Fn (AWS::Lambda::Function): skipped "
        "without a reason; give one as the comment of the skip in the resource's Metadata",
    ]
    assert report.skips == [
        Skip(
            "templates/platform.json",
            "AWS::Lambda::Function.Fn",
            "CKV_AWS_117",
            "No comment provided",
        )
    ]
    assert report.summary() == "checkov 3.3.30: 3 passed, 1 failed, 0 skipped with a reason"


def test_skip_metadata_is_what_checkov_reads() -> None:
    from template_common.checkov_skips import LAMBDA_OUTSIDE_VPC

    assert skip_metadata(LAMBDA_OUTSIDE_VPC) == {
        "checkov": {"skip": [{"id": "CKV_AWS_117", "comment": LAMBDA_OUTSIDE_VPC.reason}]}
    }
    json.dumps(skip_metadata(LAMBDA_OUTSIDE_VPC))  # plain JSON in the template


def test_a_tool_environment_that_cannot_be_installed_names_the_tool_and_is_not_kept(
    tmp_path: Path,
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"{tmp_path / 'missing' / 'tool-1.0-py3-none-any.whl'}\n")
    environment = ToolEnvironment("tool", requirements, tmp_path / ".venv-tool")

    with pytest.raises(ToolEnvironmentError, match=r"could not install tool into .*\.venv-tool"):
        environment.ensure()

    assert not environment.is_ready(), "a half-made virtualenv is made again next time"


def test_a_tool_environment_of_another_requirements_list_is_stale(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("tool==1.0\n")
    directory = tmp_path / ".venv-tool"
    (directory / "bin").mkdir(parents=True)
    (directory / "bin" / "python").symlink_to(Path("/usr/bin/env"))
    environment = ToolEnvironment("tool", requirements, directory)
    (directory / "requirements.sha256").write_text(environment.digest)
    assert environment.is_ready()

    requirements.write_text("tool==2.0\n")

    assert not environment.is_ready()
