"""The Service Catalog side of the platform stack: the portfolio, who may launch from it,
one product per entry of the catalog, and the role products launch with.

Principals are Studio execution roles, by ARN (one association each, through the
``AWS::LanguageExtensions`` transform's ``Fn::ForEach``) or by IAM pattern. Every
product is tagged for Studio (``catalog.STUDIO_VISIBILITY_TAG``) and reads its template
from the artifacts bucket.
"""

from __future__ import annotations

from typing import Any

from awacs import cloudformation as cfn_actions
from awacs import s3 as s3_actions
from awacs import ssm as ssm_actions
from awacs.aws import Allow, Condition, PolicyDocument, Statement, StringEquals
from awacs.awslambda import InvokeFunction
from troposphere import (
    Equals,
    GetAtt,
    Join,
    Not,
    Parameter,
    Ref,
    Sub,
    Tags,
    Template,
    iam,
    servicecatalog,
)
from troposphere import awslambda as lambda_

from portfolio.functions import trust_policy
from portfolio.permissions import training_launch_statements
from template_common.arns import regional_arn, s3_arn, ssm_parameter_arn
from template_common.catalog import (
    PRODUCTS,
    SERVICE_CATALOG_COPY_TAG,
    STUDIO_VISIBILITY_TAG,
    Product,
)
from template_common.settings import TemplateSettings

STUDIO_ROLE_PATTERN_DEFAULT = "role/service-role/AmazonSageMaker-ExecutionRole-*"


class ForEachResources:
    """An ``Fn::ForEach`` block of the AWS::LanguageExtensions transform among the resources.

    troposphere has no type for it; the template serializes anything with a
    ``title`` and a ``to_dict``.
    """

    def __init__(self, loop_name: str, identifier: str, collection: Any, fragments: dict[str, Any]):
        self.title = f"Fn::ForEach::{loop_name}"
        self._body = [identifier, collection, fragments]

    def to_dict(self) -> list[Any]:
        return self._body


def add_portfolio(template: Template, settings: TemplateSettings) -> servicecatalog.Portfolio:
    """The portfolio and its principals (the Studio roles the parameters name)."""
    role_arns = template.add_parameter(
        Parameter(
            "StudioExecutionRoleArns",
            Type="CommaDelimitedList",
            Default="",
            Description="ARNs of Studio execution roles that may launch the products (optional).",
        )
    )
    role_pattern = template.add_parameter(
        Parameter(
            "StudioRolePattern",
            Type="String",
            Default=STUDIO_ROLE_PATTERN_DEFAULT,
            Description="IAM pattern (after arn:<partition>:iam:::) of the roles that may launch "
            "the products; empty for none.",
        )
    )
    template.add_condition("HasStudioRoleArns", Not(Equals(Join("", Ref(role_arns)), "")))
    template.add_condition("HasStudioRolePattern", Not(Equals(Ref(role_pattern), "")))
    portfolio = template.add_resource(
        servicecatalog.Portfolio(
            "Portfolio",
            DisplayName=settings.portfolio_name,
            ProviderName=settings.provider_name,
            Description="SageMaker project templates: baseline and advanced MLOps scenarios.",
        )
    )
    _add_principals(template, portfolio, role_arns, role_pattern)
    return portfolio


def add_products(
    template: Template,
    portfolio: servicecatalog.Portfolio,
    launch_role: iam.Role,
    bucket: Parameter,
    template_keys: dict[str, Parameter],
    product_version: Parameter,
    settings: TemplateSettings,
) -> None:
    """One product per catalog entry, each launched with ``launch_role``."""
    for product in PRODUCTS:
        _add_product(
            template,
            product,
            portfolio,
            launch_role,
            bucket,
            template_keys[product.name],
            product_version,
            settings,
        )


def _add_principals(
    template: Template, portfolio: Any, role_arns: Parameter, role_pattern: Parameter
) -> None:
    template.add_resource(
        ForEachResources(
            "StudioRoles",
            "RoleArn",
            Ref(role_arns),
            {
                "StudioRole&{RoleArn}": {
                    "Type": "AWS::ServiceCatalog::PortfolioPrincipalAssociation",
                    "Condition": "HasStudioRoleArns",
                    "Properties": {
                        "PortfolioId": Ref(portfolio),
                        "PrincipalARN": Ref("RoleArn"),
                        "PrincipalType": "IAM",
                    },
                }
            },
        )
    )
    template.add_resource(
        servicecatalog.PortfolioPrincipalAssociation(
            "StudioRolePatternPrincipal",
            Condition="HasStudioRolePattern",
            PortfolioId=Ref(portfolio),
            PrincipalARN=Sub("arn:${AWS::Partition}:iam:::${StudioRolePattern}"),
            PrincipalType="IAM_PATTERN",
        )
    )


