"""Which account hosts each deployment stage, and what the target-account stack names there.

Shared by the platform template (which writes the handlers' ``STAGE_ACCOUNTS``
variable and grants the named accounts), the target-account template (which makes
the roles under these names) and the deployment handlers (which assume them). It
imports nothing of the handlers, so the build reads it cheaply.

Absent (no stage accounts configured) every stage is in the platform's own account.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

STAGE_ACCOUNTS_ENV = "STAGE_ACCOUNTS"
ACCOUNT_ID_PATTERN = r"^\d{12}$"
# The configuration's name of a stage -> the deployment engine's.
CONFIG_STAGES: dict[str, str] = {
    "dev": "development",
    "staging": "staging",
    "prod": "production",
}
REQUIRED_CONFIG_STAGES = ("dev", "prod")
# An organizational unit or an organization's root, as Organizations and StackSets spell them.
ORGANIZATIONAL_UNIT_PATTERN = r"^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$"
# How a production approval reaches production when there is a staging account:
# ``after-tests`` promotes what passed staging's integration tests at once;
# ``second-approval`` waits until the package that passed is approved again.
AFTER_TESTS = "after-tests"
SECOND_APPROVAL = "second-approval"
PROMOTION_MODES = (AFTER_TESTS, SECOND_APPROVAL)
# Name suffixes of the target-account stack's roles (after the platform's name base).
DEPLOYMENT_ROLE_SUFFIX = "deployment"
MODEL_ROLE_SUFFIX = "model"
EVENT_FORWARDING_ROLE_SUFFIX = "endpoint-events"


def role_name(name_base: str, suffix: str) -> str:
    """``<name base>-<suffix>``, e.g. ``mlops-portfolio-deployment``."""
    return f"{name_base}-{suffix}"


@dataclass(frozen=True)
class StageAccountIds:
    """The account id of each stage: development and production, staging optional."""

    development: str
    production: str
    staging: str = ""
    name_base: str = "mlops-portfolio"  # the platform's name base (its SSM prefix, dashed)
    promotion: str = AFTER_TESTS

    def __post_init__(self) -> None:
        for stage, account in self.by_stage().items():
            if not re.match(ACCOUNT_ID_PATTERN, account):
                raise ValueError(f"stage {stage}: {account!r} is not a 12-digit account id")
        if self.promotion not in PROMOTION_MODES:
            raise ValueError(
                f"promotion {self.promotion!r} is none of {', '.join(PROMOTION_MODES)}"
            )
        if self.promotion == SECOND_APPROVAL and not self.staging:
            raise ValueError("promotion second-approval needs a staging account")

    def by_stage(self) -> dict[str, str]:
        """Engine stage -> account id, for the stages that are configured."""
        stages = {"development": self.development, "production": self.production}
        if self.staging:
            stages["staging"] = self.staging
        return stages

    def account_of(self, stage: str) -> str | None:
        return self.by_stage().get(stage)

    @property
    def accounts(self) -> tuple[str, ...]:
        """Every target account once, sorted."""
        return tuple(sorted(set(self.by_stage().values())))

    @property
    def gated(self) -> bool:
        """A staging account: production approvals deploy to staging first."""
        return bool(self.staging)

    @property
    def second_approval(self) -> bool:
        """Production waits for a second approval of what passed in staging."""
        return self.gated and self.promotion == SECOND_APPROVAL

    @property
    def deployment_role(self) -> str:
        return role_name(self.name_base, DEPLOYMENT_ROLE_SUFFIX)

    @property
    def model_role(self) -> str:
        return role_name(self.name_base, MODEL_ROLE_SUFFIX)

    @property
    def event_forwarding_role(self) -> str:
        return role_name(self.name_base, EVENT_FORWARDING_ROLE_SUFFIX)

    def to_environment(self) -> str:
        """The handlers' ``STAGE_ACCOUNTS`` value (JSON, sorted keys)."""
        value = {"stages": self.by_stage(), "name_base": self.name_base}
        if self.promotion != AFTER_TESTS:
            value["promotion"] = self.promotion
        return json.dumps(value, sort_keys=True)

    @classmethod
    def from_environment(cls, raw: str | None) -> StageAccountIds | None:
        """None when the variable is empty: every stage is in the platform's account."""
        if not raw:
            return None
        value = json.loads(raw)
        stages = value["stages"]
        return cls(
            development=stages["development"],
            production=stages["production"],
            staging=stages.get("staging", ""),
            name_base=value["name_base"],
            promotion=value.get("promotion", AFTER_TESTS),
        )
