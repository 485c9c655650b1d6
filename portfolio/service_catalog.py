"""The Service Catalog side of the platform stack: the portfolio, who may launch from it,
and the roles project stacks launch with (Service Catalog's, and the S3 template method's).

Principals are Studio execution roles, by ARN (one association each, through the
``AWS::LanguageExtensions`` transform's ``Fn::ForEach``) or by IAM pattern. The products
and their versions are not here: ``publish`` manages them through the Service Catalog API
(CloudFormation can neither deprecate nor prune a product's versions).
"""

from __future__ import annotations

from typing import Any

from awacs import cloudformation as cfn_actions
from awacs import s3 as s3_actions
from awacs import ssm as ssm_actions
from awacs.aws import (
    Allow,
    ArnLike,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from awacs.awslambda import InvokeFunction
from awacs.sts import AssumeRole
from troposphere import (
    Equals,
    GetAtt,
    Join,
    Not,
    Parameter,
    Ref,
    Split,
    Sub,
    Template,
    iam,
    servicecatalog,
)
from troposphere import awslambda as lambda_

from portfolio.permissions import training_launch_statements
from template_common.arns import regional_arn, s3_arn, ssm_parameter_arn
from template_common.catalog import SERVICE_CATALOG_COPY_TAG
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


def template_method_trust() -> PolicyDocument:
    """The S3 template method's launch role is trusted by CloudFormation and by the Studio
    execution roles the platform names (by ARN, or by the IAM pattern)."""
    studio_roles = Split(
        ",",
        Join(
            ",",
            [
                Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:${StudioRolePattern}"),
                Join(",", Ref("StudioExecutionRoleArns")),
            ],
        ),
    )
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", ["cloudformation.amazonaws.com"]),
                Action=[AssumeRole],
            ),
            Statement(
                Effect=Allow,
                Principal=Principal(
                    "AWS", [Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")]
                ),
                Action=[AssumeRole],
                Condition=Condition(ArnLike("aws:PrincipalArn", studio_roles)),
            ),
        ],
    )


def add_launch_role(
    template: Template,
    logical_id: str,
    description: str,
    trust: PolicyDocument,
    function: lambda_.Function,
    settings: TemplateSettings,
    stacks: str,
    boundary: Any,
) -> iam.Role:
    """A role project stacks launch with: their stacks (``stacks``: Service Catalog names
    them ``SC-*``; SageMaker documents no name for those of the S3 method), templates (and,
    for the S3 method, their tags), the lifecycle function and what a product's training is
    made of, its roles created only with ``boundary`` (``portfolio.project_role_boundary``)."""
    return template.add_resource(
        iam.Role(
            logical_id,
            Description=description,
            AssumeRolePolicyDocument=trust,
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
                                Resource=[regional_arn("cloudformation", f"stack/{stacks}")],
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
                            # The S3 template method checks the templates' tags.
                            Statement(
                                Sid="ProductTemplates",
                                Effect=Allow,
                                Action=[s3_actions.GetObject, s3_actions.GetObjectTagging],
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
                            _resolve_parameter(
                                "ResolveProjectRoleBoundary",
                                settings.permissions_boundary_parameter,
                            ),
                            *training_launch_statements(
                                settings.repository_secret_prefix,
                                Ref(boundary),
                                settings.model_role_path,
                            ),
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
