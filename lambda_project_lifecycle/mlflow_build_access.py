"""How a project's builds reach the platform's self-hosted MLflow server.

That server sits behind a private load balancer with MLflow's own authentication on. A
build of a project whose tracking server is the platform's runs in the server's VPC (its
private subnets, in the security group the load balancer admits) and logs in as the
platform's MLflow user, with the secret the platform stack generated. The lifecycle
custom resource hands these to the product template as attributes (``Fn::GetAtt``);
the template's conditions decide whether the build uses them.

A project that names a tracking server of its own gets empty values: the platform's
password is never sent to a server the platform does not run.

(One user for every build, not one per project: a user per project needs a password
kept per project, and a Secrets Manager secret per project has an idle price.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambda_project_lifecycle.environment import (
    MLFLOW_CLIENT_SECURITY_GROUP_ENV,
    MLFLOW_CREDENTIALS_SECRET_ENV,
    MLFLOW_SUBNETS_ENV,
    MLFLOW_TRACKING_URI_ENV,
    MLFLOW_VPC_ENV,
)
from lambda_project_lifecycle.errors import InvalidProjectError
from lambda_project_lifecycle.resource_properties import (
    MLFLOW_BUILD_CREDENTIALS_ATTRIBUTE,
    MLFLOW_BUILD_SECURITY_GROUP_ATTRIBUTE,
    MLFLOW_BUILD_SUBNETS_ATTRIBUTE,
    MLFLOW_BUILD_VPC_ATTRIBUTE,
    MLFLOW_TRACKING_URI_ATTRIBUTE,
    MLFLOW_TRACKING_URI_PROPERTY,
)


@dataclass(frozen=True)
class PlatformMlflowServer:
    """The platform's self-hosted server as its builds reach it (all empty otherwise)."""

    tracking_uri: str = ""
    credentials_secret_arn: str = ""
    vpc_id: str = ""
    subnet_ids: str = ""
    security_group_id: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PlatformMlflowServer:
        environ = os.environ if environ is None else environ
        return cls(
            tracking_uri=environ.get(MLFLOW_TRACKING_URI_ENV, ""),
            credentials_secret_arn=environ.get(MLFLOW_CREDENTIALS_SECRET_ENV, ""),
            vpc_id=environ.get(MLFLOW_VPC_ENV, ""),
            subnet_ids=environ.get(MLFLOW_SUBNETS_ENV, ""),
            security_group_id=environ.get(MLFLOW_CLIENT_SECURITY_GROUP_ENV, ""),
        )

    def serves(self, tracking_uri: str) -> bool:
        """True when ``tracking_uri`` is this server, which the platform runs itself."""
        return bool(self.credentials_secret_arn and self.tracking_uri) and (
            tracking_uri.rstrip("/") == self.tracking_uri.rstrip("/")
        )

    def build_attributes(self, tracking_uri: str) -> dict[str, str]:
        """The custom resource's attributes for the builds of a project on ``tracking_uri``."""
        reached = self.serves(tracking_uri)
        return {
            MLFLOW_TRACKING_URI_ATTRIBUTE: tracking_uri,
            MLFLOW_BUILD_CREDENTIALS_ATTRIBUTE: self.credentials_secret_arn if reached else "",
            MLFLOW_BUILD_VPC_ATTRIBUTE: self.vpc_id if reached else "",
            MLFLOW_BUILD_SUBNETS_ATTRIBUTE: self.subnet_ids if reached else "",
            MLFLOW_BUILD_SECURITY_GROUP_ATTRIBUTE: self.security_group_id if reached else "",
        }


def check_tracking_server_kept(
    accepted: Mapping[str, Any], new: Mapping[str, Any], server: str, platform_server: str
) -> dict[str, str]:
    """An Update may not move a project to another MLflow tracking server; returns the
    ``MlflowTrackingUri`` to keep recording.

    ``server`` is the project's (fixed when the repository was seeded: ``project.json``
    names it, the builds register there, its registered models and the deployments'
    lookups are there); ``platform_server`` the platform's, which an empty value names. A
    changed ``MlflowTrackingUri`` that names another server would leave all that behind;
    an empty one on a self-hosted platform would, moreover, put the builds in that
    server's network with attributes the lifecycle leaves empty (CloudFormation then failed
    on a CodeBuild error that named neither). Refused, the update rolls back. A changed
    value that names the same server (a trailing ``/``; the project's server spelled out
    after the platform moved to another) is taken, but the value of the last accepted
    properties stays recorded, so that any rollback, which sends a value that was taken,
    is compared with it and succeeds. A project the registry recorded without this
    property (made before it was kept) is not checked: what it was given is unknown.
    """
    if MLFLOW_TRACKING_URI_PROPERTY not in accepted:
        return {}
    kept = {MLFLOW_TRACKING_URI_PROPERTY: str(accepted[MLFLOW_TRACKING_URI_PROPERTY])}
    before = _server(accepted[MLFLOW_TRACKING_URI_PROPERTY])
    after = _server(new.get(MLFLOW_TRACKING_URI_PROPERTY))
    if after == before or (after or _server(platform_server)) == _server(server):
        return kept
    raise InvalidProjectError(
        f"{MLFLOW_TRACKING_URI_PROPERTY} cannot change after the project is created "
        f"(from {_shown(before, platform_server)} to {_shown(after, platform_server)}): "
        f"the project's tracking server is {server[:200]!r}, which its repository's "
        "project.json names and its registered models and deployments are on; set "
        f"{MLFLOW_TRACKING_URI_PROPERTY} back, or create a new project for the other server"
    )


def _server(value: Any) -> str:
    """The server a property value names: the same with or without a trailing ``/``."""
    return str(value or "").strip().rstrip("/")


def _shown(value: str, platform_server: str) -> str:
    if value:
        return repr(value[:200])
    return f"empty, the platform's server {_server(platform_server)[:200]!r}"
