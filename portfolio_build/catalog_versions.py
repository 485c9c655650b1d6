"""Service Catalog products and their versions, managed through the API.

For each product: found again by its tag (or created, with its first version),
associated with the platform's portfolio, launched with its launch role. A changed
template gives exactly one new version, named ``<version>+<sha8>`` and described by
what changed. The newest ``keep_versions`` are offered (guidance DEFAULT); older ones are
DEPRECATED (new projects cannot pick them, existing ones keep working and can be
updated); versions beyond ``max_versions`` that no provisioned product uses are deleted
(never the newest, so never the last one). A plan that would go over the quota of
versions per product is refused before anything changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from portfolio_build.catalog_shape import (
    PRODUCT_TAG,
    launch_constraint,
    product_shape,
    version_name,
)
from portfolio_build.config import MAX_VERSIONS_QUOTA, PublishConfig
from portfolio_build.errors import PublishError
from portfolio_build.stacks import estimate_changes
from template_common.catalog import PRODUCTS, Product
from template_common.settings import TemplateSettings

if TYPE_CHECKING:
    from mypy_boto3_servicecatalog import ServiceCatalogClient
else:
    ServiceCatalogClient = Any

DEPRECATED = "DEPRECATED"
DEFAULT = "DEFAULT"


@dataclass(frozen=True)
class Template:
    """A product template as published: its sha256, URL and body."""

    sha256: str
    url: str
    body: dict[str, Any]


@dataclass
class Version:
    id: str
    name: str
    description: str
    created: datetime
    guidance: str
    active: bool
    used: int = 0


@dataclass
class CatalogState:
    """What Service Catalog holds of ours in one region."""

    products: dict[str, str]  # product name -> product id
    associated: set[str] = field(default_factory=set)  # product ids in the portfolio
    constrained: set[str] = field(default_factory=set)  # with a launch constraint there
    used: dict[str, int] = field(default_factory=dict)  # version id -> provisioned products


@dataclass
class ProductPlan:
    product: Product
    product_id: str | None
    new_version: str | None
    description: str
    versions: list[Version] = field(default_factory=list)
    deprecate: list[Version] = field(default_factory=list)
    offer: list[Version] = field(default_factory=list)  # DEPRECATED again DEFAULT
    delete: list[Version] = field(default_factory=list)
    associate: bool = False
    constrain: bool = False

    @property
    def changes(self) -> bool:
        return bool(
            self.product_id is None
            or self.new_version
            or self.deprecate
            or self.offer
            or self.delete
            or self.associate
            or self.constrain
        )

    def lines(self) -> list[str]:
        name = self.product.name
        if not self.changes:
            return [f"{name}: no change ({len(self.versions)} versions)"]
        lines = []
        if self.product_id is None:
            lines.append(f"{name}: new product with version {self.new_version}")
        elif self.new_version:
            lines.append(f"{name}: new version {self.new_version} ({self.description})")
        for label, versions in (
            ("deprecate", self.deprecate),
            ("offer again", self.offer),
            ("delete (unused)", self.delete),
        ):
            if versions:
                shown = ", ".join(v.name for v in versions[:5])
                more = f" and {len(versions) - 5} more" if len(versions) > 5 else ""
                lines.append(f"{name}: {label} {len(versions)}: {shown}{more}")
        if self.product_id is not None and self.associate:
            lines.append(f"{name}: associate with the portfolio")
        if self.product_id is not None and self.constrain:
            lines.append(f"{name}: set the launch constraint")
        return lines


class CatalogVersions:
    def __init__(
        self,
        servicecatalog: ServiceCatalogClient,
        settings: TemplateSettings,
        limits: PublishConfig,
        region: str,
    ) -> None:
        self.servicecatalog = servicecatalog
        self.settings = settings
        self.limits = limits
        self.region = region

    # -- reading --------------------------------------------------------------------------

    def inspect(self, portfolio_id: str | None) -> CatalogState:
        """Which products publish made (by tag), which the portfolio holds and constrains,
        and how many provisioned products use each version: a few calls per region."""
        names = {p.display_name: p for p in PRODUCTS}
        found: dict[str, str] = {}
        for view in self._pages(self.servicecatalog.search_products_as_admin, "ProductViewDetails"):
            summary = view["ProductViewSummary"]
            if summary.get("Name") not in names:
                continue
            described = self.servicecatalog.describe_product_as_admin(Id=summary["ProductId"])
            tags = {t["Key"]: t["Value"] for t in described.get("Tags", [])}
            if tags.get(PRODUCT_TAG) in {p.name for p in PRODUCTS}:
                found[tags[PRODUCT_TAG]] = summary["ProductId"]
        state = CatalogState(found)
        if portfolio_id is not None:
            state.associated = {
                v["ProductViewSummary"]["ProductId"]
                for v in self._pages(
                    self.servicecatalog.search_products_as_admin,
                    "ProductViewDetails",
                    PortfolioId=portfolio_id,
                )
            }
            state.constrained = {
                c["ProductId"]
                for c in self._pages(
                    self.servicecatalog.list_constraints_for_portfolio,
                    "ConstraintDetails",
                    PortfolioId=portfolio_id,
                )
                if c["Type"] == "LAUNCH"
            }
        for provisioned in self._pages(
            self.servicecatalog.search_provisioned_products,
            "ProvisionedProducts",
            AccessLevelFilter={"Key": "Account", "Value": "self"},
            PageSize=100,
        ):
            version = provisioned.get("ProvisioningArtifactId", "")
            state.used[version] = state.used.get(version, 0) + 1
        return state

    def _pages(self, operation: Any, key: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = operation(**params)
            items += page.get(key, [])
            if not page.get("NextPageToken"):
                return items
            params["PageToken"] = page["NextPageToken"]

    def versions(self, product_id: str, used: dict[str, int]) -> list[Version]:
        details = self.servicecatalog.list_provisioning_artifacts(ProductId=product_id)[
            "ProvisioningArtifactDetails"
        ]
        return sorted(
            (
                Version(
                    id=d["Id"],
                    name=d.get("Name", ""),
                    description=d.get("Description", ""),
                    created=d["CreatedTime"],
                    guidance=d.get("Guidance", DEFAULT),
                    active=d.get("Active", True),
                    used=used.get(d["Id"], 0),
                )
                for d in details
            ),
            key=lambda v: (v.created, v.id),
        )

    # -- planning -------------------------------------------------------------------------

    def plan(
        self,
        product: Product,
        template: Template,
        state: CatalogState,
        previous_template: Any = None,
    ) -> ProductPlan:
        """What publishing ``template`` changes; ``previous_template(product, version)`` reads
        the template a version was made from (for the description), or None."""
        wanted = version_name(self.settings.version, template.sha256)
        product_id = state.products.get(product.name)
        if product_id is None:
            return ProductPlan(
                product,
                None,
                wanted,
                describe_change(template, None, None),
                associate=True,
                constrain=True,
            )
        versions = self.versions(product_id, state.used)
        existing = next((v for v in versions if v.name == wanted), None)
        description = ""
        if existing is None:
            newest = versions[-1] if versions else None
            before = previous_template(product, newest) if (newest and previous_template) else None
            description = describe_change(template, newest, before)
        plan = ProductPlan(
            product,
            product_id,
            None if existing else wanted,
            description,
            versions,
            associate=product_id not in state.associated,
            constrain=product_id not in state.constrained,
        )
        self._lifecycle(plan, existing)
        return plan

    def _lifecycle(self, plan: ProductPlan, current: Version | None) -> None:
        keep, most = self.limits.keep_versions, self.limits.max_versions
        older = [v for v in plan.versions if v is not current]
        # Newest first; the current version (new or existing) is always offered.
        ranked = list(reversed(older))
        offered = ranked[: keep - 1]
        plan.delete = [v for v in ranked[most - 1 :] if v.used == 0]
        plan.deprecate = [
            v
            for v in ranked
            if v not in offered and v not in plan.delete and v.guidance != DEPRECATED
        ]
        plan.offer = [v for v in offered if v.guidance == DEPRECATED]
        if current is not None and current.guidance == DEPRECATED:
            plan.offer.append(current)
        total = len(plan.versions) - len(plan.delete) + (1 if plan.new_version else 0)
        if total > MAX_VERSIONS_QUOTA:
            in_use = [v for v in ranked[most - 1 :] if v.used]
            raise PublishError(
                f"{self.region}: {plan.product.name} would have {total} versions, over Service "
                f"Catalog's quota of {MAX_VERSIONS_QUOTA}: {len(in_use)} old versions beyond "
                f"max_versions ({most}) are still used by provisioned products; update or "
                "terminate those projects first"
            )

    # -- applying -------------------------------------------------------------------------

    def apply(
        self, plan: ProductPlan, template: Template, portfolio_id: str, launch_role: str
    ) -> None:
        product_id = plan.product_id
        artifact = {
            "Name": plan.new_version,
            "Description": plan.description[:8000],
            "Info": {"LoadTemplateFromURL": template.url},
            "Type": "CLOUD_FORMATION_TEMPLATE",
        }
        if product_id is None:
            created = self.servicecatalog.create_product(
                **product_shape(plan.product, self.settings),
                ProvisioningArtifactParameters=artifact,
                IdempotencyToken=f"{plan.product.name}-{template.sha256[:16]}"[:128],
            )
            product_id = created["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        for version in plan.delete:
            self.servicecatalog.delete_provisioning_artifact(
                ProductId=product_id, ProvisioningArtifactId=version.id
            )
        if plan.product_id is not None and plan.new_version:
            self.servicecatalog.create_provisioning_artifact(
                ProductId=product_id,
                Parameters=artifact,  # type: ignore[arg-type]
                IdempotencyToken=f"{product_id}-{template.sha256[:16]}",
            )
        for version in plan.deprecate:
            self.servicecatalog.update_provisioning_artifact(
                ProductId=product_id, ProvisioningArtifactId=version.id, Guidance=DEPRECATED
            )
        for version in plan.offer:
            self.servicecatalog.update_provisioning_artifact(
                ProductId=product_id,
                ProvisioningArtifactId=version.id,
                Guidance=DEFAULT,
                Active=True,
            )
        if plan.associate:
            self.servicecatalog.associate_product_with_portfolio(
                ProductId=product_id, PortfolioId=portfolio_id
            )
        if plan.constrain:
            self.servicecatalog.create_constraint(
                PortfolioId=portfolio_id,
                ProductId=product_id,
                IdempotencyToken=f"{product_id}-launch",
                **launch_constraint(launch_role),
            )


def describe_change(template: Template, newest: Version | None, before: Any) -> str:
    """The new version's description: its template's sha256 (so that the next publish finds
    the template again) and what changed since the newest version."""
    head = f"template sha256 {template.sha256[:16]}"
    if newest is None:
        return f"{head}; first version"
    if not isinstance(before, dict):
        return f"{head}; replaces {newest.name}"
    changes = estimate_changes(before, template.body)
    counts = {
        action: sum(c.action == action for c in changes) for action in ("Add", "Modify", "Remove")
    }
    old_parameters = set(before.get("Parameters", {}))
    new_parameters = set(template.body.get("Parameters", {}))
    parts = [f"resources +{counts['Add']} ~{counts['Modify']} -{counts['Remove']}"]
    if new_parameters - old_parameters:
        parts.append("parameters added: " + ", ".join(sorted(new_parameters - old_parameters)))
    if old_parameters - new_parameters:
        parts.append("parameters removed: " + ", ".join(sorted(old_parameters - new_parameters)))
    old_outputs, new_outputs = before.get("Outputs", {}), template.body.get("Outputs", {})
    changed_outputs = sorted(
        name
        for name in set(old_outputs) | set(new_outputs)
        if old_outputs.get(name) != new_outputs.get(name)
    )
    if changed_outputs:
        parts.append("outputs changed: " + ", ".join(changed_outputs))
    return f"{head}; since {newest.name}: " + "; ".join(parts)


def template_sha_of(version: Version) -> str | None:
    """The template sha256 prefix a version's description records (see describe_change)."""
    prefix = "template sha256 "
    if version.description.startswith(prefix):
        return version.description[len(prefix) : len(prefix) + 16]
    return None


def loads(body: bytes) -> dict[str, Any]:
    return dict(json.loads(body))
