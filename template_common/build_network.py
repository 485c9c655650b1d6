"""What CodeBuild calls, as a project's role, to run a build in a VPC (the self-hosted MLflow
server's): the project roles' boundary allows it, the training role of such a project is
granted it, in that VPC only."""

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
    """The network actions, and the permission to hand the build's network interface to
    CodeBuild (and no other service); ``vpc``: an interface in that VPC only (an ARN)."""
    conditions = [StringEquals("ec2:AuthorizedService", "codebuild.amazonaws.com")]
    if vpc is not None:
        conditions.append(ArnEquals("ec2:Vpc", vpc))
    return [
        Statement(
            Sid="BuildNetwork", Effect=Allow, Action=list(BUILD_NETWORK_ACTIONS), Resource=["*"]
        ),
        Statement(
            Sid="BuildNetworkInterfaces",
            Effect=Allow,
            Action=[ec2_actions.CreateNetworkInterfacePermission],
            Resource=[regional_arn("ec2", "network-interface/*")],
            Condition=Condition(conditions),
        ),
    ]
