"""``python build.py``: generate, package and validate the portfolio into ``dist/``."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import boto3

from portfolio_build import architecture, redrive, render, status, taskcat_run
from portfolio_build.aws_session import caller_account, open_session
from portfolio_build.checks import Finding, lambda_package, limits, studio_contract
from portfolio_build.checks.checkov_scan import CheckovScan
from portfolio_build.checks.lint import lint_templates
from portfolio_build.checks.option_variants import write_variants
from portfolio_build.config import BuildConfig, load_config
from portfolio_build.errors import BuildError, ConfigError, PublishError
from portfolio_build.manifest import MANIFEST_NAME, write_manifest
from portfolio_build.publish import publish
from portfolio_build.region_publish import METHODS, PublishOptions
from portfolio_build.release import Release, load_release, source_digest
from portfolio_build.render import Artifact
from portfolio_build.taskcat_run import TaskcatOptions

logger = logging.getLogger("build")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python build.py",
        description="build (default): generate every template into dist/, package the Lambda "
        "and seed-code zips, validate them (cfn-lint, checkov, the Studio contract, size and "
        "name limits) and write dist/manifest.json; no AWS account needed. publish: put the "
        "build into an account, in every region (stacks through change sets with a printed "
        "plan, uploads, Service Catalog versions, the S3 template method). status: what is "
        "published where. redrive: send the events the platform could not handle (its "
        "FailedEventsQueue) back to their functions. taskcat: taskcat's cross-region test of "
        "the platform and a project of each product (its own virtualenv; --emulator: against "
        "the embedded emulator; --lint: taskcat lint only). sandbox: the whole flow on this "
        "machine with no AWS account (an embedded emulator: publish, a project of each "
        "product, a model walked from a feature branch to production, delete).",
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="build",
        choices=["build", "publish", "status", "redrive", "taskcat", "sandbox"],
    )
    parser.add_argument(
        "--config", type=Path, help="TOML configuration file (default: ./portfolio.toml)"
    )
    parser.add_argument("--dist", help="output directory (default: dist)")
    parser.add_argument(
        "--regions",
        help="comma-separated regions to lint for (default: us-east-1,eu-west-1,ap-southeast-1)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    aws = parser.add_argument_group("publish, status and redrive")
    aws.add_argument("--profile", help="AWS profile (default: the default credential chain)")
    aws.add_argument(
        "--method",
        choices=METHODS,
        default="both",
        help="Service Catalog products, the S3 template method, or both (default)",
    )
    aws.add_argument(
        "--studio-domain",
        action="append",
        dest="studio_domains",
        metavar="ID",
        help="SageMaker domain to tag with the S3 templates' location (repeatable)",
    )
    aws.add_argument("--keep-versions", type=int, help="active versions per product (default 5)")
    aws.add_argument("--max-versions", type=int, help="versions kept per product (default 50)")
    aws.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    aws.add_argument("--yes", action="store_true", help="do not ask before replacing or removing")
    aws.add_argument(
        "--accept-drift", action="store_true", help="update a platform stack that drifted"
    )
    tests = parser.add_argument_group("taskcat")
    tests.add_argument(
        "--emulator", action="store_true", help="run taskcat against the embedded emulator"
    )
    tests.add_argument(
        "--lint", action="store_true", help="taskcat lint only (offline; any finding fails)"
    )
    sandbox = parser.add_argument_group("sandbox")
    sandbox.add_argument(
        "--products",
        help="comma-separated products to create and walk (default: all four: "
        "baseline-sagemaker,baseline-mlflow,advanced-sagemaker,advanced-mlflow)",
    )
    sandbox.add_argument("--report", type=Path, metavar="FILE", help="write the report as JSON")
    sandbox.add_argument(
        "--keep",
        action="store_true",
        help="leave the emulator and git endpoint running after the walk (Ctrl-C stops)",
    )
    sandbox.add_argument(
        "--seed-tests",
        action="store_true",
        help="builds also run the seed's own tests (their pre_build phase; slower)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s"
    )
    try:
        config = load_config(
            config_file=args.config,
            overrides={
                "dist": args.dist,
                "regions": (
                    [r.strip() for r in args.regions.split(",") if r.strip()]
                    if args.regions is not None
                    else None
                ),
                "profile": args.profile,
                "studio_domains": args.studio_domains,
                "keep_versions": args.keep_versions,
                "max_versions": args.max_versions,
            },
        )
        if args.command == "build":
            return build(config)
        if args.command == "sandbox":
            return sandbox(config, args)
        if args.command == "taskcat":
            return taskcat_run.run(
                current_release(config),
                TaskcatOptions(
                    regions=config.regions,
                    lint=args.lint,
                    emulator=args.emulator,
                    profile=config.publish.profile,
                ),
            )
        # Credentials first: a bad profile is a one-line error before any build.
        sessions = region_sessions(config)
        caller_account(sessions(config.regions[0]), config.publish.profile)
        if args.command == "status":
            return status.report(config, sessions)
        if args.command == "redrive":
            return redrive.run(config, sessions, dry_run=args.dry_run)
        options = PublishOptions(
            method=args.method,
            dry_run=args.dry_run,
            yes=args.yes,
            accept_drift=args.accept_drift,
        )
        return publish(config, current_release(config), options, sessions)
    except BuildError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


def sandbox(config: BuildConfig, args: argparse.Namespace) -> int:
    """``python build.py sandbox``: the one command that reaches the emulator support code."""
    from sandbox.walk import SandboxOptionError, SandboxOptions, parse_products, run_sandbox

    try:
        products = parse_products(args.products)
    except SandboxOptionError as exc:
        raise ConfigError(str(exc)) from exc
    options = SandboxOptions(
        products=products, report=args.report, keep=args.keep, seed_tests=args.seed_tests
    )
    return run_sandbox(config, lambda: current_release(config), options)


def build(config: BuildConfig) -> int:
    started = time.perf_counter()
    dist = config.dist
    render.clean(dist)
    templates = render.write_templates(dist, render.render_templates(config.settings))
    # checkov works in a process of its own while this one packages and lints.
    checked = {t.path: artifact_label(t, dist) for t in templates}
    for template in templates:
        if template.kind == "platform-template" and template.body is not None:
            checked |= write_variants(dist, checked[template.path], template.body)
    checkov = CheckovScan(checked)
    lambda_zip = render.package_lambda(dist)
    seed_zips = render.package_seed_code(dist)
    artifacts = [*templates, lambda_zip, *seed_zips]

    findings = validate(templates, lambda_zip, seed_zips, config)
    checkov_report = checkov.result()
    findings += checkov_report.findings
    failed = {f.artifact for f in findings}
    print_summary(artifacts, dist, failed)
    print(f"\n{checkov_report.summary()}")
    for line in checkov_report.skip_lines():
        logger.debug("  %s", line)
    if findings:
        print(f"\n{len(findings)} problem(s); dist/{MANIFEST_NAME} not written:", file=sys.stderr)
        for finding in sorted(findings):
            print(f"  {finding}", file=sys.stderr)
        return 1
    write_manifest(dist, config.settings.version, artifacts, source_digest(config.settings))
    write_architecture_page(dist)
    print(
        f"\nOK: {len(artifacts)} artifacts validated (cfn-lint in {', '.join(config.regions)}) "
        f"in {time.perf_counter() - started:.1f} s; manifest: {dist / MANIFEST_NAME}"
    )
    return 0


def current_release(config: BuildConfig) -> Release:
    """``dist/`` as the manifest describes it, built first unless it matches the sources."""
    release = load_release(config.dist)
    if release is None or release.source_sha256 != source_digest(config.settings):
        print("dist/ does not match the sources and settings: building first")
        if build(config) != 0:
            raise PublishError("the build failed: nothing was published")
        release = load_release(config.dist)
        if release is None:
            raise PublishError(f"{config.dist / MANIFEST_NAME}: not readable after the build")
    return release


def region_sessions(config: BuildConfig) -> Callable[[str], boto3.Session]:
    """One session of the profile for every region (clients name their region)."""
    session = open_session(config.publish.profile, config.regions[0])
    return lambda region: session


def write_architecture_page(dist: Path) -> None:
    """``dist/docs/architecture.md``: the picture drawn from the templates just built."""
    page = dist / "docs" / "architecture.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(architecture.render(*architecture.load_templates(dist / "templates")))


def validate(
    templates: list[Artifact], lambda_zip: Artifact, seed_zips: list[Artifact], config: BuildConfig
) -> list[Finding]:
    findings: list[Finding] = []
    for artifact in templates:
        body = artifact.body or {}
        label = artifact_label(artifact, config.dist)
        findings += limits.check_template_size(label, artifact.path, body)
        findings += limits.check_names(label, body)
        findings += limits.check_lambda_runtimes(label, body)
        findings += studio_contract.check_buckets(label, body)
        if artifact.kind == "product-template":
            findings += studio_contract.check_product(label, body, config.settings)
        elif artifact.kind == "platform-template":
            findings += studio_contract.check_platform(label, body, config.settings)
        elif artifact.kind == "bootstrap-template":
            findings += studio_contract.check_bootstrap(label, body)
    findings += limits.check_zip_size(
        artifact_label(lambda_zip, config.dist), lambda_zip.path, limits.LAMBDA_ZIP_MAX_BYTES
    )
    findings += lambda_package.check_deploy_config_schema(
        artifact_label(lambda_zip, config.dist),
        lambda_zip.path,
        render.SEED_CODE_DIR,
        render.PACKAGED_SCHEMA_NAME,
    )
    findings += lambda_package.check_payload_schema(
        artifact_label(lambda_zip, config.dist),
        lambda_zip.path,
        render.SEED_CODE_DIR,
        render.PACKAGED_PAYLOAD_SCHEMA_NAME,
    )
    for seed in seed_zips:
        findings += limits.check_zip_size(
            artifact_label(seed, config.dist), seed.path, limits.SEED_CODE_ZIP_MAX_BYTES
        )
    findings += lint_templates(
        [t.path for t in templates],
        config.regions,
        {t.path: artifact_label(t, config.dist) for t in templates},
    )
    return findings


def artifact_label(artifact: Artifact, dist: Path) -> str:
    return artifact.path.relative_to(dist).as_posix()


def print_summary(artifacts: list[Artifact], dist: Path, failed: set[str]) -> None:
    from portfolio_build.artifacts import sha256_of

    rows = [
        (
            artifact_label(a, dist),
            a.kind,
            str(a.path.stat().st_size),
            sha256_of(a.path)[:12],
            "FAIL" if artifact_label(a, dist) in failed else "ok",
        )
        for a in artifacts
    ]
    headers = ("artifact", "kind", "bytes", "sha256", "result")
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        print(
            "  ".join(
                cell.rjust(w) if i == 2 else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
