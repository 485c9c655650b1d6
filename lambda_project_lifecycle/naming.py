"""Names of everything a project owns, each within its service's limit.

Every name starts from ``sagemaker-<project name>-<project id>``. The project id
is unique, so when a name would be too long the project *name* part is cut
short (never the id or the suffix) and the result stays unique.

The limits hold for the longest legal project name (32) and id (16), for every
name here (:func:`check_name` checks a name against its rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambda_project_lifecycle.errors import InvalidProjectError

PROJECT_NAME_MAX_LENGTH = 32
PROJECT_NAME_PATTERN = r"^[a-zA-Z](-*[a-zA-Z0-9])*$"
PROJECT_ID_MAX_LENGTH = 16
PROJECT_ID_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"
NAME_PREFIX = "sagemaker"
# The tags that say which project a resource is of (as SageMaker tags what a project owns);
# a resource counts as a project's only when it carries the project's id.
PROJECT_NAME_TAG = "sagemaker:project-name"
PROJECT_ID_TAG = "sagemaker:project-id"

_SAGEMAKER_ENTITY = r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"


@dataclass(frozen=True)
class NameRule:
    """What a service accepts as the name of one kind of resource."""

    what: str
    max_length: int
    pattern: str


NAME_RULES: dict[str, NameRule] = {
    "model_package_group": NameRule("SageMaker model package group", 63, _SAGEMAKER_ENTITY),
    "endpoint": NameRule("SageMaker endpoint", 63, _SAGEMAKER_ENTITY),
    "endpoint_config": NameRule("SageMaker endpoint config", 63, _SAGEMAKER_ENTITY),
    "model": NameRule("SageMaker model", 63, _SAGEMAKER_ENTITY),
    "pipeline": NameRule("SageMaker pipeline", 256, _SAGEMAKER_ENTITY),
    "iam_role": NameRule("IAM role", 64, r"^[\w+=,.@-]+$"),
    "codebuild_project": NameRule("CodeBuild project", 255, r"^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$"),
    "codecommit_repository": NameRule("CodeCommit repository", 100, r"^[\w.-]+$"),
    "github_repository": NameRule("GitHub repository", 100, r"^[A-Za-z0-9_.-]+$"),
    "gitlab_project": NameRule("GitLab project path", 255, r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"),
    "bitbucket_repository": NameRule("Bitbucket repository slug", 62, r"^[a-z0-9_.-]+$"),
    "log_group": NameRule("CloudWatch log group", 512, r"^[\.\-_/#A-Za-z0-9]+$"),
    "cloudwatch_alarm": NameRule("CloudWatch alarm", 255, r"^[\x20-\x7e]+$"),
    "scaling_policy": NameRule("Application Auto Scaling policy", 256, r"^[\x20-\x7e]+$"),
}


def validate_project_identity(project_name: str, project_id: str) -> None:
    """Raise :class:`InvalidProjectError` naming the field and the rule it breaks."""
    _check_field(
        "SageMakerProjectName", project_name, PROJECT_NAME_MAX_LENGTH, PROJECT_NAME_PATTERN
    )
    _check_field("SageMakerProjectId", project_id, PROJECT_ID_MAX_LENGTH, PROJECT_ID_PATTERN)


def _check_field(field: str, value: object, max_length: int, pattern: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidProjectError(f"{field} is required and must be a non-empty string")
    if len(value) > max_length:
        raise InvalidProjectError(
            f"{field} must be at most {max_length} characters (got {len(value)}: {value!r})"
        )
    if not re.fullmatch(pattern, value):
        raise InvalidProjectError(f"{field} {value!r} does not match the pattern {pattern}")


@dataclass(frozen=True)
class ProjectNames:
    """The names of one project's resources. Build it from a validated name and id."""

    project_name: str
    project_id: str

    @property
    def prefix(self) -> str:
        """``sagemaker-<name>-<id>``: at most 59 characters for legal input."""
        return f"{NAME_PREFIX}-{self.project_name}-{self.project_id}"

    def fit(self, kind: str, suffix: str = "") -> str:
        """``<prefix>[-<suffix>]`` shortened to the rule of ``kind``.

        Only the project-name part is shortened; a dash left at the cut is
        dropped so the result still matches the service's pattern.
        """
        rule = NAME_RULES[kind]
        tail = f"-{self.project_id}" + (f"-{suffix}" if suffix else "")
        head = f"{NAME_PREFIX}-"
        room = rule.max_length - len(head) - len(tail)
        if room < 1:
            raise ValueError(f"{rule.what} name cannot fit {rule.max_length} characters: {tail!r}")
        name_part = self.project_name[:room].rstrip("-")
        return f"{head}{name_part}{tail}"

    def model_package_group(self, kind: str) -> str:
        return self.fit("model_package_group", kind)

    def endpoint(self, stage: str) -> str:
        return self.fit("endpoint", stage)

    def pipeline(self, kind: str) -> str:
        return self.fit("pipeline", kind)

    def repository(self, kind: str = "codecommit_repository") -> str:
        """The default repository name under the rule ``kind`` (Bitbucket slugs are lower case)."""
        name = self.fit(kind)
        return name.lower() if kind == "bitbucket_repository" else name

    def training_project(self) -> str:
        return self.fit("codebuild_project", "training")

    def training_role(self) -> str:
        return self.fit("iam_role", "training")

    def training_log_group(self) -> str:
        """The log group CodeBuild writes the training project's builds to (its default name)."""
        return f"/aws/codebuild/{self.training_project()}"

    # --- deployments -------------------------------------------------------------------

    def endpoint_config(self, stage: str, digest: str) -> str:
        """``<prefix>-<stage>-<digest>``: one config per distinct content of a stage's endpoint."""
        return self.fit("endpoint_config", f"{stage}-{digest}")

    def model(self, group_kind: str, package_version: int | str) -> str:
        """``<prefix>-<group kind>-<package version>``: one SageMaker model per model package."""
        return self.fit("model", f"{group_kind}-{package_version}")

    def rollback_alarm(self, stage: str, variant: str) -> str:
        """The 5xx alarm of one variant of a stage's endpoint, used to roll deployments back."""
        return self.fit("cloudwatch_alarm", f"{stage}-{variant}-5xx")

    def scaling_policy(self, stage: str, variant: str) -> str:
        return self.fit("scaling_policy", f"{stage}-{variant}-invocations")

    def tags(self) -> list[dict[str, str]]:
        """The project tags, as SageMaker, IAM and CloudWatch take them."""
        return [
            {"Key": PROJECT_NAME_TAG, "Value": self.project_name},
            {"Key": PROJECT_ID_TAG, "Value": self.project_id},
        ]

    def owns(self, name: str) -> bool:
        """True when ``name`` is ``sagemaker-<this project's name, maybe cut>-<id>-<suffix>``.

        Used before deleting by name: a resource whose name only looks like ours
        (another project's, or one made by hand) is never matched.
        """
        head = f"{NAME_PREFIX}-"
        marker = f"-{self.project_id}-"
        if not name.startswith(head):
            return False
        start = len(head)
        while (at := name.find(marker, start)) != -1:
            name_part = name[len(head) : at]
            if name_part and self.project_name.startswith(name_part):
                return True
            start = at + 1
        return False


def check_name(kind: str, name: str) -> None:
    """Raise ValueError if ``name`` breaks the rule of ``kind``, naming the rule."""
    rule = NAME_RULES[kind]
    if len(name) > rule.max_length:
        raise ValueError(f"{rule.what} name {name!r} is over {rule.max_length} characters")
    if not re.fullmatch(rule.pattern, name):
        raise ValueError(f"{rule.what} name {name!r} does not match {rule.pattern}")
