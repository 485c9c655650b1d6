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

from lambda_project_lifecycle.environment import (
    MLFLOW_CLIENT_SECURITY_GROUP_ENV,
    MLFLOW_CREDENTIALS_SECRET_ENV,
    MLFLOW_SUBNETS_ENV,
    MLFLOW_TRACKING_URI_ENV,
    MLFLOW_VPC_ENV,
)
from lambda_project_lifecycle.resource_properties import (
    MLFLOW_BUILD_CREDENTIALS_ATTRIBUTE,
    MLFLOW_BUILD_SECURITY_GROUP_ATTRIBUTE,
    MLFLOW_BUILD_SUBNETS_ATTRIBUTE,
    MLFLOW_BUILD_VPC_ATTRIBUTE,
    MLFLOW_TRACKING_URI_ATTRIBUTE,
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
