"""``publish`` to three regions of the embedded emulator, as a platform engineer runs it:
first publish, a publish with nothing changed, a dry run and a publish of a changed
product template, the S3 template method read back, and ``status``."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from portfolio_build import status
from portfolio_build.catalog_shape import PRODUCT_TAG
from portfolio_build.publish import publish
from portfolio_build.region_publish import PublishOptions, stack_names
from portfolio_build.release import Release
from portfolio_build.template_method import LOCATION_TAG, TEMPLATES_PREFIX
from sandbox.emulator import Emulator
from template_common.catalog import PRODUCTS
from tests.support.publishing import (
    REGIONS,
    Lines,
    config_for,
    sessions,
    snapshot,
    with_changed_product,
)

CHANGED = "baseline-mlflow"


def domain(emulator: Emulator, region: str) -> str:
    sagemaker = emulator.client("sagemaker", region)
    created = sagemaker.create_domain(
        DomainName="studio",
        AuthMode="IAM",
        DefaultUserSettings={"ExecutionRole": "arn:aws:iam::123456789012:role/studio"},
        SubnetIds=["subnet-1"],
        VpcId="vpc-1",
    )
    return str(created["DomainArn"].rsplit("/", 1)[-1])


def test_publish_to_three_regions_then_nothing_changes_then_one_product_changes(
    aws: Emulator, release: Release, tmp_path: Path
) -> None:
    domains = {region: domain(aws, region) for region in REGIONS}
    assert len(set(domains.values())) == 1  # moto names domains alike in every region
    config = config_for(release.dist, studio_domains=[domains["us-east-1"]])
    bootstrap_name, platform_name = stack_names(config)

    first = Lines([])
    assert publish(config, release, PublishOptions(), sessions, output=first.output()) == 0

    for region in REGIONS:
        cloudformation = aws.client("cloudformation", region)
        for name in (bootstrap_name, platform_name):
            stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
            assert stack["StackStatus"] == "CREATE_COMPLETE"
            assert stack["EnableTerminationProtection"] is True
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in cloudformation.describe_stacks(StackName=platform_name)["Stacks"][0]["Outputs"]
        }
        catalog = aws.client("servicecatalog", region)
        views = catalog.search_products_as_admin()["ProductViewDetails"]
        assert len(views) == len(PRODUCTS)
        for view in views:
            product_id = view["ProductViewSummary"]["ProductId"]
            tags = {
                t["Key"]: t["Value"]
                for t in catalog.describe_product_as_admin(Id=product_id)["Tags"]
            }
            assert tags["sagemaker:studio-visibility"] == "true"
            product = next(p for p in PRODUCTS if p.name == tags[PRODUCT_TAG])
            versions = catalog.list_provisioning_artifacts(ProductId=product_id)[
                "ProvisioningArtifactDetails"
            ]
            template = release.one("product-template", product.name)
            assert [v["Name"] for v in versions] == [f"{release.version}+{template.sha256[:8]}"]
            portfolios = catalog.list_portfolios_for_product(ProductId=product_id)[
                "PortfolioDetails"
            ]
            assert [p["Id"] for p in portfolios] == [outputs["PortfolioId"]]
            constraints = catalog.list_constraints_for_portfolio(
                PortfolioId=outputs["PortfolioId"], ProductId=product_id
            )["ConstraintDetails"]
            constraint = catalog.describe_constraint(Id=constraints[0]["ConstraintId"])
            assert (
                json.loads(constraint["ConstraintParameters"])["RoleArn"]
                == outputs["LaunchRoleArn"]
            )
        # The S3 template method, read back: YAML objects tagged for Studio, CORS, domain tag.
        s3 = aws.client("s3", region)
        bucket = next(
            o["OutputValue"]
            for o in cloudformation.describe_stacks(StackName=bootstrap_name)["Stacks"][0][
                "Outputs"
            ]
            if o["OutputKey"] == "ArtifactsBucketName"
        )
        cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
        assert [r["AllowedOrigins"] for r in cors] == [["https://*.sagemaker.aws"]]
        for product in PRODUCTS:
            key = f"{TEMPLATES_PREFIX}{product.name}.yaml"
            tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
            assert tags == [{"Key": "sagemaker:studio-visibility", "Value": "true"}]
            body = yaml.safe_load(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            assert body == release.template(release.one("product-template", product.name))
        sagemaker = aws.client("sagemaker", region)
        arn = sagemaker.describe_domain(DomainId=domains[region])["DomainArn"]
        domain_tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
        assert domain_tags[LOCATION_TAG] == f"s3://{bucket}/{TEMPLATES_PREFIX}"

    # A second publish with nothing changed: no change set, no upload, no version.
    before = snapshot(config, aws)
    second = Lines([])
    assert publish(config, release, PublishOptions(), sessions, output=second.output()) == 0
    assert snapshot(config, aws) == before
    for region in REGIONS:
        assert second.of(region) == [
            "nothing to publish: stacks, artifacts, versions and S3 templates are current"
        ]

    # A dry run of a changed product template: the plan, and nothing changed.
    changed = with_changed_product(release, tmp_path / "changed", CHANGED)
    dry = Lines([])
    assert (
        publish(config, changed, PublishOptions(dry_run=True), sessions, output=dry.output()) == 0
    )
    assert snapshot(config, aws) == before
    new_name = f"{release.version}+{changed.one('product-template', CHANGED).sha256[:8]}"
    assert any(f"{CHANGED}: new version {new_name}" in line for line in dry.of("eu-west-1"))

    # The changed template published: one new version of that product only, and a plan
    # that shows only that.
    third = Lines([])
    assert publish(config, changed, PublishOptions(), sessions, output=third.output()) == 0
    after = snapshot(config, aws)
    for region in REGIONS:
        plan = [line for line in third.of(region) if not line.startswith("published")]
        assert plan[0] == "artifacts: 1 to upload under mlops-portfolio/"
        assert plan[1].startswith(f"Service Catalog: {CHANGED}: new version {new_name} (")
        assert "since " in plan[1] and "resources +0 ~0 -0; outputs changed: PublishedBy" in plan[1]
        assert plan[2] == f"S3 template method: upload {TEMPLATES_PREFIX}{CHANGED}.yaml"
        assert all(CHANGED in line for line in plan[1:] if "Service Catalog" in line)
        grown = [
            versions
            for pid, versions in after[region]["products"].items()
            if versions != before[region]["products"][pid]
        ]
        assert len(grown) == 1 and len(grown[0]) == 2
        assert after[region]["stacks"] == before[region]["stacks"]
        assert after[region]["change_sets"] == before[region]["change_sets"]

    # status: every region's platform and the products' versions.
    table = Lines([])
    assert status.report(config, sessions, output=table.output()) == 0
    rows = [line.removeprefix("[status] ") for line in table.lines]
    assert rows[0].split() == ["region", "what", "version", "state", "projects"]
    for region in REGIONS:
        assert [region, "stack", platform_name, release.version, "CREATE_COMPLETE"] in [
            r.split() for r in rows
        ]
        assert [region, "drift", "IN_SYNC"] in [r.split() for r in rows]
        mine = [r.split() for r in rows if r.startswith(region) and CHANGED in r]
        assert [r[2:] for r in mine] == [
            [new_name, "active", "0"],
            [
                f"{release.version}+{release.one('product-template', CHANGED).sha256[:8]}",
                "active",
                "0",
            ],
        ]
