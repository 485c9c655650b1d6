"""The conditions of a product template: which repository the project has, so which
training resources and statements it gets."""

from __future__ import annotations

from troposphere import And, Equals, Not, Ref, Template

from lambda_project_lifecycle.resource_properties import CONNECTION, PROVIDER, SECRET

HAS_TRAINING = "HasTrainingProject"
IS_CODECOMMIT = "IsCodeCommitRepository"
IS_HOSTED = "IsHostedRepository"
USES_CONNECTION = "UsesConnection"
USES_TOKEN = "UsesTokenSecret"


def add_conditions(template: Template, parameters: dict[str, Ref]) -> None:
    provider, connection = parameters[PROVIDER], parameters[CONNECTION]
    template.add_condition(HAS_TRAINING, Not(Equals(provider, "git")))
    template.add_condition(IS_CODECOMMIT, Equals(provider, "codecommit"))
    template.add_condition(
        IS_HOSTED, And(Not(Equals(provider, "git")), Not(Equals(provider, "codecommit")))
    )
    template.add_condition(USES_CONNECTION, Not(Equals(connection, "")))
    template.add_condition(
        USES_TOKEN,
        And(Not(Equals(provider, "git")), Not(Equals(parameters[SECRET], ""))),
    )
