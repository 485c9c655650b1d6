"""What a deployment step did: the outcome the handlers return, log and announce."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

# Outcome actions, and the notice status each one is announced with (None: not announced).
NOTICE_STATUS: dict[str, str | None] = {
    "deploying": "STARTED",
    "pending": "PENDING",
    "waiting": "WAITING",
    "awaiting-approval": "AWAITING_APPROVAL",
    "removed": "REMOVED",
    "failed": "FAILED",
    "rolled-back": "ROLLED_BACK",
    "passed": "PASSED",
    "tests-failed": "FAILED",
    "tests-timed-out": "TIMED_OUT",
    "untested": "UNTESTED",
    "unchanged": None,
    "ignored": None,
}


@dataclass
class Outcome:
    action: str
    endpoint_name: str = ""
    stage: str = ""
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "endpoint": self.endpoint_name,
            "stage": self.stage,
            "detail": self.detail,
            **self.data,
        }


def ignored(reason: str, **data: Any) -> Outcome:
    logger.info("Ignored: %s", reason)
    return Outcome("ignored", detail=reason, data=data)