def add_launch_role(
    template: Template, function: lambda_.Function, settings: TemplateSettings
) -> iam.Role:
    """Service Catalog launches the products with it: product stacks (``SC-*``), their
    templates, the lifecycle function and what a product's training is made of."""
    return template.add_resource(
        iam.Role(
            "LaunchRole",
            Description="Service Catalog launches the project products with this role.",
            AssumeRolePolicyDocument=trust_policy("servicecatalog.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName="launch-project-products",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Sid="ProductStacks",
                                Effect=Allow,
                                Action=[
                                    cfn_actions.CreateStack,
                                    cfn_actions.UpdateStack,
                                    cfn_actions.DeleteStack,
                                    cfn_actions.DescribeStacks,
                                    cfn_actions.DescribeStackEvents,
                                    cfn_actions.SetStackPolicy,
                                    cfn_actions.TagResource,
                                    cfn_actions.UntagResource,
                                ],
                                Resource=[regional_arn("cloudformation", "stack/SC-*")],
                            ),
                            Statement(
                                Sid="TemplateChecks",
                                Effect=Allow,
                                Action=[
                                    cfn_actions.ValidateTemplate,
                                    cfn_actions.GetTemplateSummary,
                                ],
                                Resource=["*"],
                            ),
                            Statement(
                                Sid="ProductTemplates",
                                Effect=Allow,
                                Action=[s3_actions.GetObject],
                                Resource=[s3_arn("${ArtifactsBucket}/*")],
                            ),
                            # Service Catalog provisions from its own copy of each product
                            # version, in a bucket it owns and tags for provisioning.
                            Statement(
                                Sid="ServiceCatalogTemplateCopies",
                                Effect=Allow,
                                Action=[s3_actions.GetObject],
                                Resource=["*"],
                                Condition=Condition(StringEquals(SERVICE_CATALOG_COPY_TAG, "true")),
                            ),
                            _resolve_parameter(
                                "ResolveLifecycleFunction",
                                settings.lifecycle_function_arn_parameter,
                            ),
                            Statement(
                                Sid="CallLifecycleFunction",
                                Effect=Allow,
                                Action=[InvokeFunction],
                                Resource=[GetAtt(function, "Arn")],
                            ),
                            _resolve_parameter(
                                "ResolveProjectDataBucket", settings.project_data_bucket_parameter
                            ),
                            *training_launch_statements(settings.repository_secret_prefix),
                        ],
                    ),
                )
            ],
        )
    )


def _resolve_parameter(sid: str, name: str) -> Statement:
    """Product templates resolve the SSM parameter ``name`` (``{{resolve:ssm:...}}``)."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Action=[ssm_actions.GetParameters, ssm_actions.GetParameter],
        Resource=[ssm_parameter_arn(name)],
    )


def _add_product(
    template: Template,
    product: Product,
    portfolio: servicecatalog.Portfolio,
    launch_role: iam.Role,
    bucket: Parameter,
    template_key: Parameter,
    product_version: Parameter,
    settings: TemplateSettings,
) -> None:
    stem = product.logical_stem
    options: dict[str, Any] = {}
    if settings.support_email:
        options["SupportEmail"] = settings.support_email
    catalog_product = template.add_resource(
        servicecatalog.CloudFormationProduct(
            f"{stem}Product",
            Name=product.display_name,
            Description=product.description,
            Owner=settings.provider_name,
            ProvisioningArtifactParameters=[
                servicecatalog.ProvisioningArtifactProperties(
                    Name=Ref(product_version),
                    Description=f"mlops-portfolio {settings.version}",
                    Info=servicecatalog.Info(
                        LoadTemplateFromURL=Sub(
                            "https://${Bucket}.s3.${AWS::Region}.${AWS::URLSuffix}/${Key}",
                            Bucket=Ref(bucket),
                            Key=Ref(template_key),
                        )
                    ),
                )
            ],
            Tags=Tags(**{STUDIO_VISIBILITY_TAG: "true"}),
            **options,
        )
    )
    association = template.add_resource(
        servicecatalog.PortfolioProductAssociation(
            f"{stem}Association", PortfolioId=Ref(portfolio), ProductId=Ref(catalog_product)
        )
    )
    template.add_resource(
        servicecatalog.LaunchRoleConstraint(
            f"{stem}LaunchConstraint",
            DependsOn=[association.title],
            PortfolioId=Ref(portfolio),
            ProductId=Ref(catalog_product),
            RoleArn=GetAtt(launch_role, "Arn"),
            Description="Launch with the portfolio's launch role.",
        )
    )
