"""The products of the portfolio: every scenario in every registry flavour.

The platform template publishes each as a Service Catalog product; the build
renders one product template for each.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambda_project_lifecycle.scenarios import REGISTRIES, SCENARIOS, Scenario

# Studio lists only Service Catalog products carrying this tag (value "true").
STUDIO_VISIBILITY_TAG = "sagemaker:studio-visibility"
# Service Catalog's own copies of product templates carry this S3 object tag; the launch
# role reads them (the Service Catalog Administrator Guide's launch-constraint policy).
SERVICE_CATALOG_COPY_TAG = "s3:ExistingObjectTag/servicecatalog:provisioning"

REGISTRY_TITLES = {
    "sagemaker": "SageMaker Model Registry",
    "mlflow": "MLflow model registry",
}


@dataclass(frozen=True)
class Product:
    scenario: Scenario
    registry: str

    @property
    def name(self) -> str:
        """``baseline-sagemaker``: file names, manifest entries, logical-id stems."""
        return f"{self.scenario.name}-{self.registry}"

    @property
    def logical_stem(self) -> str:
        """``BaselineSagemaker``: stem of this product's logical ids in the platform template."""
        return f"{self.scenario.name.capitalize()}{self.registry.capitalize()}"

    @property
    def display_name(self) -> str:
        return f"MLOps {self.scenario.name} ({REGISTRY_TITLES[self.registry]})"

    @property
    def description(self) -> str:
        groups = ", ".join(self.scenario.model_group_kinds)
        if self.registry == "sagemaker":
            registry = f"model groups {groups} in the SageMaker Model Registry"
        else:
            registry = "models registered in MLflow (no SageMaker model groups)"
        return (
            f"{self.scenario.title}. A git repository with prod and dev branches, "
            f"training on every push, {registry}, deployments that follow approvals."
        )


PRODUCTS: tuple[Product, ...] = tuple(
    Product(SCENARIOS[scenario], registry) for scenario in SCENARIOS for registry in REGISTRIES
)
