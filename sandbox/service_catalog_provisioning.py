"""Service Catalog provisioning, played for the emulator, and the Service Catalog
resources CloudFormation makes (moto skips both).

ProvisionProduct creates the provisioned product's stack (``SC-<account>-<id>``) through
the emulator's own CloudFormation, from the version's copy of the template, with the
launch constraint's role; UpdateProvisionedProduct updates it to another version (a
deprecated one too, as Service Catalog allows), TerminateProvisionedProduct deletes it.
A record's status follows its stack's (read on every Describe), as Service Catalog's
does: IN_PROGRESS while CloudFormation works, SUCCEEDED, or FAILED with the stack's
first failure reason.

``AWS::ServiceCatalog::Portfolio`` and ``AWS::ServiceCatalog::PortfolioPrincipalAssociation``
are made in :mod:`sandbox.service_catalog`'s state when a stack holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sandbox.cloudformation_models import ModelMap, ReplacedOnUpdate, ResourceModel
from sandbox.emulator import AwsError, Call
from sandbox.service_catalog import Catalog, Portfolio, catalog, new_id, page, tag_list

if TYPE_CHECKING:
    from sandbox.emulator import Emulator

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
IN_PROGRESS_SUFFIX = "_IN_PROGRESS"
SUCCEEDED_STATES = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"})


@dataclass
class Record:
    id: str
    type: str
    provisioned_product_id: str
    provisioned_product_name: str
    product_id: str
    version_id: str
    path_id: str
    launch_role: str | None
    status: str = "IN_PROGRESS"
    errors: list[dict[str, str]] = field(default_factory=list)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))

    def detail(self) -> dict[str, Any]:
        detail = {
            "RecordId": self.id,
            "ProvisionedProductName": self.provisioned_product_name,
            "Status": self.status,
            "CreatedTime": self.created,
            "UpdatedTime": self.updated,
            "ProvisionedProductType": "CFN_STACK",
            "RecordType": self.type,
            "ProvisionedProductId": self.provisioned_product_id,
            "ProductId": self.product_id,
            "ProvisioningArtifactId": self.version_id,
            "PathId": self.path_id,
            "RecordErrors": self.errors,
        }
        if self.launch_role:
            detail["LaunchRoleArn"] = self.launch_role
        return detail


@dataclass
class ProvisionedProduct:
    id: str
    arn: str
    name: str
    product_id: str
    version_id: str
    path_id: str
    launch_role: str | None
    tags: dict[str, str]
    stack_name: str
    stack_id: str = ""
    status: str = "UNDER_CHANGE"
    status_message: str = ""
    last_record_id: str = ""
    last_success_record_id: str = ""
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


class ServiceCatalogProvisioning:
    OPERATIONS = (
        "ListLaunchPaths",
        "ProvisionProduct",
        "UpdateProvisionedProduct",
        "TerminateProvisionedProduct",
        "DescribeProvisionedProduct",
        "DescribeRecord",
        "SearchProvisionedProducts",
        "ScanProvisionedProducts",
    )

    def register(self, emulator: Emulator) -> None:
        # The portfolio's resources in moto's CloudFormation while the emulator runs.
        resources = ModelMap(
            {m.TYPE: m for m in (CatalogPortfolioResource, CatalogPrincipalResource)}
        )
        resources.install()
        emulator.on_stop(resources.uninstall)
        for operation in self.OPERATIONS:
            handler = getattr(
                self, "".join(f"_{c.lower()}" if c.isupper() else c for c in operation)
            )
            emulator.answer("servicecatalog", operation, "no provisioning in moto")(
                lambda call, handler=handler: handler(catalog(call.account_id, call.region), call)
            )

    # -- launch paths ---------------------------------------------------------------------

    def _list_launch_paths(self, cat: Catalog, call: Call) -> dict[str, Any]:
        product = cat.product(call.params["ProductId"])
        paths = [
            {
                "Id": portfolio_id,
                "Name": cat.portfolios[portfolio_id].display_name,
                "ConstraintSummaries": [
                    {"Type": c.type, "Description": c.description}
                    for c in cat.constraints.values()
                    if (c.portfolio_id, c.product_id) == (portfolio_id, product.id)
                ],
                "Tags": [],
            }
            for portfolio_id in sorted(product.portfolios)
        ]
        return page(paths, call, "LaunchPathSummaries")

    def _path(self, cat: Catalog, product_id: str, path_id: str | None) -> str:
        product = cat.product(product_id)
        if path_id:
            if path_id not in product.portfolios:
                raise AwsError("InvalidParametersException", f"Path {path_id} is not a launch path")
            return path_id
        if len(product.portfolios) != 1:
            raise AwsError(
                "InvalidParametersException",
                f"Product {product_id} has {len(product.portfolios)} launch paths: give a PathId",
            )
        return next(iter(product.portfolios))

    # -- provisioning ---------------------------------------------------------------------

    def _provision_product(self, cat: Catalog, call: Call) -> dict[str, Any]:
        params = call.params
        product = cat.product(params.get("ProductId"), params.get("ProductName"))
        version = cat.version(
            product, params.get("ProvisioningArtifactId"), params.get("ProvisioningArtifactName")
        )
        if not version.active or version.guidance == "DEPRECATED":
            raise AwsError(
                "InvalidParametersException",
                f"Provisioning artifact {version.id} is "
                f"{'deprecated' if version.active else 'inactive'}: "
                "new provisioned products cannot use it",
            )
        name = params["ProvisionedProductName"]
        if any(p.name == name for p in cat.provisioned.values()):
            raise AwsError("DuplicateResourceException", f"Provisioned product {name} exists")
        path_id = self._path(cat, product.id, params.get("PathId"))
        provisioned_id = new_id("pp")
        provisioned = ProvisionedProduct(
            id=provisioned_id,
            arn=cat.arn("stack", f"{name}/{provisioned_id}"),
            name=name,
            product_id=product.id,
            version_id=version.id,
            path_id=path_id,
            launch_role=cat.launch_role(path_id, product.id),
            tags={t["Key"]: t["Value"] for t in params.get("Tags") or []},
            stack_name=f"SC-{cat.account_id}-{provisioned_id}",
        )
        cat.provisioned[provisioned_id] = provisioned
        record = self._record(cat, provisioned, "PROVISION_PRODUCT")
        self._run_stack(call, record, provisioned, version.template_body, params, create=True)
        return {"RecordDetail": self._refresh(call, cat, record).detail()}

    def _update_provisioned_product(self, cat: Catalog, call: Call) -> dict[str, Any]:
        params = call.params
        provisioned = self._provisioned(cat, params)
        product = cat.product(params.get("ProductId") or provisioned.product_id)
        version = cat.version(
            product,
            params.get("ProvisioningArtifactId") or provisioned.version_id,
            params.get("ProvisioningArtifactName"),
        )
        if not version.active:
            raise AwsError(
                "InvalidParametersException", f"Provisioning artifact {version.id} is inactive"
            )
        provisioned.version_id = version.id
        provisioned.status = "UNDER_CHANGE"
        record = self._record(cat, provisioned, "UPDATE_PROVISIONED_PRODUCT")
        self._run_stack(call, record, provisioned, version.template_body, params, create=False)
        return {"RecordDetail": self._refresh(call, cat, record).detail()}

    def _terminate_provisioned_product(self, cat: Catalog, call: Call) -> dict[str, Any]:
        provisioned = self._provisioned(cat, call.params)
        record = self._record(cat, provisioned, "TERMINATE_PROVISIONED_PRODUCT")
        try:
            self._cloudformation(call, provisioned).delete_stack(StackName=provisioned.stack_id)
        except ClientError as exc:
            if not call.params.get("IgnoreErrors"):
                record.status = "FAILED"
                record.errors = [{"Code": exc.response["Error"]["Code"], "Description": str(exc)}]
        return {"RecordDetail": self._refresh(call, cat, record).detail()}

    def _run_stack(
        self,
        call: Call,
        record: Record,
        provisioned: ProvisionedProduct,
        body: str,
        params: dict[str, Any],
        *,
        create: bool,
    ) -> None:
        cloudformation = self._cloudformation(call, provisioned)
        parameters = [
            {
                "ParameterKey": p["Key"],
                **(
                    {"UsePreviousValue": True}
                    if p.get("UsePreviousValue")
                    else {"ParameterValue": p.get("Value", "")}
                ),
            }
            for p in params.get("ProvisioningParameters") or []
        ]
        options: dict[str, Any] = {
            "StackName": provisioned.stack_id or provisioned.stack_name,
            "TemplateBody": body,
            "Parameters": parameters,
            "Capabilities": CAPABILITIES,
            "Tags": tag_list(provisioned.tags),
        }
        if provisioned.launch_role:
            options["RoleARN"] = provisioned.launch_role
        try:
            if create:
                provisioned.stack_id = cloudformation.create_stack(**options)["StackId"]
            else:
                cloudformation.update_stack(**options)
        except ClientError as exc:
            error = exc.response["Error"]
            if not create and "No updates" in error.get("Message", ""):
                return  # the stack already matches: the record succeeds
            record.status = "FAILED"
            record.errors = [{"Code": error["Code"], "Description": error.get("Message", "")}]

    def _cloudformation(self, call: Call, provisioned: ProvisionedProduct) -> Any:
        return call.emulator.client("cloudformation", call.region, account_id=call.account_id)

    def _record(self, cat: Catalog, provisioned: ProvisionedProduct, kind: str) -> Record:
        record = Record(
            id=new_id("rec"),
            type=kind,
            provisioned_product_id=provisioned.id,
            provisioned_product_name=provisioned.name,
            product_id=provisioned.product_id,
            version_id=provisioned.version_id,
            path_id=provisioned.path_id,
            launch_role=provisioned.launch_role,
        )
        cat.records[record.id] = record
        provisioned.last_record_id = record.id
        return record

    def _refresh(self, call: Call, cat: Catalog, record: Record) -> Record:
        """The record's status from its stack's, as CloudFormation reports it now."""
        provisioned = cat.provisioned.get(record.provisioned_product_id)
        if record.status != "IN_PROGRESS" or provisioned is None:
            if record.status == "FAILED" and provisioned is not None:
                provisioned.status = "ERROR" if record.type == "PROVISION_PRODUCT" else "TAINTED"
                provisioned.status_message = (
                    record.errors[0]["Description"] if record.errors else ""
                )
            return record
        stack = _stack(call, provisioned.stack_id)
        status = stack.status if stack is not None else "DELETE_COMPLETE"
        if status.endswith(IN_PROGRESS_SUFFIX) and status != "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS":
            provisioned.status = "UNDER_CHANGE"
            return record
        record.updated = datetime.now(UTC)
        if status in SUCCEEDED_STATES or status == "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS":
            record.status = "SUCCEEDED"
            provisioned.status = "AVAILABLE"
            provisioned.last_success_record_id = record.id
            if record.type == "TERMINATE_PROVISIONED_PRODUCT":
                del cat.provisioned[provisioned.id]
            return record
        reason = next(
            (
                e.resource_status_reason
                for e in (stack.events if stack is not None else [])
                if str(e.resource_status).endswith("FAILED") and e.resource_status_reason
            ),
            f"stack {status}",
        )
        record.status = "FAILED"
        record.errors = [{"Code": "CloudFormationFailure", "Description": reason}]
        provisioned.status = "ERROR" if record.type == "PROVISION_PRODUCT" else "TAINTED"
        provisioned.status_message = reason
        return record

    def _provisioned(self, cat: Catalog, params: dict[str, Any]) -> ProvisionedProduct:
        wanted_id, wanted_name = (
            params.get("ProvisionedProductId"),
            params.get("ProvisionedProductName"),
        )
        for provisioned in cat.provisioned.values():
            if provisioned.id == wanted_id or (wanted_name and provisioned.name == wanted_name):
                return provisioned
        raise AwsError(
            "ResourceNotFoundException", f"Provisioned product {wanted_id or wanted_name} not found"
        )

    # -- describing -----------------------------------------------------------------------

    def _describe_record(self, cat: Catalog, call: Call) -> dict[str, Any]:
        record = cat.records.get(call.params["Id"])
        if record is None:
            raise AwsError("ResourceNotFoundException", f"Record {call.params['Id']} not found")
        self._refresh(call, cat, record)
        provisioned = cat.provisioned.get(record.provisioned_product_id)
        stack = _stack(call, provisioned.stack_id) if provisioned else None
        outputs = [
            {
                "OutputKey": o["OutputKey"],
                "OutputValue": str(o["OutputValue"]),
                "Description": o.get("Description") or "",
            }
            for o in (
                (stack.outputs or []) if stack is not None and record.status == "SUCCEEDED" else []
            )
        ]
        return {"RecordDetail": record.detail(), "RecordOutputs": outputs}

    def _describe_provisioned_product(self, cat: Catalog, call: Call) -> dict[str, Any]:
        provisioned = self._provisioned(
            cat,
            {
                "ProvisionedProductId": call.params.get("Id"),
                "ProvisionedProductName": call.params.get("Name"),
            },
        )
        if provisioned.last_record_id in cat.records:
            self._refresh(call, cat, cat.records[provisioned.last_record_id])
        return {"ProvisionedProductDetail": self._detail(provisioned), "CloudWatchDashboards": []}

    def _detail(self, provisioned: ProvisionedProduct) -> dict[str, Any]:
        detail = {
            "Name": provisioned.name,
            "Arn": provisioned.arn,
            "Type": "CFN_STACK",
            "Id": provisioned.id,
            "Status": provisioned.status,
            "StatusMessage": provisioned.status_message,
            "CreatedTime": provisioned.created,
            "LastRecordId": provisioned.last_record_id,
            "LastProvisioningRecordId": provisioned.last_record_id,
            "LastSuccessfulProvisioningRecordId": provisioned.last_success_record_id,
            "ProductId": provisioned.product_id,
            "ProvisioningArtifactId": provisioned.version_id,
        }
        if provisioned.launch_role:
            detail["LaunchRoleArn"] = provisioned.launch_role
        return detail

    def _search_provisioned_products(self, cat: Catalog, call: Call) -> dict[str, Any]:
        queries = [q for q in ((call.params.get("Filters") or {}).get("SearchQuery") or []) if q]
        found = []
        for provisioned in list(cat.provisioned.values()):
            if provisioned.last_record_id in cat.records:
                self._refresh(call, cat, cat.records[provisioned.last_record_id])
            if provisioned.id not in cat.provisioned:
                continue
            product = cat.products.get(provisioned.product_id)
            version = product.versions.get(provisioned.version_id) if product else None
            attribute = {
                **self._detail(provisioned),
                "Tags": tag_list(provisioned.tags),
                "PhysicalId": provisioned.stack_id,
                "ProductName": product.name if product else "",
                "ProvisioningArtifactName": version.name if version else "",
            }
            if all(_matches(attribute, query) for query in queries):
                found.append(attribute)
        answer = page(found, call, "ProvisionedProducts")
        answer["TotalResultsCount"] = len(found)
        return answer

    def _scan_provisioned_products(self, cat: Catalog, call: Call) -> dict[str, Any]:
        return page(
            [self._detail(p) for p in cat.provisioned.values()], call, "ProvisionedProducts"
        )


SEARCH_ATTRIBUTES = {
    "id": "Id",
    "name": "Name",
    "productId": "ProductId",
    "provisioningArtifactId": "ProvisioningArtifactId",
    "status": "Status",
    "productName": "ProductName",
    "provisioningArtifactName": "ProvisioningArtifactName",
    "physicalId": "PhysicalId",
}


def _matches(attribute: dict[str, Any], query: str) -> bool:
    key, sep, value = query.partition(":")
    if not sep:
        return any(query.lower() in str(v).lower() for v in attribute.values())
    return str(attribute.get(SEARCH_ATTRIBUTES.get(key, key), "")) == value


def _stack(call: Call, stack_id: str) -> Any:
    backend = call.backend("cloudformation")
    return backend.stacks.get(stack_id) or backend.deleted_stacks.get(stack_id)


# -- the resources CloudFormation makes -----------------------------------------------------


class CatalogPortfolioResource(ResourceModel):
    """``AWS::ServiceCatalog::Portfolio``: Ref is the portfolio id."""

    TYPE = "AWS::ServiceCatalog::Portfolio"

    def __init__(self, portfolio: Portfolio, account_id: str, region: str) -> None:
        self.portfolio = portfolio
        self.account_id = account_id
        self.region = region

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Id", "PortfolioName")

    @property
    def physical_resource_id(self) -> str:
        return self.portfolio.id

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.portfolio.id if attribute_name == "Id" else self.portfolio.display_name

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CatalogPortfolioResource:
        portfolio = catalog(account_id, region_name).add_portfolio(
            cloudformation_json.get("Properties", {})
        )
        return cls(portfolio, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: CatalogPortfolioResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> CatalogPortfolioResource:
        properties = cloudformation_json.get("Properties", {})
        portfolio = original_resource.portfolio
        portfolio.display_name = properties["DisplayName"]
        portfolio.provider_name = properties["ProviderName"]
        portfolio.description = properties.get("Description", "")
        return original_resource

    def delete(self, account_id: str, region: str) -> None:
        catalog(account_id, region).portfolios.pop(self.portfolio.id, None)


class CatalogPrincipalResource(ReplacedOnUpdate):
    """``AWS::ServiceCatalog::PortfolioPrincipalAssociation``."""

    TYPE = "AWS::ServiceCatalog::PortfolioPrincipalAssociation"

    def __init__(self, portfolio_id: str, principal: str, kind: str) -> None:
        self.portfolio_id, self.principal, self.kind = portfolio_id, principal, kind

    @property
    def physical_resource_id(self) -> str:
        return f"{self.portfolio_id}|{self.principal}"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> CatalogPrincipalResource:
        properties = cloudformation_json["Properties"]
        cat = catalog(account_id, region_name)
        cat.portfolio(properties["PortfolioId"]).principals[properties["PrincipalARN"]] = (
            properties["PrincipalType"]
        )
        return cls(
            properties["PortfolioId"], properties["PrincipalARN"], properties["PrincipalType"]
        )

    def delete(self, account_id: str, region: str) -> None:
        portfolio = catalog(account_id, region).portfolios.get(self.portfolio_id)
        if portfolio is not None:
            portfolio.principals.pop(self.principal, None)
