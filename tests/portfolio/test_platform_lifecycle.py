"""How CloudFormation and Lambda drive the lifecycle: one invocation per request, a bounded wait."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portfolio import platform
from products import template as product_template
from template_common.catalog import PRODUCTS
from template_common.lifecycle_function import LIFECYCLE_SERVICE_TIMEOUT_SECONDS
from template_common.settings import TemplateSettings

SETTINGS = TemplateSettings()
RESOURCES: dict[str, Any] = json.loads(json.dumps(platform.build(SETTINGS).to_dict()))["Resources"]


def test_lambda_never_retries_a_lifecycle_request_nor_runs_one_cloudformation_gave_up_on() -> None:
    configs = [
        resource["Properties"]
        for resource in RESOURCES.values()
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Lambda::EventInvokeConfig"
    ]
    lifecycle = [c for c in configs if c["FunctionName"] == {"Ref": "LifecycleFunction"}]
    assert lifecycle == [
        {
            "FunctionName": {"Ref": "LifecycleFunction"},
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 0,
            # queued longer, the request could not be answered within the ServiceTimeout
            "MaximumEventAgeInSeconds": LIFECYCLE_SERVICE_TIMEOUT_SECONDS
            - RESOURCES["LifecycleFunction"]["Properties"]["Timeout"],
            # a request that never got to run (or crashed the runtime) is kept and alarmed
            "DestinationConfig": {
                "OnFailure": {"Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}
            },
        }
    ]


@pytest.mark.parametrize("product", PRODUCTS, ids=[p.name for p in PRODUCTS])
def test_cloudformation_waits_for_the_lifecycle_a_little_longer_than_the_lambda_runs(
    product: Any,
) -> None:
    rendered = json.loads(json.dumps(product_template.build(product, SETTINGS).to_dict()))
    lifecycle = rendered["Resources"][product_template.LIFECYCLE_RESOURCE]["Properties"]
    lambda_timeout = RESOURCES["LifecycleFunction"]["Properties"]["Timeout"]
    assert lambda_timeout < lifecycle["ServiceTimeout"] <= lambda_timeout + 120
    assert isinstance(lifecycle["ServiceTimeout"], int)  # CloudFormation wants an integer
