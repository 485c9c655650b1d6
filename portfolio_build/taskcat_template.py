"""The template of taskcat's region test: the platform stack, then a project of each product.

taskcat starts every test of a region at once, but a project stack needs the platform
stack of its region (its templates resolve the lifecycle Lambda from the platform's SSM
parameters). So the test is one stack per region with nested stacks: the platform, from
the build's artifacts in the region's taskcat bucket, and, once it is up, one project
stack of each product with Studio's parameters (a name and an id taskcat generates), each
with ``OnDelete=delete-all`` so that deleting the test leaves nothing behind.

The test's outputs are the projects' lifecycle outputs (model groups, repository URL):
CloudFormation fails the test stack when a project stack lacks one. Pure: the build's
artifacts (their object keys) in, a template out.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import (
    Equals,
    GetAtt,
    If,
    Output,
    Parameter,
    Ref,
    Sub,
    Template,
    cloudformation,
)

from lambda_project_lifecycle.naming import (
    PROJECT_ID_MAX_LENGTH,
    PROJECT_NAME_MAX_LENGTH,
    PROJECT_NAME_PATTERN,
)
from lambda_project_lifecycle.scenarios import ON_DELETE_CHOICES

DELETE_ALL = ON_DELETE_CHOICES[1]
PLATFORM = "Platform"
# The MLflow products need a tracking server; without one given, a SageMaker managed
# server's ARN in the test's account and region (recorded by the project, not called).
DEFAULT_TRACKING_SERVER = "taskcat"


@dataclass(frozen=True)
class ProductUnderTest:
    """A product template of the build, as the region test launches it."""

    name: str  # "baseline-sagemaker"
    registry: str  # "sagemaker" or "mlflow"
    key: str  # its object key in the build (manifest ``key``)

    @property
    def logical_id(self) -> str:
        """``BaselineSagemaker``: the project stack's logical id and its parameters' stem."""
        return "".join(part.capitalize() for part in self.name.split("-"))

    @property
    def outputs(self) -> tuple[str, ...]:
        """The lifecycle outputs the project stack must have (the MLflow flavour makes no
        SageMaker model groups)."""
        if self.registry == "sagemaker":
            return ("ModelGroups", "RepositoryCloneUrl")
        return ("RepositoryCloneUrl",)


@dataclass(frozen=True)
class BuildUnderTest:
    """The object keys of the build's platform template, Lambda zip and seed-code zips."""

    platform_key: str
    platform_parameters: dict[str, str]  # LifecycleCodeKey, <Scenario>SeedCodeKey -> key
    products: tuple[ProductUnderTest, ...]


def object_url(key: str) -> Sub:
    """The URL of an object of the build in the region's taskcat bucket."""
    return Sub(
        "https://${ArtifactsBucket}.s3.${AWS::Region}.${AWS::URLSuffix}/${ArtifactsPrefix}" + key
    )


def build(tested: BuildUnderTest) -> Template:
    template = Template(
        Description="mlops-portfolio taskcat region test: the platform stack, then a project "
        "of each product (OnDelete=delete-all)."
    )
    template.add_parameter(
        Parameter(
            "ArtifactsBucket",
            Type="String",
            Description="The bucket taskcat uploaded the project to ($[taskcat_autobucket])",
        )
    )
    template.add_parameter(
        Parameter(
            "ArtifactsPrefix",
            Type="String",
            Default="",
            Description="The key prefix of the upload ($[taskcat_project_name]/)",
        )
    )
    template.add_parameter(
        Parameter(
            "MlflowTrackingUri",
            Type="String",
            Default="",
            Description="The MLflow products' tracking server (default: the ARN of a managed "
            f"server named {DEFAULT_TRACKING_SERVER} in the test's account and region)",
        )
    )
    template.add_condition("NoTrackingUri", Equals(Ref("MlflowTrackingUri"), ""))
    tracking_uri = If(
        "NoTrackingUri",
        Sub(
            "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:"
            f"mlflow-tracking-server/{DEFAULT_TRACKING_SERVER}"
        ),
        Ref("MlflowTrackingUri"),
    )
    artifact_keys = {
        name: Sub("${ArtifactsPrefix}" + key) for name, key in tested.platform_parameters.items()
    }
    template.add_resource(
        cloudformation.Stack(
            PLATFORM,
            TemplateURL=object_url(tested.platform_key),
            Parameters={
                "ArtifactsBucket": Ref("ArtifactsBucket"),
                "MlflowTrackingUri": tracking_uri,
                **artifact_keys,
            },
        )
    )
    # What the platform keeps on delete: the run's checks remove the test's own.
    for name in ("ProjectRegistryTable", "ProjectDataBucketName"):
        template.add_output(Output(name, Value=GetAtt(PLATFORM, f"Outputs.{name}")))
    for product in tested.products:
        add_project(template, product)
    return template


def add_project(template: Template, product: ProductUnderTest) -> None:
    stem = product.logical_id
    template.add_parameter(
        Parameter(
            f"{stem}ProjectName",
            Type="String",
            MinLength=1,
            MaxLength=PROJECT_NAME_MAX_LENGTH,
            AllowedPattern=PROJECT_NAME_PATTERN,
            Description=f"SageMakerProjectName of the {product.name} project",
        )
    )
    template.add_parameter(
        Parameter(
            f"{stem}ProjectId",
            Type="String",
            MinLength=1,
            MaxLength=PROJECT_ID_MAX_LENGTH,
            Description=f"SageMakerProjectId of the {product.name} project",
        )
    )
    template.add_resource(
        cloudformation.Stack(
            stem,
            DependsOn=[PLATFORM],
            TemplateURL=object_url(product.key),
            Parameters={
                "SageMakerProjectName": Ref(f"{stem}ProjectName"),
                "SageMakerProjectId": Ref(f"{stem}ProjectId"),
                "OnDelete": DELETE_ALL,
            },
        )
    )
    template.add_output(Output(f"{stem}ProjectName", Value=Ref(f"{stem}ProjectName")))
    template.add_output(Output(f"{stem}ProjectId", Value=Ref(f"{stem}ProjectId")))
    for name in product.outputs:
        template.add_output(Output(f"{stem}{name}", Value=GetAtt(stem, f"Outputs.{name}")))
