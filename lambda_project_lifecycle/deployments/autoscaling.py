"""Application Auto Scaling of endpoint variants: target tracking on invocations per instance.

Registered when a deployment is InService (a variant cannot be registered while
its endpoint is being created), removed before an update that changes a
scaled variant's instance type or removes it (SageMaker refuses such updates
otherwise; put back if the update fails or SageMaker rolls it back), and removed
with the endpoint. A variant whose config turns scaling off (min equal to max)
is deregistered, so that its old target no longer overrides the fixed count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lambda_project_lifecycle.aws_calls import call, call_unless, pages

NAMESPACE = "sagemaker"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
METRIC = "SageMakerVariantInvocationsPerInstance"
_GONE = frozenset({"ObjectNotFoundException"})


def resource_id(endpoint_name: str, variant: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{variant}"


def apply_scaling(
    client: Any,
    endpoint_name: str,
    scaling: dict[str, dict[str, int]],
    policy_names: dict[str, str],
) -> list[str]:
    """Register each variant (variant -> min, max, target) and its policy; returns resource ids."""
    registered = []
    for variant, limits in sorted(scaling.items()):
        resource = resource_id(endpoint_name, variant)
        call(
            f"Registering {resource} for autoscaling",
            client.register_scalable_target,
            ServiceNamespace=NAMESPACE,
            ResourceId=resource,
            ScalableDimension=DIMENSION,
            MinCapacity=int(limits["min"]),
            MaxCapacity=int(limits["max"]),
        )
        call(
            f"Putting the scaling policy of {resource}",
            client.put_scaling_policy,
            PolicyName=policy_names[variant],
            ServiceNamespace=NAMESPACE,
            ResourceId=resource,
            ScalableDimension=DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration={
                "TargetValue": float(limits["target"]),
                "PredefinedMetricSpecification": {"PredefinedMetricType": METRIC},
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        )
        registered.append(resource)
    return registered


def sync_scaling(
    client: Any,
    endpoint_name: str,
    scaling: dict[str, dict[str, int]],
    policy_names: dict[str, str],
) -> dict[str, list[str]]:
    """Make the endpoint's scalable variants exactly those of ``scaling``."""
    registered = apply_scaling(client, endpoint_name, scaling, policy_names)
    stale = [v for v in scaled_variants(client, endpoint_name) if v not in scaling]
    return {
        "registered": registered,
        "deregistered": remove_scaling(client, endpoint_name, stale) if stale else [],
    }


def scaled_variants(client: Any, endpoint_name: str) -> list[str]:
    """Variants of the endpoint registered as scalable targets."""
    prefix = resource_id(endpoint_name, "")
    variants = []
    for page in pages(
        "Listing scalable targets", client.describe_scalable_targets, ServiceNamespace=NAMESPACE
    ):
        for target in page.get("ScalableTargets", []):
            if target["ResourceId"].startswith(prefix):
                variants.append(target["ResourceId"][len(prefix) :])
    return variants


def remove_scaling(
    client: Any, endpoint_name: str, variants: Iterable[str] | None = None
) -> list[str]:
    """Delete the policies and deregister the variants (all of the endpoint's when None)."""
    chosen = scaled_variants(client, endpoint_name) if variants is None else list(variants)
    removed = []
    for variant in chosen:
        resource = resource_id(endpoint_name, variant)
        policies = call(
            f"Listing scaling policies of {resource}",
            client.describe_scaling_policies,
            ServiceNamespace=NAMESPACE,
            ResourceId=resource,
            ScalableDimension=DIMENSION,
        ).get("ScalingPolicies", [])
        for policy in policies:
            call_unless(
                _GONE,
                f"Deleting scaling policy {policy['PolicyName']}",
                client.delete_scaling_policy,
                PolicyName=policy["PolicyName"],
                ServiceNamespace=NAMESPACE,
                ResourceId=resource,
                ScalableDimension=DIMENSION,
            )
        reply = call_unless(
            _GONE | frozenset({"ValidationException"}),
            f"Deregistering {resource}",
            client.deregister_scalable_target,
            ServiceNamespace=NAMESPACE,
            ResourceId=resource,
            ScalableDimension=DIMENSION,
        )
        if reply is not None:
            removed.append(resource)
    return removed
