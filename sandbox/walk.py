"""``python build.py sandbox``: the whole product on this machine, with no AWS account.

Builds (or reuses a ``dist/`` that matches the sources), starts the embedded AWS
(:class:`sandbox.embedded_aws.EmbeddedAws`), publishes to it with ``publish``'s own
code path, creates a project of each product as Studio does (some through Service
Catalog, the others through the S3 template method), walks each project from a feature
branch to production, two projects side by side (:mod:`sandbox.project_walk`; the MLflow
products with aliases on the run's MLflow tracking server, whose webhook reaches the
platform's function URL: :mod:`sandbox.mlflow_walk`), then one project at a time the steps
that move the clock (the reaper, the MLflow reconcile), deletes every project and lists
what each left. One line per step as it ends, then a table per project
(:mod:`sandbox.report`); the first failed step stops the run.
"""

from __future__ import annotations

import logging
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import boto3

from lambda_project_lifecycle.deployments.mlflow_models import DEPLOY_ALIAS
from portfolio_build.config import BuildConfig
from portfolio_build.plan_text import Output
from portfolio_build.publish import publish
from portfolio_build.region_publish import PublishOptions, stack_names
from portfolio_build.release import Release
from portfolio_build.template_method import TEMPLATES_PREFIX
from sandbox.embedded_aws import EmbeddedAws
from sandbox.leftovers import check_leftovers, project_leftovers
from sandbox.mlflow_walk import WEBHOOK_EVENTS, MlflowProjectWalk, SandboxWebhook
from sandbox.project_walk import FEATURE_BRANCH, ProjectWalk
from sandbox.report import Described, Report, StepFailed
from sandbox.studio import S3_TEMPLATE, SERVICE_CATALOG, CreatedProject, Studio
from template_common.catalog import PRODUCTS

PRODUCT_NAMES = tuple(p.name for p in PRODUCTS)
# How each product's project is created, and what its OnDelete says.
METHOD = {
    "baseline-sagemaker": SERVICE_CATALOG,
    "advanced-sagemaker": S3_TEMPLATE,
    "baseline-mlflow": S3_TEMPLATE,
    "advanced-mlflow": SERVICE_CATALOG,
}
ON_DELETE = {
    "baseline-sagemaker": "delete-all",
    "advanced-sagemaker": "retain-data",
    "baseline-mlflow": "delete-all",
    "advanced-mlflow": "retain-data",
}
PROJECT_NAME = {
    "baseline-sagemaker": "churn-baseline",
    "advanced-sagemaker": "churn-advanced",
    "baseline-mlflow": "churn-baseline-mlflow",
    "advanced-mlflow": "churn-advanced-mlflow",
}
SANDBOX = "sandbox"
# Projects walked side by side: on a 2-CPU machine one builds while the other deploys and
# tests (a build is mostly one CPU; the embedded AWS, workers and models take the other).
LANES = 2
MLFLOW_PLUGIN_LOGGER = "mlflow.tracking.request_header.registry"


class SandboxOptionError(ValueError):
    """A bad option of ``python build.py sandbox``; the message names it and what is allowed."""


def parse_products(text: str | None) -> tuple[str, ...]:
    """``--products a,b``: known product names, in the portfolio's order; default all."""
    if text is None:
        return PRODUCT_NAMES
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in PRODUCT_NAMES]
    if unknown or not chosen:
        raise SandboxOptionError(
            f"--products: unknown product {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(PRODUCT_NAMES)}"
        )
    return tuple(name for name in PRODUCT_NAMES if name in chosen)


@dataclass
class SandboxOptions:
    products: tuple[str, ...] = PRODUCT_NAMES
    report: Path | None = None
    keep: bool = False
    seed_tests: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)


