"""``publish`` in one region: inspect (changing nothing), prepare (bootstrap stack, uploads,
the platform's change set and the plan), apply (the change set, termination protection,
Service Catalog versions, the S3 template method). See :mod:`portfolio_build.publish`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from portfolio_build import template_method
from portfolio_build.aws_session import CLIENT_CONFIG, url_suffix
from portfolio_build.catalog_shape import (
    LAUNCH_ROLE_OUTPUT,
    PORTFOLIO_OUTPUT,
    TEMPLATE_LAUNCH_ROLE_OUTPUT,
)
from portfolio_build.catalog_versions import (
    CatalogVersions,
    ProductPlan,
    Template,
    Version,
    loads,
    template_sha_of,
)
from portfolio_build.config import BuildConfig
from portfolio_build.errors import PublishError
from portfolio_build.manifest import artifact_key
from portfolio_build.plan_text import Output, plan_lines, summary
from portfolio_build.release import Release
from portfolio_build.stacks import Desired, ResourceChange, Stack, StackPlan, estimate_changes
from portfolio_build.uploads import Bucket, missing, upload
from template_common.catalog import PRODUCTS, Product

METHODS = ("servicecatalog", "s3", "both")
BUCKET_OUTPUT = "ArtifactsBucketName"


@dataclass(frozen=True)
class PublishOptions:
    method: str = "both"
    dry_run: bool = False
    yes: bool = False
    accept_drift: bool = False

    @property
    def catalog(self) -> bool:
        return self.method in ("servicecatalog", "both")

    @property
    def s3(self) -> bool:
        return self.method in ("s3", "both")


def stack_names(config: BuildConfig) -> tuple[str, str]:
    """The bootstrap and platform stacks' names: ``mlops-portfolio-bootstrap``, ..."""
    base = config.settings.ssm_prefix.strip("/").replace("/", "-").replace(".", "-")
    return f"{base}-bootstrap", f"{base}-platform"


