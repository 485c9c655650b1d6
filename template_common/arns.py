"""ARNs in templates: always of this stack's partition (``${AWS::Partition}``), and of its
region and account where the service has them; never an ``arn:aws:`` literal.

``${Name}`` placeholders in a resource come from ``variables`` (``Fn::Sub``).
"""

from __future__ import annotations

from typing import Any

from troposphere import Sub


def regional_arn(service: str, resource: str, **variables: Any) -> Sub:
    """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
    return Sub(
        f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}",
        **variables,
    )


def sagemaker_arn(resource: str) -> Sub:
    return regional_arn("sagemaker", resource)


def iam_role_arn(name: str, **variables: Any) -> Sub:
    """``arn:<partition>:iam::<account>:role/<name>`` (IAM has no region)."""
    return Sub(f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{name}", **variables)


def s3_arn(path: str, **variables: Any) -> Sub:
    """``arn:<partition>:s3:::<bucket>[/<key>]`` (S3 names carry no region or account)."""
    return Sub(f"arn:${{AWS::Partition}}:s3:::{path}", **variables)


def ssm_parameter_arn(name: str) -> Sub:
    """The SSM parameter ``name`` (which starts with ``/``)."""
    return regional_arn("ssm", f"parameter{name}")


def secret_arn(name_pattern: str) -> Sub:
    return regional_arn("secretsmanager", f"secret:{name_pattern}")