def run_sandbox(
    config: BuildConfig,
    build: Callable[[], Release],
    options: SandboxOptions,
    *,
    wait_until_stopped: Callable[[], None] | None = None,
) -> int:
    """The whole walk; the exit status (1 on the first failed step, named)."""
    config = replace(config, regions=config.regions[:1])  # the embedded AWS has one region
    report = Report(out=options.out)
    aws: EmbeddedAws | None = None
    try:
        release = report.step(SANDBOX, "build", lambda: _built(build))
        aws = report.step(
            SANDBOX,
            "start the embedded AWS",
            lambda: _started(config, options.seed_tests, mlflow=uses_mlflow(options.products)),
        )
        with aws.as_process_aws(), tempfile.TemporaryDirectory(prefix="sandbox-work-") as work:
            Walk(aws, config, release, report, Path(work)).run(options.products)
            if options.keep:
                print(keep_text(aws), file=options.out, flush=True)
                (wait_until_stopped or wait_for_interrupt)()
    except StepFailed:
        pass
    finally:
        if aws is not None:
            aws.stop()
        report.print_tables()
        if options.report is not None:
            report.write_json(options.report)
            print(f"report: {options.report}", file=options.out)
    if report.failed is not None:
        print(
            f"error: sandbox step failed: {report.failed.project}: {report.failed.step}",
            file=sys.stderr,
        )
        return 1
    return 0


def _built(build: Callable[[], Release]) -> Described[Release]:
    release = build()
    return Described(release, f"dist/ of {release.version}, {len(release.artifacts)} artifacts")


def uses_mlflow(products: Sequence[str]) -> bool:
    return any(product.endswith("-mlflow") for product in products)


def _started(config: BuildConfig, seed_tests: bool, *, mlflow: bool) -> Described[EmbeddedAws]:
    quiet_emulator_logs()
    aws = EmbeddedAws(region=config.regions[0], seed_tests=seed_tests, mlflow=mlflow)
    tracking = f", MLflow at {aws.mlflow.url} (starting)" if aws.mlflow else ""
    return Described(
        aws, f"emulator at {aws.emulator.endpoint_url}, git at {aws.git.base_url}{tracking}"
    )


