"""What CodeBuild and SageMaker call, as a project's role, to run a build and the pipeline's
jobs in a VPC (the self-hosted MLflow server's): the project roles' boundary allows it, the
training role of such a project is granted it."""

from __future__ import annotations

from typing import Any

from awacs import ec2 as ec2_actions
from awacs.aws import Allow, ArnEquals, Condition, Statement, StringEquals

from template_common.arns import regional_arn

# EC2 scopes none of these to a resource.
BUILD_NETWORK_ACTIONS = (
    ec2_actions.CreateNetworkInterface,
    ec2_actions.DescribeDhcpOptions,
    ec2_actions.DescribeNetworkInterfaces,
    ec2_actions.DeleteNetworkInterface,
    ec2_actions.DescribeSubnets,
    ec2_actions.DescribeSecurityGroups,
    ec2_actions.DescribeVpcs,
)


def build_network_statements(vpc: Any = None) -> list[Statement]:
    """The network actions, and the permissions on the interfaces: CodeBuild's (``vpc``: in
    that VPC only, an ARN), and those of the pipeline's jobs, for which SageMaker documents
    no condition (its VPC policy for processing jobs: network interfaces only)."""
    conditions = [StringEquals("ec2:AuthorizedService", "codebuild.amazonaws.com")]
    if vpc is not None:
        conditions.append(ArnEquals("ec2:Vpc", vpc))
    interfaces = [regional_arn("ec2", "network-interface/*")]
    return [
        Statement(
            Sid="BuildNetwork", Effect=Allow, Action=list(BUILD_NETWORK_ACTIONS), Resource=["*"]
        ),
        Statement(
            Sid="BuildNetworkInterfaces",
            Effect=Allow,
            Action=[ec2_actions.CreateNetworkInterfacePermission],
            Resource=interfaces,
            Condition=Condition(conditions),
        ),
        Statement(
            Sid="PipelineJobNetworkInterfaces",
            Effect=Allow,
            Action=[
                ec2_actions.CreateNetworkInterfacePermission,
                ec2_actions.DeleteNetworkInterfacePermission,
            ],
            Resource=interfaces,
        ),
    ]
