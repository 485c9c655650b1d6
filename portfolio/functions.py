"""The shared Lambdas: one code zip, one function per handler, each with its own role.

A function gets its own log group (with retention) and a role holding only the
statements its handler needs plus writing its own logs. Events reach it through
:func:`add_event_rule`: one rule per event kind for all projects, never one per
project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from awacs import logs as logs_actions
from awacs import sqs as sqs_actions
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import GetAtt, Ref, Template, events, iam, logs
from troposphere import awslambda as lambda_

from portfolio.failed_events import FailedEvents, target_delivery
from template_common.checkov_skips import (
    FAILED_EVENTS_TO_ON_FAILURE_DESTINATION,
    LAMBDA_OUTSIDE_VPC,
    LAMBDA_UNRESERVED_CONCURRENCY,
    LAMBDA_VARIABLES_ARE_NAMES,
    LOGS_DEFAULT_ENCRYPTION,
    CheckovSkip,
    skip_metadata,
)
from template_common.trust import trust_policy

LAMBDA_RUNTIME = "python3.13"
LAMBDA_ARCHITECTURE = "arm64"
LOG_RETENTION_DAYS = 90


@dataclass(frozen=True)
class SharedFunction:
    logical_id: str
    handler: str
    description: str
    statements: list[Statement]
    environment: dict[str, Any] = field(default_factory=dict)
    timeout_seconds: int = 60
    memory_mb: int = 256
    # Asynchronous invocations (CloudFormation custom resources, EventBridge rules): how
    # often Lambda retries a failed one, and how old a queued event may get before it is
    # dropped. None: Lambda's defaults (2 retries, 6 hours).
    async_retries: int | None = None
    async_max_event_age_seconds: int | None = None
    # A fixed name, for a function whose ARN others keep (None: CloudFormation names it).
    function_name: str | None = None
    # Where an asynchronous event that failed every try is recorded: the platform's queue
    # (the function's on-failure destination), or why the function needs none.
    failed_events: FailedEvents | CheckovSkip | None = None
    # checkov checks that do not fit the role's statements, with the reason.
    role_skips: tuple[CheckovSkip, ...] = ()


def add_function(template: Template, spec: SharedFunction, code: lambda_.Code) -> lambda_.Function:
    log_group = template.add_resource(
        logs.LogGroup(
            f"{spec.logical_id}Logs",
            RetentionInDays=LOG_RETENTION_DAYS,
            Metadata=skip_metadata(LOGS_DEFAULT_ENCRYPTION),
        )
    )
    own_logs = Statement(
        Sid="OwnLogs",
        Effect=Allow,
        Action=[logs_actions.CreateLogStream, logs_actions.PutLogEvents],
        Resource=[GetAtt(log_group, "Arn")],
    )
    statements = [own_logs, *spec.statements]
    function_skips = [LAMBDA_OUTSIDE_VPC, LAMBDA_UNRESERVED_CONCURRENCY, LAMBDA_VARIABLES_ARE_NAMES]
    named: dict[str, Any] = {"FunctionName": spec.function_name} if spec.function_name else {}
    options: dict[str, Any] = {}
    if isinstance(spec.failed_events, FailedEvents):
        queue_arn = GetAtt(spec.failed_events.queue, "Arn")
        # The on-failure record names the function and keeps the event, so the re-drive
        # knows where it goes back to; a dead-letter message holds only the event.
        options["DestinationConfig"] = lambda_.DestinationConfig(
            OnFailure=lambda_.OnFailure(Destination=queue_arn)
        )
        function_skips.append(FAILED_EVENTS_TO_ON_FAILURE_DESTINATION)
        statements.append(
            Statement(
                Sid="FailedEventsToTheQueue",
                Effect=Allow,
                Action=[sqs_actions.SendMessage],
                Resource=[queue_arn],
            )
        )
    elif spec.failed_events is not None:
        function_skips.append(spec.failed_events)
    role = template.add_resource(
        iam.Role(
            f"{spec.logical_id}Role",
            AssumeRolePolicyDocument=trust_policy("lambda.amazonaws.com"),
            Policies=[
                iam.Policy(
                    PolicyName=spec.logical_id,
                    PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=statements),
                )
            ],
            **({"Metadata": skip_metadata(*spec.role_skips)} if spec.role_skips else {}),
        )
    )
    function = template.add_resource(
        lambda_.Function(
            spec.logical_id,
            **named,
            Description=spec.description,
            Runtime=LAMBDA_RUNTIME,
            Architectures=[LAMBDA_ARCHITECTURE],
            Handler=spec.handler,
            Code=code,
            Role=GetAtt(role, "Arn"),
            Timeout=spec.timeout_seconds,
            MemorySize=spec.memory_mb,
            LoggingConfig=lambda_.LoggingConfig(LogGroup=Ref(log_group)),
            Environment=lambda_.Environment(Variables=spec.environment),
            Metadata=skip_metadata(*function_skips),
        )
    )
    if spec.async_retries is not None or spec.async_max_event_age_seconds is not None or options:
        if spec.async_retries is not None:
            options["MaximumRetryAttempts"] = spec.async_retries
        if spec.async_max_event_age_seconds is not None:
            options["MaximumEventAgeInSeconds"] = spec.async_max_event_age_seconds
        template.add_resource(
            lambda_.EventInvokeConfig(
                f"{spec.logical_id}AsyncInvocation",
                FunctionName=Ref(function),
                Qualifier="$LATEST",
                **options,
            )
        )
    return function


def add_event_rule(
    template: Template,
    logical_id: str,
    function: lambda_.Function,
    description: str,
    *,
    failed_events: FailedEvents,
    event_pattern: dict[str, Any] | None = None,
    schedule: str | None = None,
) -> events.Rule:
    """One rule on the default bus (or a schedule) that invokes ``function``, retrying a
    delivery that fails and keeping what it could not deliver in ``failed_events``."""
    options: dict[str, Any] = {}
    if event_pattern is not None:
        options["EventPattern"] = event_pattern
    if schedule is not None:
        options["ScheduleExpression"] = schedule
    rule = template.add_resource(
        events.Rule(
            logical_id,
            Description=description,
            State="ENABLED",
            Targets=[
                events.Target(
                    Id=function.title,
                    Arn=GetAtt(function, "Arn"),
                    **target_delivery(failed_events),
                )
            ],
            **options,
        )
    )
    template.add_resource(
        lambda_.Permission(
            f"{logical_id}Invoke",
            Action="lambda:InvokeFunction",
            FunctionName=Ref(function),
            Principal="events.amazonaws.com",
            SourceArn=GetAtt(rule, "Arn"),
        )
    )
    return rule