class RegionPublish:
    def __init__(
        self,
        region: str,
        session: boto3.Session,
        account: str,
        release: Release,
        config: BuildConfig,
        options: PublishOptions,
        output: Output,
        token: str,
        studio: list[template_method.StudioTemplate],
    ) -> None:
        self.region = region
        self.studio = studio
        self.account = account
        self.release = release
        self.config = config
        self.options = options
        self.token = token
        self.log = output.region(region)
        self.url_suffix = url_suffix(session, region)
        # Clients are made here, in the calling thread: a boto3 session is not thread-safe,
        # and one session for every region loads each service model once.
        self.s3 = session.client("s3", region_name=region, config=CLIENT_CONFIG)
        self.sagemaker = session.client("sagemaker", region_name=region, config=CLIENT_CONFIG)
        cloudformation = session.client("cloudformation", region_name=region, config=CLIENT_CONFIG)
        bootstrap_name, platform_name = stack_names(config)
        self.bootstrap = Stack(cloudformation, bootstrap_name, region, self.log)
        self.platform = Stack(cloudformation, platform_name, region, self.log)
        self.catalog = CatalogVersions(
            session.client("servicecatalog", region_name=region, config=CLIENT_CONFIG),
            config.settings,
            config.publish,
            region,
        )
        self.bucket: Bucket | None = None
        self.bootstrap_stack: dict[str, Any] | None = None
        self.platform_stack: dict[str, Any] | None = None
        self.plans: list[StackPlan] = []
        self.uploads: list[Any] = []
        self.products: list[ProductPlan] = []
        self.method: template_method.MethodPlan | None = None
        self.domains: dict[str, str] = {}

    # -- 1. inspect -----------------------------------------------------------------------

    def inspect(self) -> None:
        bootstrap = self.bootstrap_stack = self.bootstrap.ready()
        if bootstrap is not None:
            self.bucket = self._bucket(bootstrap)
            self.bucket.check_owner()
        self.platform_stack = self.platform.ready()
        if self.platform_stack is not None and not self.options.accept_drift:
            drifted = self.platform.drifted_resources()
            if drifted:
                raise PublishError(
                    f"{self.region}: stack {self.platform.name} drifted from its template: "
                    f"{', '.join(drifted)}. Put them back, or publish with --accept-drift to "
                    "let the update overwrite them"
                )
        if self.options.s3:
            self.domains = template_method.domain_arns(
                self.sagemaker, self.config.publish.studio_domains, self.region
            )

    def _bucket(self, stack: dict[str, Any]) -> Bucket:
        name = self.bootstrap.outputs(stack).get(BUCKET_OUTPUT)
        if not name:
            raise PublishError(f"{self.region}: stack {self.bootstrap.name} has no {BUCKET_OUTPUT}")
        return Bucket(self.s3, name, self.account, self.region)

    # -- 2. prepare -----------------------------------------------------------------------

    def prepare(self) -> None:
        self._prepare_bootstrap()
        artifacts = [a for a in self.release.artifacts if a.kind != "bootstrap-template"]
        self.uploads = missing(self.bucket, artifacts)
        if not self.options.dry_run and self.uploads:
            assert self.bucket is not None
            upload(self.bucket, self.uploads)
        self._prepare_platform()
        templates = {
            a.name: Template(a.sha256, self._url(a.key), self.release.template(a))
            for a in self.release.of_kind("product-template")
        }
        if self.options.catalog:
            state = self.catalog.inspect(self._platform_output(PORTFOLIO_OUTPUT))
            self.products = [
                self.catalog.plan(p, templates[p.name], state, self._previous_template)
                for p in PRODUCTS
            ]
        if self.options.s3:
            self.method = template_method.plan(
                self.bucket,
                self.sagemaker,
                self.studio,
                self.domains,
                self.bucket.name if self.bucket else None,
            )

    def _prepare_bootstrap(self) -> None:
        artifact = self.release.one("bootstrap-template")
        body = artifact.path.read_text()
        desired = Desired(self.release.template(artifact), {}, body=body)
        stack = self.bootstrap_stack
        if stack is not None and self.bootstrap.is_current(stack, desired):
            return
        if self.options.dry_run:
            self.plans.append(self._estimate(self.bootstrap, stack, desired))
            return
        plan = self.bootstrap.plan(desired, creates=stack is None, token=self.token)
        self.log(f"stack {self.bootstrap.name}: " + summary(plan))
        for line in plan_lines(plan):
            self.log(line)
        if plan.risky and not self.options.yes:
            self.bootstrap.discard(plan)
            raise PublishError(
                f"{self.region}: the change set of {self.bootstrap.name} replaces or removes "
                f"{', '.join(c.logical_id for c in plan.risky)}; review it and publish with --yes"
            )
        self.bootstrap.execute(plan)
        stack = self.bootstrap.ready()
        assert stack is not None
        self.bootstrap.protect(stack)
        self.bucket = self._bucket(stack)

    def _prepare_platform(self) -> None:
        artifact = self.release.one("platform-template")
        template = self.release.template(artifact)
        desired = Desired(
            template, self._platform_parameters(template), url=self._url(artifact.key)
        )
        stack = self.platform_stack
        if stack is not None and self.platform.is_current(stack, desired):
            return
        uploaded = self.bucket is not None and artifact not in self.uploads
        if self.options.dry_run and not (stack is not None and uploaded):
            self.plans.append(self._estimate(self.platform, stack, desired))
            return
        plan = self.platform.plan(desired, creates=stack is None, token=self.token)
        if plan.change_set or plan.changes:
            self.plans.append(plan)

    def _estimate(
        self, stack: Stack, described: dict[str, Any] | None, desired: Desired
    ) -> StackPlan:
        before = stack.deployed_template() if described is not None else {}
        return StackPlan(
            stack.name,
            described is None,
            estimate_changes(before, desired.template),
            estimated=True,
        )

    def _platform_parameters(self, template: dict[str, Any]) -> dict[str, str]:
        declared = template.get("Parameters", {})
        given = self.config.publish.stack_parameters
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise PublishError(
                f"stack_parameters: {', '.join(unknown)} not a parameter of the platform "
                f"template (it has {', '.join(sorted(declared))})"
            )
        values = {k: v for k, v in self.release.platform_parameters.items() if k in declared}
        values["ArtifactsBucket"] = self.bucket.name if self.bucket else "<artifacts bucket>"
        return {**values, **given}

    def _platform_output(self, key: str) -> str | None:
        if self.platform_stack is None:
            return None
        return self.platform.outputs(self.platform_stack).get(key)

    def _url(self, key: str) -> str:
        if self.bucket is None:
            return f"https://<artifacts bucket>.s3.{self.region}.{self.url_suffix}/{key}"
        return self.bucket.url(key, self.url_suffix)

    def _previous_template(self, product: Product, version: Version) -> dict[str, Any] | None:
        """The template a version was made from, from the bucket (its key is its sha256)."""
        digest = template_sha_of(version)
        if digest is None or self.bucket is None:
            return None
        path = self.release.one("product-template", product.name).path.relative_to(
            self.release.dist
        )
        key = artifact_key(path.as_posix(), digest)
        try:
            body = self.s3.get_object(
                Bucket=self.bucket.name, Key=key, ExpectedBucketOwner=self.account
            )
        except ClientError:
            return None
        return loads(body["Body"].read())

    # -- the plan -------------------------------------------------------------------------

    def plan_lines(self) -> list[str]:
        lines = []
        for plan in self.plans:
            lines.append(f"stack {plan.stack}: {summary(plan)}")
            lines += plan_lines(plan)
        if self.uploads:
            lines.append(
                f"artifacts: {len(self.uploads)} to upload under "
                f"{self.uploads[0].key.split('/')[0]}/"
            )
        for product in self.products:
            if product.changes:
                lines += ["Service Catalog: " + line for line in product.lines()]
        if self.method is not None and (
            self.method.upload or self.method.retag or self.method.domains
        ):
            lines += self.method.lines()
        return lines

    @property
    def risky(self) -> list[ResourceChange]:
        return [c for plan in self.plans for c in plan.risky]

    @property
    def changes(self) -> bool:
        return bool(self.plan_lines())

    def discard(self) -> None:
        for plan in self.plans:
            stack = self.platform if plan.stack == self.platform.name else self.bootstrap
            if plan.change_set:
                stack.discard(plan)

    # -- 3. apply -------------------------------------------------------------------------

    def apply(self) -> None:
        for plan in self.plans:
            if plan.stack == self.platform.name:
                self.log(f"stack {plan.stack}: executing {summary(plan)}")
                self.platform.execute(plan)
        self.platform_stack = self.platform.ready()
        if self.platform_stack is None:
            raise PublishError(f"{self.region}: stack {self.platform.name} was not created")
        self.platform.protect(self.platform_stack)
        self.bootstrap.protect()
        if self.options.catalog:
            self._apply_catalog()
        if self.method is not None and self.bucket is not None:
            template_method.apply(self.bucket, self.sagemaker, self.method)

    def _apply_catalog(self) -> None:
        portfolio = self._platform_output(PORTFOLIO_OUTPUT)
        launch_role = self._platform_output(LAUNCH_ROLE_OUTPUT)
        if not portfolio or not launch_role:
            raise PublishError(
                f"{self.region}: stack {self.platform.name} lacks the outputs "
                f"{PORTFOLIO_OUTPUT} and {LAUNCH_ROLE_OUTPUT}"
            )
        state = self.catalog.inspect(portfolio)
        for product in PRODUCTS:
            artifact = self.release.one("product-template", product.name)
            template = Template(
                artifact.sha256, self._url(artifact.key), self.release.template(artifact)
            )
            plan = self.catalog.plan(product, template, state, self._previous_template)
            if plan.changes:
                self.catalog.apply(plan, template, portfolio, launch_role)
                for line in plan.lines():
                    self.log(f"Service Catalog: {line}")

    def launch_roles(self) -> str:
        roles = [
            self._platform_output(k) for k in (LAUNCH_ROLE_OUTPUT, TEMPLATE_LAUNCH_ROLE_OUTPUT)
        ]
        return ", ".join(r for r in roles if r)
