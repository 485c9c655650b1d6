"""Where a project lives: partition, region and account, read from the event's StackId ARN."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambda_project_lifecycle.errors import LifecycleError

STACK_ARN = (
    r"^arn:(?P<partition>aws[a-z-]*):cloudformation:(?P<region>[a-z0-9-]+):"
    r"(?P<account>\d{12}):stack/.+$"
)


@dataclass(frozen=True)
class StackLocation:
    partition: str
    region: str
    account_id: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> StackLocation:
        stack_id = str(event.get("StackId", ""))
        match = re.fullmatch(STACK_ARN, stack_id)
        if match is None:
            raise LifecycleError(f"StackId {stack_id!r} is not a CloudFormation stack ARN")
        return cls(match["partition"], match["region"], match["account"])
