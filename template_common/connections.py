"""CodeConnections, formerly CodeStar Connections: IAM knows a connection under both service
names (``codeconnections`` and ``codestar-connections``), so a statement grants both."""

from __future__ import annotations

from awacs import codeconnections as codeconnections_actions
from awacs import codestar_connections as codestar_connections_actions
from awacs.aws import Action
from troposphere import Sub

from template_common.arns import regional_arn


def connection_actions(*names: str) -> list[Action]:
    """The actions ``names`` (``UseConnection``, ...) under both service names."""
    return [
        *(codestar_connections_actions.Action(name) for name in names),
        *(codeconnections_actions.Action(name) for name in names),
    ]


def connection_arns() -> list[Sub]:
    """The account's connections in this region, under both service names."""
    return [
        regional_arn(service, "connection/*")
        for service in ("codestar-connections", "codeconnections")
    ]
