"""What each product is in Service Catalog: the one definition ``publish`` creates from
and the build's Studio-contract check reads.

Studio lists a product only when it is tagged ``sagemaker:studio-visibility=true`` and
its portfolio is shared with the user's execution role; it launches the product with
the portfolio's launch constraint role. ``publish`` finds a product it made again by
the ``mlops-portfolio:product`` tag.
"""

from __future__ import annotations

import json
from typing import Any

from template_common.catalog import STUDIO_VISIBILITY_TAG, Product
from template_common.settings import TemplateSettings

PRODUCT_TAG = "mlops-portfolio:product"
PRODUCT_TYPE = "CLOUD_FORMATION_TEMPLATE"
LAUNCH = "LAUNCH"
# Outputs of the platform stack that publish reads.
PORTFOLIO_OUTPUT = "PortfolioId"
LAUNCH_ROLE_OUTPUT = "LaunchRoleArn"
TEMPLATE_LAUNCH_ROLE_OUTPUT = "TemplateLaunchRoleArn"
VERSION_NAME_MAX_LENGTH = 8192


def product_shape(product: Product, settings: TemplateSettings) -> dict[str, Any]:
    """CreateProduct's parameters, except the first version."""
    shape: dict[str, Any] = {
        "Name": product.display_name,
        "Owner": settings.provider_name,
        "Description": product.description,
        "Distributor": settings.provider_name,
        "ProductType": PRODUCT_TYPE,
        "Tags": [
            {"Key": STUDIO_VISIBILITY_TAG, "Value": "true"},
            {"Key": PRODUCT_TAG, "Value": product.name},
        ],
    }
    if settings.support_email:
        shape["SupportEmail"] = settings.support_email
    return shape


def launch_constraint(role_arn: str) -> dict[str, str]:
    """CreateConstraint's parameters (with PortfolioId and ProductId)."""
    return {
        "Type": LAUNCH,
        "Parameters": json.dumps({"RoleArn": role_arn}),
        "Description": "Launch with the portfolio's launch role.",
    }


def version_name(version: str, template_sha256: str) -> str:
    """``<version>+<sha8 of the product's template>``: a changed template, a new name."""
    return f"{version}+{template_sha256[:8]}"
