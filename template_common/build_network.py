"""What CodeBuild calls, as a project's role, to run a build in a VPC (the self-hosted MLflow
server's): the project roles' boundary allows it, the training role of such a project is
granted it. EC2 scopes none of these to a resource."""

from __future__ import annotations

from awacs import ec2 as ec2_actions

BUILD_NETWORK_ACTIONS = (
    ec2_actions.CreateNetworkInterface,
    ec2_actions.DescribeDhcpOptions,
    ec2_actions.DescribeNetworkInterfaces,
    ec2_actions.DeleteNetworkInterface,
    ec2_actions.DescribeSubnets,
    ec2_actions.DescribeSecurityGroups,
    ec2_actions.DescribeVpcs,
)
# Scoped by conditions (the build's VPC, CodeBuild as the service) where it is granted.
NETWORK_INTERFACE_PERMISSION = ec2_actions.CreateNetworkInterfacePermission
