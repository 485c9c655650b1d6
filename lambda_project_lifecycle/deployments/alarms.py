"""The platform's rollback alarm on each production variant: 5xx errors of that variant.

SageMaker rolls a blue/green deployment back when an alarm of its
``AutoRollbackConfiguration`` fires; these alarms live only as long as the
endpoint and are deleted with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lambda_project_lifecycle.aws_calls import call, pages

NAMESPACE = "AWS/SageMaker"
METRIC = "Invocation5XXErrors"


def ensure_rollback_alarms(
    cloudwatch: Any, endpoint_name: str, alarms: dict[str, str], tags: list[dict[str, str]]
) -> None:
    """Create or update one alarm per variant (``alarms``: variant -> alarm name)."""
    for variant, alarm in alarms.items():
        call(
            f"Creating the rollback alarm {alarm}",
            cloudwatch.put_metric_alarm,
            AlarmName=alarm,
            AlarmDescription=(
                f"5xx errors of variant {variant} of {endpoint_name}; rolls a deployment back. "
                "Made and deleted by mlops-portfolio."
            ),
            Namespace=NAMESPACE,
            MetricName=METRIC,
            Dimensions=[
                {"Name": "EndpointName", "Value": endpoint_name},
                {"Name": "VariantName", "Value": variant},
            ],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            Tags=tags,
        )


def remove_alarms(
    cloudwatch: Any, endpoint_name: str, prefix: str, *, keep: Iterable[str] = ()
) -> list[str]:
    """Delete the alarms named ``prefix...`` that watch ``endpoint_name``; returns their names.

    The dimension check keeps alarms of other endpoints whose names share the prefix.
    """
    kept = set(keep)
    doomed: list[str] = []
    for page in pages(
        f"Listing alarms {prefix}*",
        cloudwatch.describe_alarms,
        AlarmNamePrefix=prefix,
        AlarmTypes=["MetricAlarm"],
    ):
        for alarm in page.get("MetricAlarms", []):
            dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
            name = alarm["AlarmName"]
            if dimensions.get("EndpointName") == endpoint_name and name not in kept:
                doomed.append(name)
    for start in range(0, len(doomed), 100):
        call(
            f"Deleting the alarms of {endpoint_name}",
            cloudwatch.delete_alarms,
            AlarmNames=doomed[start : start + 100],
        )
    return doomed