class Walk:
    def __init__(
        self, aws: EmbeddedAws, config: BuildConfig, release: Release, report: Report, work: Path
    ) -> None:
        self.aws = aws
        self.config = config
        self.release = release
        self.report = report
        self.work = work
        self.outputs: dict[str, str] = {}
        self.functions: dict[str, dict[str, str]] = {}
        self.webhook: SandboxWebhook | None = None
        self._webhook_lock = threading.Lock()

    def client(self, service: str) -> Any:
        return self.aws.emulator.client(service)

    def run(self, products: Sequence[str]) -> None:
        step = self.report.step
        step(SANDBOX, "publish (bootstrap, platform, products)", self.publish)
        studio = Studio(
            self.client,
            templates_location=self.templates_location(),
            template_launch_role=self.outputs["TemplateLaunchRoleArn"],
        )
        created: list[CreatedProject] = []
        for product in products:
            project = step(
                product,
                f"create project ({METHOD[product]})",
                lambda product=product: self.create(studio, product),  # type: ignore[misc]
            )
            created.append(project)
        walks = [self.walk_of(project) for project in created]
        try:
            side_by_side([lambda walk=walk: self.walk(walk) for walk in lane_order(walks)], LANES)
            self.move_the_clock(walks)
        finally:
            for walk, facts in zip(walks, self.report.projects, strict=True):
                facts.update(self.walked_facts(walk))
        for project, facts in zip(created, self.report.projects, strict=True):
            step(
                project.product,
                f"delete project ({project.parameters['OnDelete']})",
                lambda project=project, facts=facts: self.delete(studio, project, facts),  # type: ignore[misc]
            )

    # -- the platform -----------------------------------------------------------------------

    def publish(self) -> str:
        domain = self.studio_domain()
        config = replace(
            self.config, publish=replace(self.config.publish, studio_domains=(domain,))
        )
        lines: list[str] = []
        publish(
            config,
            self.release,
            PublishOptions(yes=True),
            lambda region: boto3.Session(region_name=region),
            output=Output(lines.append),
        )
        self.aws.bus.fire_schedules()  # the platform's schedules run from now on
        cloudformation = self.client("cloudformation")
        statuses = []
        for name in stack_names(config):
            stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
            statuses.append(f"{name} {stack['StackStatus']}")
            self.outputs.update(
                {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
            )
        return f"{'; '.join(statuses)}; {len(lines)} lines of publish output"

    def studio_domain(self) -> str:
        """A Studio domain, whose templates location publish tags (the S3 template method)."""
        created = self.client("sagemaker").create_domain(
            DomainName="sandbox-studio",
            AuthMode="IAM",
            DefaultUserSettings={
                "ExecutionRole": f"arn:aws:iam::{self.aws.account_id}:role/sandbox-studio"
            },
            SubnetIds=["subnet-0sandbox"],
            VpcId="vpc-0sandbox",
        )
        self.domain_id = str(created["DomainArn"].rsplit("/", 1)[-1])
        return self.domain_id

    def templates_location(self) -> str:
        """What Studio reads from the domain's tags: where the S3 templates are."""
        sagemaker = self.client("sagemaker")
        arn = sagemaker.describe_domain(DomainId=self.domain_id)["DomainArn"]
        tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
        location = tags.get("sagemaker:projectS3TemplatesLocation")
        if not location:
            bucket = self.outputs["ArtifactsBucketName"]
            raise RuntimeError(
                f"publish did not tag the domain with the templates' location "
                f"(s3://{bucket}/{TEMPLATES_PREFIX})"
            )
        return str(location)

    def function_environment(self, name: str) -> dict[str, str]:
        if name not in self.functions:
            config = self.client("lambda").get_function_configuration(FunctionName=name)
            self.functions[name] = dict(config.get("Environment", {}).get("Variables", {}))
        return self.functions[name]

    @property
    def registry_table(self) -> str:
        return self.function_environment(self.lifecycle_function)["PROJECT_REGISTRY_TABLE"]

    @property
    def data_bucket(self) -> str:
        return self.function_environment(self.lifecycle_function).get("PROJECT_DATA_BUCKET", "")

    @property
    def lifecycle_function(self) -> str:
        return f"{self.config.settings.ssm_prefix.strip('/')}-project-lifecycle"

    # -- projects ---------------------------------------------------------------------------

    def create(self, studio: Studio, product: str) -> Described[CreatedProject]:
        parameters = {"OnDelete": ON_DELETE[product]}
        if product.endswith("-mlflow"):
            parameters["MlflowTrackingUri"] = self.tracking_uri
        project = studio.create(product, METHOD[product], PROJECT_NAME[product], parameters)
        return Described(
            project,
            f"{project.name} {project.project_id}: {project.status}, "
            f"stack {stack_name(project.stack)}",
        )

    @property
    def tracking_uri(self) -> str:
        if self.aws.mlflow is None:
            raise RuntimeError("the embedded AWS was started without an MLflow tracking server")
        return self.aws.mlflow.url

    def registered_webhook(self) -> SandboxWebhook:
        """The run's webhook, registered by the first MLflow walk (one server for all); a walk
        beside it waits for that registration."""
        with self._webhook_lock:
            if self.webhook is None:
                self.webhook = self.report.step(
                    SANDBOX, "register the MLflow webhook (MlflowWebhookUrl)", self.register_webhook
                )
            return self.webhook

    def register_webhook(self) -> Described[SandboxWebhook]:
        webhook = SandboxWebhook.register(self.aws, self.outputs)
        return Described(
            webhook,
            f"{self.tracking_uri}: webhook {webhook.webhook_id} to {webhook.url} "
            f"({', '.join(WEBHOOK_EVENTS)}), signed with the secret of MlflowWebhookSecretArn",
        )

    def facts_of(self, project: CreatedProject) -> dict[str, Any]:
        return {
            "product": project.product,
            "name": project.name,
            "id": project.project_id,
            "method": project.method,
            "on_delete": project.parameters["OnDelete"],
            "stack": project.stack,
        }

    def walk_of(self, project: CreatedProject) -> ProjectWalk:
        """The project's walk (the MLflow products' with the run's webhook, registered by the
        first), its facts in the report's list."""
        facts = self.facts_of(project)
        self.report.projects.append(facts)
        if project.product.endswith("-mlflow"):
            facts["registry"] = "mlflow"
            return MlflowProjectWalk(
                self.aws, project, self.work, self.registry_table, self.registered_webhook
            )
        return ProjectWalk(self.aws, project, self.work, self.registry_table)

    def walk(self, walk: ProjectWalk) -> None:
        """From a feature branch to production and a withdrawn production model. The steps
        that move the clock or pause the webhook (every project feels them) come after every
        walk: :meth:`move_the_clock`."""
        production = walk.production_groups()
        serving = " and ".join(production)
        if isinstance(walk, MlflowProjectWalk):  # the same walk with aliases (seed README)
            alias = f"set alias {DEPLOY_ALIAS} on"
            approve = (f"{alias} feature", f"{alias} dev", f"{alias} {serving}")
            reject = f"remove alias {DEPLOY_ALIAS} from {production[0]}"
        else:
            approve = (
                "approve the feature package",
                "approve the dev package",
                f"approve {serving}",
            )
            reject = f"reject the serving {production[0]} package"
        step = self.report.step
        name = walk.project.product
        if isinstance(walk, MlflowProjectWalk):
            self.registered_webhook()  # the first MLflow walk registers it, in its lane
        step(name, "clone the repository (git)", walk.clone_repository)
        step(name, f"push {FEATURE_BRANCH}", walk.push_feature)
        step(name, approve[0], lambda: walk.approve("feature"))
        step(name, "merge to dev, push", lambda: walk.merge_to("dev", FEATURE_BRANCH))
        step(name, approve[1], lambda: walk.approve("dev"))
        step(name, "merge to prod, push (promotion)", lambda: walk.merge_to("prod", "dev"))
        step(name, approve[2], lambda: walk.approve(*production))
        step(name, reject, walk.reject_production)

    def move_the_clock(self, walks: Sequence[ProjectWalk]) -> None:
        """One project at a time: the reaper (the first project's step moves the clock past
        the development endpoints' expiry, for all; the others' steps check theirs went) and,
        on MLflow projects, the missed webhook healed by the reconcile, whose run must leave
        the reaped development endpoint deleted."""
        if not walks:
            return
        first = walks[0]
        for walk in walks:
            name = walk.project.product
            if walk is first:
                reaper = partial(walk.reap, *walks[1:])
            else:
                reaper = partial(walk.reaped, first.project.product)
            self.report.step(name, "reaper (clock advanced)", reaper)
            if isinstance(walk, MlflowProjectWalk):
                step_name = "missed webhook, healed by the reconcile"
                self.report.step(name, step_name, walk.missed_webhook_healed)

    def walked_facts(self, walk: ProjectWalk) -> dict[str, Any]:
        facts: dict[str, Any] = {"repository": walk.repository, "tests": walk.tests}
        if walk.clone is not None:
            facts["branches"] = walk.clone.branches()
        if isinstance(walk, MlflowProjectWalk) and self.webhook is None:
            return facts  # no MLflow client: the webhook's registration failed
        facts["packages"] = {
            kind: [model.fact() for model in walk.models(kind)]
            for kind in walk.scenario.model_group_kinds
        }
        endpoints: dict[str, list[dict[str, Any]]] = {}
        for endpoint in walk.endpoint_names():
            variants = walk.variants(endpoint)
            total = sum(v["weight"] for v in variants) or 1.0
            endpoints[endpoint] = [{**v, "share": 100 * v["weight"] / total} for v in variants]
        facts["endpoints"] = endpoints
        return facts

    def failed_events(self, stack: str) -> list[str]:
        """The reasons of the stack's failed events, oldest first (none for a deleted one)."""
        cloudformation = self.client("cloudformation")
        try:
            events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
        except cloudformation.exceptions.ClientError:
            return []
        if events and events[0]["ResourceStatus"] == "DELETE_COMPLETE":
            return []
        return [_event_text(e) for e in reversed(events) if e["ResourceStatus"].endswith("FAILED")]

    def delete(self, studio: Studio, project: CreatedProject, facts: dict[str, Any]) -> str:
        from lambda_project_lifecycle.naming import ProjectNames

        studio.delete(project.name)
        self.aws.settle()
        left = project_leftovers(
            self.client,
            ProjectNames(project.name, project.project_id),
            registry_table=self.registry_table,
            data_bucket=self.data_bucket,
        )
        facts["left_after_delete"] = left
        failed = self.failed_events(project.stack)
        if failed:
            raise RuntimeError(f"the project's stack did not delete: {'; '.join(failed)}")
        return check_leftovers(project.parameters["OnDelete"], left)


def lane_order(walks: Sequence[ProjectWalk]) -> list[ProjectWalk]:
    """The order the lanes take the walks in: an MLflow walk (the longer: its builds also log
    to the tracking server) and a SageMaker one first, then the next of each, so that the
    lanes end at about the same time."""
    mlflow = [w for w in walks if isinstance(w, MlflowProjectWalk)]
    sagemaker = [w for w in walks if not isinstance(w, MlflowProjectWalk)]
    ordered = [w for pair in zip(mlflow, sagemaker, strict=False) for w in pair]
    return ordered + mlflow[len(ordered) // 2 :] + sagemaker[len(ordered) // 2 :]


def side_by_side(walks: Sequence[Callable[[], None]], lanes: int) -> None:
    """Run ``walks`` ``lanes`` at a time, in order; when one fails, those not yet started do
    not start and the running ones stop at their next step; the first failure is raised."""
    stopped = threading.Event()

    def lane(walk: Callable[[], None]) -> None:
        if stopped.is_set():
            return
        try:
            walk()
        except BaseException:
            stopped.set()
            raise

    pool = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="walk")
    try:
        futures = [pool.submit(lane, walk) for walk in walks]
        errors = [f.exception() for f in futures]
    except BaseException:  # Ctrl-C: no walk starts; the running ones end with the emulator
        stopped.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    first = next((e for e in errors if isinstance(e, StepFailed)), None) or next(
        (e for e in errors if e is not None), None
    )
    if first is not None:
        raise first


def stack_name(stack: str) -> str:
    """A stack's name from its ARN (or the name itself)."""
    return stack.split("/")[1] if stack.startswith("arn:") else stack


def quiet_emulator_logs() -> None:
    """moto's warnings about resource types it skips (played here), werkzeug's tracebacks
    of what moto lacks, and the SageMaker MLflow plugin's warning on each call to a server
    that is not SageMaker's (the walk's MLflow client), are not the walk's output
    (``--debug`` shows them)."""
    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        return
    for name in ("moto", "werkzeug", "botocore", "sagemaker", MLFLOW_PLUGIN_LOGGER):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    warnings.filterwarnings("ignore", module="moto")


def _event_text(event: dict[str, Any]) -> str:
    return (
        f"{event.get('LogicalResourceId') or event['StackName']} {event['ResourceStatus']}: "
        f"{event.get('ResourceStatusReason', '')}"
    )


def keep_text(aws: EmbeddedAws) -> str:
    """How to reach what keeps running: variables for the AWS CLI and boto3, clone URLs."""
    exports = "\n".join(f"  export {name}={value}" for name, value in aws.environment().items())
    repositories = sorted(aws.emulator.backend("codecommit").repositories)  # no List in moto
    clones = (
        "\n".join(f"  git clone {aws.git.authenticated_url(name)}" for name in repositories)
        or "  (no repository is left; a new project's is at "
        + aws.git.base_url
        + "/v1/repos/<name>)"
    )
    return (
        "\nThe embedded AWS and the git endpoint keep running; Ctrl-C stops them.\n"
        f"AWS CLI and boto3 read these variables:\n{exports}\n"
        "  aws sagemaker list-projects; aws sagemaker list-model-packages "
        "--model-package-group-name <group>\n"
        "  python -c 'import boto3; print(boto3.client(\"sagemaker\").list_endpoints())'\n"
        "git (HTTPS with the run's CA, GIT_SSL_CAINFO above; the URL carries CodeCommit's "
        f"password, valid 15 minutes):\n{clones}"
        + (
            "\nMLflow (HTTPS with the run's CA, MLFLOW_TRACKING_SERVER_CERT_PATH above):\n"
            f"  export MLFLOW_TRACKING_URI={aws.mlflow.url}"
            if aws.mlflow is not None
            else ""
        )
    )


def wait_for_interrupt() -> None:
    stopped = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        while not stopped.wait(0.5):
            pass
    finally:
        signal.signal(signal.SIGINT, previous)
