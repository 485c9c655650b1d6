"""What ``publish`` made is what SageMaker creates projects from: ``CreateProject`` with the
``TemplateProviders`` shape AWS documents (the S3 template method) and with the Service
Catalog shape, on the emulator.

The project stacks' ``Custom::ProjectLifecycle`` needs a Lambda runtime the emulator does
not have yet, so these tests stop at the stack CloudFormation was asked to create: its
template, role, parameters and tags.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from portfolio_build.publish import publish
from portfolio_build.region_publish import PublishOptions, stack_names
from portfolio_build.release import Release
from portfolio_build.template_method import TEMPLATES_PREFIX
from sandbox.emulator import Emulator
from tests.support.publishing import Lines, config_for, embedded_aws, make_release, sessions

REGION = "eu-west-1"
PRODUCT = "baseline-sagemaker"


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Emulator, Release, dict[str, str]]]:
    release = make_release(tmp_path_factory.mktemp("dist"))
    with embedded_aws() as aws:
        config = config_for(release.dist, regions=[REGION])
        publish(config, release, PublishOptions(), sessions, output=Lines([]).output())
        bootstrap_name, platform_name = stack_names(config)
        cloudformation = aws.client("cloudformation", REGION)
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for name in (bootstrap_name, platform_name)
            for o in cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
        }
        yield aws, release, outputs


def stack_of(aws: Emulator, stack_id: str) -> dict[str, object]:
    return dict(
        aws.client("cloudformation", REGION).describe_stacks(StackName=stack_id)["Stacks"][0]
    )


def test_create_project_with_the_template_providers_shape_and_the_published_url(
    published: tuple[Emulator, Release, dict[str, str]],
) -> None:
    aws, release, outputs = published
    sagemaker = aws.client("sagemaker", REGION)
    url = (
        f"https://{outputs['ArtifactsBucketName']}.s3.{REGION}.amazonaws.com/"
        f"{TEMPLATES_PREFIX}{PRODUCT}.yaml"
    )

    created = sagemaker.create_project(
        ProjectName="churn",
        ProjectDescription="S3 template method",
        TemplateProviders=[
            {
                "CfnTemplateProvider": {
                    "TemplateName": PRODUCT,
                    "TemplateURL": url,
                    "RoleARN": outputs["TemplateLaunchRoleArn"],
                    "Parameters": [{"Key": "OnDelete", "Value": "delete-all"}],
                }
            }
        ],
    )

    described = sagemaker.describe_project(ProjectName="churn")
    assert described["ProjectId"] == created["ProjectId"]
    provider = described["TemplateProviderDetails"][0]["CfnTemplateProviderDetail"]
    assert provider["TemplateURL"] == url
    stack = stack_of(aws, provider["StackDetail"]["Id"])
    assert stack["RoleARN"] == outputs["TemplateLaunchRoleArn"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}  # type: ignore[attr-defined]
    assert parameters["SageMakerProjectName"] == "churn"
    assert parameters["SageMakerProjectId"] == created["ProjectId"]
    assert parameters["OnDelete"] == "delete-all"
    tags = {t["Key"]: t["Value"] for t in stack["Tags"]}  # type: ignore[attr-defined]
    assert tags["sagemaker:project-id"] == created["ProjectId"]
    template = aws.client("cloudformation", REGION).get_template(
        StackName=provider["StackDetail"]["Id"], TemplateStage="Original"
    )["TemplateBody"]
    assert yaml.safe_load(template) == release.template(release.one("product-template", PRODUCT))


def test_create_project_with_the_service_catalog_shape_launches_with_the_launch_role(
    published: tuple[Emulator, Release, dict[str, str]],
) -> None:
    aws, _, outputs = published
    catalog = aws.client("servicecatalog", REGION)
    view = next(
        v
        for v in catalog.search_products_as_admin(PortfolioId=outputs["PortfolioId"])[
            "ProductViewDetails"
        ]
        if v["ProductViewSummary"]["Name"].startswith("MLOps baseline (SageMaker")
    )
    product_id = view["ProductViewSummary"]["ProductId"]
    sagemaker = aws.client("sagemaker", REGION)

    created = sagemaker.create_project(
        ProjectName="fraud",
        ServiceCatalogProvisioningDetails={"ProductId": product_id},
    )

    described = sagemaker.describe_project(ProjectName="fraud")
    provisioned_id = described["ServiceCatalogProvisionedProductDetails"]["ProvisionedProductId"]
    provisioned = catalog.describe_provisioned_product(Id=provisioned_id)[
        "ProvisionedProductDetail"
    ]
    version = catalog.list_provisioning_artifacts(ProductId=product_id)[
        "ProvisioningArtifactDetails"
    ][0]
    assert provisioned["ProvisioningArtifactId"] == version["Id"]
    assert provisioned["LaunchRoleArn"] == outputs["LaunchRoleArn"]
    stack_name = f"SC-123456789012-{provisioned_id}"
    stack = stack_of(aws, stack_name)
    assert stack["RoleARN"] == outputs["LaunchRoleArn"]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}  # type: ignore[attr-defined]
    assert parameters["SageMakerProjectId"] == created["ProjectId"]
