"""Creating and deleting projects as SageMaker Studio does, on what ``publish`` made.

Studio's "Create project" calls ``CreateProject`` in one of the two shapes the API
documents: a Service Catalog product (``ServiceCatalogProvisioningDetails``: the
product Studio lists because it carries ``sagemaker:studio-visibility=true``, its
newest active version, the form's parameters) or a template of the S3 template
method (``TemplateProviders``: the YAML object's URL under the domain's
``sagemaker:projectS3TemplatesLocation``, the platform's template launch role, the
form's parameters). SageMaker fills in ``SageMakerProjectName`` and
``SageMakerProjectId`` and tags the stack with the project's name and id.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from template_common.catalog import PRODUCTS, STUDIO_VISIBILITY_TAG, Product

SERVICE_CATALOG = "servicecatalog"
S3_TEMPLATE = "s3"
METHODS = (SERVICE_CATALOG, S3_TEMPLATE)
SETTLED = ("CreateCompleted", "CreateFailed", "DeleteCompleted", "DeleteFailed", "UpdateCompleted")
STUDIO_TAGS = [{"Key": "created-with", "Value": "mlops-portfolio sandbox"}]


class ProjectCreationFailed(Exception):
    """CreateProject was refused, or the project's stack did not complete."""


@dataclass
class CreatedProject:
    product: str
    method: str
    name: str
    project_id: str
    parameters: dict[str, str]
    stack: str = ""
    status: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


def product_named(name: str) -> Product:
    return next(p for p in PRODUCTS if p.name == name)


class Studio:
    """Studio's calls, with ``client(service)`` making emulator clients of one region."""

    def __init__(self, client: Any, *, templates_location: str, template_launch_role: str) -> None:
        self._client = client
        self.templates_location = templates_location  # s3://<bucket>/<prefix>/
        self.template_launch_role = template_launch_role

    def visible_products(self) -> dict[str, str]:
        """Display name -> product id of the Service Catalog products Studio lists."""
        catalog = self._client("servicecatalog")
        visible = {}
        for view in catalog.search_products_as_admin(PageSize=100)["ProductViewDetails"]:
            summary = view["ProductViewSummary"]
            tags = {t["Key"]: t["Value"] for t in view.get("Tags", [])}
            if not tags:
                described = catalog.describe_product_as_admin(Id=summary["ProductId"])
                tags = {t["Key"]: t["Value"] for t in described.get("Tags", [])}
            if tags.get(STUDIO_VISIBILITY_TAG) == "true":
                visible[summary["Name"]] = summary["ProductId"]
        return visible

    def create(
        self, product: str, method: str, name: str, parameters: dict[str, str]
    ) -> CreatedProject:
        sagemaker = self._client("sagemaker")
        form = [{"Key": k, "Value": v} for k, v in parameters.items()]
        if method == SERVICE_CATALOG:
            request: dict[str, Any] = {
                "ServiceCatalogProvisioningDetails": self._provisioning(product, form)
            }
        else:
            request = {"TemplateProviders": [self._template_provider(product, form)]}
        try:
            created = sagemaker.create_project(
                ProjectName=name,
                ProjectDescription=f"{product_named(product).display_name}, made by the sandbox",
                Tags=STUDIO_TAGS,
                **request,
            )
        except Exception as exc:
            raise ProjectCreationFailed(f"CreateProject {name}: {exc}") from exc
        project = CreatedProject(product, method, name, created["ProjectId"], parameters)
        project.status = self.wait(name)
        project.stack = self.stack_of(name)
        stack = self._client("cloudformation").describe_stacks(StackName=project.stack)["Stacks"][0]
        project.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if project.status != "CreateCompleted":
            raise ProjectCreationFailed(
                f"project {name} is {project.status}: {stack.get('StackStatusReason', '')}"
            )
        return project

    def _provisioning(self, product: str, form: list[dict[str, str]]) -> dict[str, Any]:
        display_name = product_named(product).display_name
        product_id = self.visible_products().get(display_name)
        if product_id is None:
            raise ProjectCreationFailed(f"Studio lists no product named {display_name!r}")
        catalog = self._client("servicecatalog")
        versions = catalog.list_provisioning_artifacts(ProductId=product_id)[
            "ProvisioningArtifactDetails"
        ]
        active = [v for v in versions if v.get("Active", True) and v["Guidance"] == "DEFAULT"]
        newest = max(active, key=lambda v: v["CreatedTime"])
        return {
            "ProductId": product_id,
            "ProvisioningArtifactId": newest["Id"],
            "ProvisioningParameters": form,
        }

    def _template_provider(self, product: str, form: list[dict[str, str]]) -> dict[str, Any]:
        bucket, _, prefix = self.templates_location.removeprefix("s3://").partition("/")
        region = self._client("s3").meta.region_name
        return {
            "CfnTemplateProvider": {
                "TemplateName": product,
                "TemplateURL": f"https://{bucket}.s3.{region}.amazonaws.com/{prefix}{product}.yaml",
                "RoleARN": self.template_launch_role,
                "Parameters": form,
            }
        }

    def wait(self, name: str, timeout: float = 120.0) -> str:
        deadline = time.monotonic() + timeout
        sagemaker = self._client("sagemaker")
        while True:
            status = str(sagemaker.describe_project(ProjectName=name)["ProjectStatus"])
            if status in SETTLED or time.monotonic() > deadline:
                return status
            time.sleep(0.2)

    def stack_of(self, name: str) -> str:
        described = self._client("sagemaker").describe_project(ProjectName=name)
        for provider in described.get("TemplateProviderDetails", []):
            return str(provider["CfnTemplateProviderDetail"]["StackDetail"]["Id"])
        provisioned = described["ServiceCatalogProvisionedProductDetails"]["ProvisionedProductId"]
        catalog = self._client("servicecatalog")
        detail = catalog.describe_provisioned_product(Id=provisioned)["ProvisionedProductDetail"]
        return str(detail.get("PhysicalId") or f"SC-{detail['Arn'].split(':')[4]}-{provisioned}")

    def delete(self, name: str) -> None:
        self._client("sagemaker").delete_project(ProjectName=name)
