"""Service Catalog, played for the emulator: moto has only CreatePortfolio/CreateProduct.

The administrator's side (portfolios, principals, products, product versions, launch
constraints) lives here; provisioning (ProvisionProduct and the provisioned product's
stack) in :mod:`sandbox.service_catalog_provisioning`. State is per account and region,
process-wide like moto's, and behaves as the Service Catalog API reference documents:

- a product version's template is copied when the version is created (Service Catalog
  provisions from its own copy), so a later change of the S3 object changes nothing;
- a product has at most ``quota`` versions (100 by default, adjustable as the service
  quota is); the last one cannot be deleted, nor one a provisioned product uses;
- ``Guidance=DEPRECATED`` versions cannot be launched, but provisioned products may be
  updated to them; inactive ones (``Active=False``) can be neither;
- a product associated with a portfolio cannot be deleted, nor a portfolio that has
  products, principals or constraints; a portfolio and product have one launch constraint.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sandbox import template_processing
from sandbox.emulator import AwsError, Call

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

DEFAULT_VERSION_QUOTA = 100
DEFAULT_PAGE_SIZE = 20


def new_id(prefix: str) -> str:
    return f"{prefix}-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=13))


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


@dataclass
class Version:
    id: str
    name: str
    description: str
    template_url: str
    template_body: str
    type: str = "CLOUD_FORMATION_TEMPLATE"
    active: bool = True
    guidance: str = "DEFAULT"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def detail(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Name": self.name,
            "Description": self.description,
            "Type": self.type,
            "CreatedTime": self.created,
            "Active": self.active,
            "Guidance": self.guidance,
        }


@dataclass
class Product:
    id: str
    arn: str
    name: str
    owner: str
    description: str
    distributor: str
    support: dict[str, str]
    type: str
    tags: dict[str, str]
    versions: dict[str, Version] = field(default_factory=dict)
    portfolios: set[str] = field(default_factory=set)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def summary(self) -> dict[str, Any]:
        return {
            "Id": f"prodview-{self.id.removeprefix('prod-')}",
            "ProductId": self.id,
            "Name": self.name,
            "Owner": self.owner,
            "ShortDescription": self.description,
            "Type": self.type,
            "Distributor": self.distributor,
            "HasDefaultPath": len(self.portfolios) == 1,
            **self.support,
        }

    def view(self) -> dict[str, Any]:
        return {
            "ProductViewSummary": self.summary(),
            "Status": "CREATED",
            "ProductARN": self.arn,
            "CreatedTime": self.created,
        }


@dataclass
class Portfolio:
    id: str
    arn: str
    display_name: str
    provider_name: str
    description: str
    tags: dict[str, str]
    principals: dict[str, str] = field(default_factory=dict)  # ARN -> IAM | IAM_PATTERN
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def detail(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "ARN": self.arn,
            "DisplayName": self.display_name,
            "Description": self.description,
            "CreatedTime": self.created,
            "ProviderName": self.provider_name,
        }


@dataclass
class Constraint:
    id: str
    type: str
    portfolio_id: str
    product_id: str
    parameters: str
    description: str
    owner: str

    def detail(self) -> dict[str, Any]:
        return {
            "ConstraintId": self.id,
            "Type": self.type,
            "Description": self.description,
            "Owner": self.owner,
            "ProductId": self.product_id,
            "PortfolioId": self.portfolio_id,
        }


@dataclass
class Catalog:
    """One account's Service Catalog in one region."""

    account_id: str
    region: str
    portfolios: dict[str, Portfolio] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    provisioned: dict[str, Any] = field(default_factory=dict)  # see service_catalog_provisioning
    records: dict[str, Any] = field(default_factory=dict)
    quota: int = DEFAULT_VERSION_QUOTA

    def arn(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:catalog:{self.region}:{self.account_id}:{kind}/{resource_id}"

    def portfolio(self, portfolio_id: str) -> Portfolio:
        found = self.portfolios.get(portfolio_id)
        if found is None:
            raise AwsError("ResourceNotFoundException", f"Portfolio {portfolio_id} not found")
        return found

    def product(self, product_id: str | None = None, name: str | None = None) -> Product:
        found = self.products.get(product_id or "")
        if found is None and name:
            found = next((p for p in self.products.values() if p.name == name), None)
        if found is None:
            raise AwsError("ResourceNotFoundException", f"Product {product_id or name} not found")
        return found

    def version(self, product: Product, version_id: str | None, name: str | None = None) -> Version:
        found = product.versions.get(version_id or "")
        if found is None and name:
            found = next((v for v in product.versions.values() if v.name == name), None)
        if found is None:
            raise AwsError(
                "ResourceNotFoundException",
                f"Provisioning artifact {version_id or name} of {product.id} not found",
            )
        return found

    def add_version(self, product: Product, parameters: dict[str, Any]) -> Version:
        if len(product.versions) >= self.quota:
            raise AwsError(
                "LimitExceededException",
                f"Product {product.id} has {len(product.versions)} provisioning artifacts, "
                f"the limit is {self.quota}",
            )
        name = parameters.get("Name") or ""
        if any(v.name == name for v in product.versions.values()):
            raise AwsError(
                "InvalidParametersException",
                f"A provisioning artifact named {name} already exists for {product.id}",
            )
        url = (parameters.get("Info") or {}).get("LoadTemplateFromURL", "")
        if not url:
            raise AwsError("InvalidParametersException", "Info.LoadTemplateFromURL is required")
        try:
            body = template_processing.read_template_url(url, self.account_id)
        except AwsError as exc:
            raise AwsError("InvalidParametersException", exc.message) from exc
        if not parameters.get("DisableTemplateValidation"):
            template_processing.parse_template(body)
        version = Version(
            id=new_id("pa"),
            name=name,
            description=parameters.get("Description") or "",
            template_url=url,
            template_body=body,
            type=parameters.get("Type") or "CLOUD_FORMATION_TEMPLATE",
        )
        product.versions[version.id] = version
        return version

    def add_portfolio(self, properties: dict[str, Any]) -> Portfolio:
        """A portfolio from CreatePortfolio's parameters (CloudFormation's properties alike)."""
        portfolio_id = new_id("port")
        portfolio = Portfolio(
            id=portfolio_id,
            arn=self.arn("portfolio", portfolio_id),
            display_name=properties["DisplayName"],
            provider_name=properties["ProviderName"],
            description=properties.get("Description", ""),
            tags={t["Key"]: t["Value"] for t in properties.get("Tags") or []},
        )
        self.portfolios[portfolio_id] = portfolio
        return portfolio

    def launch_role(self, portfolio_id: str, product_id: str) -> str | None:
        for constraint in self.constraints.values():
            if (constraint.portfolio_id, constraint.product_id, constraint.type) == (
                portfolio_id,
                product_id,
                "LAUNCH",
            ):
                return str(json.loads(constraint.parameters).get("RoleArn"))
        return None


CATALOGS: dict[tuple[str, str], Catalog] = {}


def catalog(account_id: str, region: str) -> Catalog:
    return CATALOGS.setdefault((account_id, region), Catalog(account_id, region))


def reset() -> None:
    CATALOGS.clear()


def page(
    items: list[Any], call: Call, key: str, token_key: str = "NextPageToken"
) -> dict[str, Any]:
    start = int(call.params.get("PageToken") or 0)
    size = int(call.params.get("PageSize") or DEFAULT_PAGE_SIZE)
    answer: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        answer[token_key] = str(start + size)
    return answer


class ServiceCatalogAdmin:
    """The administrator's operations, answered from :data:`CATALOGS`."""

    OPERATIONS = (
        "CreatePortfolio",
        "DescribePortfolio",
        "DeletePortfolio",
        "ListPortfolios",
        "AssociatePrincipalWithPortfolio",
        "DisassociatePrincipalFromPortfolio",
        "ListPrincipalsForPortfolio",
        "CreateProduct",
        "DescribeProductAsAdmin",
        "DescribeProduct",
        "SearchProductsAsAdmin",
        "UpdateProduct",
        "DeleteProduct",
        "AssociateProductWithPortfolio",
        "DisassociateProductFromPortfolio",
        "ListPortfoliosForProduct",
        "CreateConstraint",
        "DescribeConstraint",
        "ListConstraintsForPortfolio",
        "DeleteConstraint",
        "CreateProvisioningArtifact",
        "DescribeProvisioningArtifact",
        "ListProvisioningArtifacts",
        "UpdateProvisioningArtifact",
        "DeleteProvisioningArtifact",
    )

    def register(self, emulator: Emulator) -> None:
        emulator.on_stop(reset)
        for operation in self.OPERATIONS:
            handler = getattr(self, _snake(operation))
            emulator.answer("servicecatalog", operation, "not in moto (or partly)")(
                lambda call, handler=handler: handler(catalog(call.account_id, call.region), call)
            )

    # -- portfolios -----------------------------------------------------------------------

    def create_portfolio(self, cat: Catalog, call: Call) -> dict[str, Any]:
        portfolio = cat.add_portfolio(call.params)
        return {"PortfolioDetail": portfolio.detail(), "Tags": tag_list(portfolio.tags)}

    def describe_portfolio(self, cat: Catalog, call: Call) -> dict[str, Any]:
        portfolio = cat.portfolio(call.params["Id"])
        return {"PortfolioDetail": portfolio.detail(), "Tags": tag_list(portfolio.tags)}

    def delete_portfolio(self, cat: Catalog, call: Call) -> dict[str, Any]:
        portfolio = cat.portfolio(call.params["Id"])
        in_use = (
            portfolio.principals
            or any(portfolio.id in p.portfolios for p in cat.products.values())
            or any(c.portfolio_id == portfolio.id for c in cat.constraints.values())
        )
        if in_use:
            raise AwsError(
                "ResourceInUseException",
                f"Portfolio {portfolio.id} has products, principals or constraints",
            )
        del cat.portfolios[portfolio.id]
        return {}

    def list_portfolios(self, cat: Catalog, call: Call) -> dict[str, Any]:
        return page([p.detail() for p in cat.portfolios.values()], call, "PortfolioDetails")

    def associate_principal_with_portfolio(self, cat: Catalog, call: Call) -> dict[str, Any]:
        portfolio = cat.portfolio(call.params["PortfolioId"])
        portfolio.principals[call.params["PrincipalARN"]] = call.params["PrincipalType"]
        return {}

    def disassociate_principal_from_portfolio(self, cat: Catalog, call: Call) -> dict[str, Any]:
        portfolio = cat.portfolio(call.params["PortfolioId"])
        if portfolio.principals.pop(call.params["PrincipalARN"], None) is None:
            raise AwsError("ResourceNotFoundException", "Principal is not associated")
        return {}

    def list_principals_for_portfolio(self, cat: Catalog, call: Call) -> dict[str, Any]:
        portfolio = cat.portfolio(call.params["PortfolioId"])
        principals = [
            {"PrincipalARN": arn, "PrincipalType": kind}
            for arn, kind in sorted(portfolio.principals.items())
        ]
        return page(principals, call, "Principals")

    # -- products -------------------------------------------------------------------------

    def create_product(self, cat: Catalog, call: Call) -> dict[str, Any]:
        params = call.params
        product_id = new_id("prod")
        support = {
            key: params[key]
            for key in ("SupportEmail", "SupportDescription", "SupportUrl")
            if params.get(key)
        }
        product = Product(
            id=product_id,
            arn=cat.arn("product", product_id),
            name=params["Name"],
            owner=params["Owner"],
            description=params.get("Description", ""),
            distributor=params.get("Distributor", ""),
            support=support,
            type=params["ProductType"],
            tags={t["Key"]: t["Value"] for t in params.get("Tags") or []},
        )
        version = cat.add_version(product, params["ProvisioningArtifactParameters"])
        cat.products[product_id] = product
        return {
            "ProductViewDetail": product.view(),
            "ProvisioningArtifactDetail": version.detail(),
            "Tags": tag_list(product.tags),
        }

    def describe_product_as_admin(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params.get("Id"), call.params.get("Name"))
        return {
            "ProductViewDetail": product.view(),
            "ProvisioningArtifactSummaries": [
                {"Id": v.id, "Name": v.name, "Description": v.description, "CreatedTime": v.created}
                for v in product.versions.values()
            ],
            "Tags": tag_list(product.tags),
        }

    def describe_product(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params.get("Id"), call.params.get("Name"))
        return {
            "ProductViewSummary": product.summary(),
            "ProvisioningArtifacts": [
                {
                    "Id": v.id,
                    "Name": v.name,
                    "Description": v.description,
                    "CreatedTime": v.created,
                    "Guidance": v.guidance,
                }
                for v in product.versions.values()
                if v.active
            ],
            "LaunchPaths": [
                {"Id": p, "Name": cat.portfolios[p].display_name}
                for p in sorted(product.portfolios)
            ],
        }

    def search_products_as_admin(self, cat: Catalog, call: Call) -> dict[str, Any]:
        filters = call.params.get("Filters") or {}
        text = [t.lower() for t in filters.get("FullTextSearch", [])]
        owners = set(filters.get("Owner", []))
        portfolio_id = call.params.get("PortfolioId")
        found = [
            p.view()
            for p in sorted(cat.products.values(), key=lambda p: p.name)
            if (not portfolio_id or portfolio_id in p.portfolios)
            and (not owners or p.owner in owners)
            and all(t in f"{p.name} {p.description} {p.owner}".lower() for t in text)
        ]
        return page(found, call, "ProductViewDetails")

    def update_product(self, cat: Catalog, call: Call) -> dict[str, Any]:
        params = call.params
        product = cat.product(params["Id"])
        for key, attribute in (
            ("Name", "name"),
            ("Owner", "owner"),
            ("Description", "description"),
            ("Distributor", "distributor"),
        ):
            if key in params:
                setattr(product, attribute, params[key])
        for key in ("SupportEmail", "SupportDescription", "SupportUrl"):
            if key in params:
                product.support[key] = params[key]
        for tag in params.get("AddTags") or []:
            product.tags[tag["Key"]] = tag["Value"]
        for key in params.get("RemoveTags") or []:
            product.tags.pop(key, None)
        return {"ProductViewDetail": product.view(), "Tags": tag_list(product.tags)}

    def delete_product(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params["Id"])
        if product.portfolios:
            raise AwsError(
                "ResourceInUseException", f"Product {product.id} is associated with a portfolio"
            )
        del cat.products[product.id]
        return {}

    def associate_product_with_portfolio(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params["ProductId"])
        product.portfolios.add(cat.portfolio(call.params["PortfolioId"]).id)
        return {}

    def disassociate_product_from_portfolio(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params["ProductId"])
        portfolio_id = call.params["PortfolioId"]
        if any(
            (c.portfolio_id, c.product_id) == (portfolio_id, product.id)
            for c in cat.constraints.values()
        ):
            raise AwsError("ResourceInUseException", "The product has constraints in the portfolio")
        product.portfolios.discard(portfolio_id)
        return {}

    def list_portfolios_for_product(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params["ProductId"])
        details = [cat.portfolios[p].detail() for p in sorted(product.portfolios)]
        return page(details, call, "PortfolioDetails")

    # -- constraints ----------------------------------------------------------------------

    def create_constraint(self, cat: Catalog, call: Call) -> dict[str, Any]:
        params = call.params
        portfolio = cat.portfolio(params["PortfolioId"])
        product = cat.product(params["ProductId"])
        if portfolio.id not in product.portfolios:
            raise AwsError(
                "InvalidParametersException",
                f"Product {product.id} is not associated with portfolio {portfolio.id}",
            )
        if params["Type"] == "LAUNCH" and cat.launch_role(portfolio.id, product.id) is not None:
            raise AwsError(
                "DuplicateResourceException",
                "A launch constraint already exists for this product and portfolio",
            )
        try:
            parsed = json.loads(params["Parameters"])
        except ValueError as exc:
            raise AwsError("InvalidParametersException", "Parameters is not JSON") from exc
        if params["Type"] == "LAUNCH" and not (
            parsed.get("RoleArn") or parsed.get("LocalRoleName")
        ):
            raise AwsError("InvalidParametersException", "a LAUNCH constraint names a RoleArn")
        constraint = Constraint(
            id=new_id("cons"),
            type=params["Type"],
            portfolio_id=portfolio.id,
            product_id=product.id,
            parameters=params["Parameters"],
            description=params.get("Description", ""),
            owner=cat.account_id,
        )
        cat.constraints[constraint.id] = constraint
        return {
            "ConstraintDetail": constraint.detail(),
            "ConstraintParameters": constraint.parameters,
            "Status": "AVAILABLE",
        }

    def describe_constraint(self, cat: Catalog, call: Call) -> dict[str, Any]:
        constraint = cat.constraints.get(call.params["Id"])
        if constraint is None:
            raise AwsError("ResourceNotFoundException", f"Constraint {call.params['Id']} not found")
        return {
            "ConstraintDetail": constraint.detail(),
            "ConstraintParameters": constraint.parameters,
            "Status": "AVAILABLE",
        }

    def list_constraints_for_portfolio(self, cat: Catalog, call: Call) -> dict[str, Any]:
        portfolio = cat.portfolio(call.params["PortfolioId"])
        product_id = call.params.get("ProductId")
        found = [
            c.detail()
            for c in cat.constraints.values()
            if c.portfolio_id == portfolio.id and (not product_id or c.product_id == product_id)
        ]
        return page(found, call, "ConstraintDetails")

    def delete_constraint(self, cat: Catalog, call: Call) -> dict[str, Any]:
        if cat.constraints.pop(call.params["Id"], None) is None:
            raise AwsError("ResourceNotFoundException", f"Constraint {call.params['Id']} not found")
        return {}

    # -- versions -------------------------------------------------------------------------

    def create_provisioning_artifact(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params["ProductId"])
        version = cat.add_version(product, call.params["Parameters"])
        return {
            "ProvisioningArtifactDetail": version.detail(),
            "Info": {"TemplateUrl": version.template_url},
            "Status": "AVAILABLE",
        }

    def describe_provisioning_artifact(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params.get("ProductId"), call.params.get("ProductName"))
        version = cat.version(
            product,
            call.params.get("ProvisioningArtifactId"),
            call.params.get("ProvisioningArtifactName"),
        )
        return {
            "ProvisioningArtifactDetail": version.detail(),
            "Info": {"TemplateUrl": version.template_url},
            "Status": "AVAILABLE",
        }

    def list_provisioning_artifacts(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params["ProductId"])
        return {"ProvisioningArtifactDetails": [v.detail() for v in product.versions.values()]}

    def update_provisioning_artifact(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params["ProductId"])
        version = cat.version(product, call.params["ProvisioningArtifactId"])
        for key, attribute in (
            ("Name", "name"),
            ("Description", "description"),
            ("Active", "active"),
            ("Guidance", "guidance"),
        ):
            if key in call.params:
                setattr(version, attribute, call.params[key])
        return {
            "ProvisioningArtifactDetail": version.detail(),
            "Info": {"TemplateUrl": version.template_url},
            "Status": "AVAILABLE",
        }

    def delete_provisioning_artifact(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params["ProductId"])
        version = cat.version(product, call.params["ProvisioningArtifactId"])
        if len(product.versions) == 1:
            raise AwsError(
                "InvalidParametersException",
                "A product must have at least one provisioning artifact: the last one cannot "
                "be deleted",
            )
        if any(
            p.product_id == product.id and p.version_id == version.id
            for p in cat.provisioned.values()
        ):
            raise AwsError(
                "ResourceInUseException",
                f"Provisioning artifact {version.id} is used by a provisioned product",
            )
        del product.versions[version.id]
        return {}


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
