"""Service Catalog versions of one product: the newest offered, older deprecated, the
oldest unused pruned, on the emulator's Service Catalog (a product with 120 versions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from portfolio_build.catalog_versions import CatalogState, CatalogVersions, Template, Version
from portfolio_build.config import PublishConfig
from portfolio_build.errors import PublishError
from sandbox import service_catalog
from sandbox.emulator import Emulator
from template_common.catalog import PRODUCTS
from template_common.settings import TemplateSettings

REGION = "eu-west-1"
PRODUCT = PRODUCTS[0]
BUCKET = "templates"
TOPIC_TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def template_url(aws: Emulator, key: str, body: dict[str, object]) -> str:
    aws.client("s3", REGION).put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())
    return f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{key}"


def test_a_new_version_of_a_product_with_120_keeps_5_offered_and_prunes_unused_beyond_50(
    aws: Emulator,
) -> None:
    s3 = aws.client("s3", REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    catalog = aws.client("servicecatalog", REGION)
    # An account whose quota was raised: 120 versions exist.
    service_catalog.catalog("123456789012", REGION).quota = 200
    url = template_url(aws, "v.json", TOPIC_TEMPLATE)
    portfolio = catalog.create_portfolio(DisplayName="p", ProviderName="team")["PortfolioDetail"][
        "Id"
    ]
    product_id = catalog.create_product(
        Name=PRODUCT.display_name,
        Owner="team",
        ProductType="CLOUD_FORMATION_TEMPLATE",
        Tags=[{"Key": "mlops-portfolio:product", "Value": PRODUCT.name}],
        ProvisioningArtifactParameters={
            "Name": "0.0.0+00000000",
            "Info": {"LoadTemplateFromURL": url},
        },
    )["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
    for number in range(1, 120):
        catalog.create_provisioning_artifact(
            ProductId=product_id,
            Parameters={"Name": f"0.0.{number}+{number:08x}", "Info": {"LoadTemplateFromURL": url}},
        )
    catalog.associate_product_with_portfolio(ProductId=product_id, PortfolioId=portfolio)
    catalog.create_constraint(
        PortfolioId=portfolio,
        ProductId=product_id,
        Type="LAUNCH",
        Parameters=json.dumps({"RoleArn": "arn:aws:iam::123456789012:role/launch"}),
    )
    versions = catalog.list_provisioning_artifacts(ProductId=product_id)[
        "ProvisioningArtifactDetails"
    ]
    assert len(versions) == 120
    # Two projects still run on old versions (3rd and 10th oldest).
    for index in (2, 9):
        catalog.provision_product(
            ProductId=product_id,
            ProvisioningArtifactId=versions[index]["Id"],
            ProvisionedProductName=f"project-{index}",
        )
    used = {versions[2]["Id"], versions[9]["Id"]}

    manager = CatalogVersions(
        catalog, TemplateSettings(), PublishConfig(keep_versions=5, max_versions=50), REGION
    )
    new = Template("f" * 64, template_url(aws, "new.json", TOPIC_TEMPLATE), TOPIC_TEMPLATE)
    state = manager.inspect(portfolio)
    plan = manager.plan(PRODUCT, new, state)
    assert plan.new_version == f"{TemplateSettings().version}+ffffffff"
    assert len(plan.delete) == 120 - 49 - 2
    manager.apply(plan, new, portfolio, "arn:aws:iam::123456789012:role/launch")

    after = catalog.list_provisioning_artifacts(ProductId=product_id)["ProvisioningArtifactDetails"]
    assert len(after) == 50 + 2  # max_versions, and the two old ones projects still use
    assert used <= {v["Id"] for v in after}
    newest_first = sorted(after, key=lambda v: v["CreatedTime"], reverse=True)
    assert newest_first[0]["Name"] == plan.new_version
    assert [v["Guidance"] for v in newest_first[:5]] == ["DEFAULT"] * 5
    assert {v["Guidance"] for v in newest_first[5:]} == {"DEPRECATED"}
    assert all(v["Active"] for v in after)  # deprecated versions still serve their projects
    # Publishing the same template again changes nothing.
    again = manager.plan(PRODUCT, new, manager.inspect(portfolio))
    assert not again.changes, again.lines()
    # A project on a deprecated version can still be updated to the new one; a new project
    # cannot pick a deprecated version.
    provisioned = catalog.search_provisioned_products()["ProvisionedProducts"][0]
    record = catalog.update_provisioned_product(
        ProvisionedProductId=provisioned["Id"], ProvisioningArtifactId=newest_first[0]["Id"]
    )["RecordDetail"]
    assert catalog.describe_record(Id=record["RecordId"])["RecordDetail"]["Status"] == "SUCCEEDED"
    with pytest.raises(catalog.exceptions.InvalidParametersException):
        catalog.provision_product(
            ProductId=product_id,
            ProvisioningArtifactId=newest_first[10]["Id"],
            ProvisionedProductName="late",
        )
    # The old version that project left is now unused, beyond max_versions: the next
    # publish prunes it.
    assert [v.name for v in manager.plan(PRODUCT, new, manager.inspect(portfolio)).delete] == [
        provisioned["ProvisioningArtifactName"]
    ]


def test_a_plan_over_the_quota_is_refused_before_any_change() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    versions = [
        Version(f"pa-{n}", f"0.0.{n}", "", start + timedelta(days=n), "DEFAULT", True, used=1)
        for n in range(100)
    ]
    manager = CatalogVersions(None, TemplateSettings(), PublishConfig(), REGION)  # type: ignore[arg-type]
    manager.versions = lambda product_id, used: versions  # type: ignore[method-assign]
    state = CatalogState({PRODUCT.name: "prod-1"}, {"prod-1"}, {"prod-1"})

    with pytest.raises(
        PublishError,
        match="would have 101 versions, over Service Catalog's quota of 100: "
        "51 old versions beyond max_versions \\(50\\) are still used",
    ):
        manager.plan(PRODUCT, Template("a" * 64, "https://x", {}), state)
