"""No silent loss: where the platform keeps an event nothing could handle, and who is told.

One queue for the whole platform (SSE-SQS, 14 days), filled two ways:

* a shared Lambda's asynchronous invocation that failed every try (or grew too old) is
  recorded by its on-failure destination: the record names the function and holds the
  event (``requestContext.functionArn``, ``requestPayload``);
* an event EventBridge could not deliver to a rule's target within the target's retry
  policy goes to the target's dead-letter queue: the event, with the rule and the target
  as message attributes (``RULE_ARN``, ``TARGET_ARN``).

Either way the message says where the event goes back to: ``python build.py redrive``
(``portfolio_build.redrive``) sends each one there again. An alarm on the queue's visible
messages notifies the platform topic. CloudWatch cannot publish to a topic encrypted with
the AWS managed key (its key policy does not let the alarm service use it), so the topic is
encrypted with a key of the platform's own, rotated yearly.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import kms as kms_actions
from awacs import sns as sns_actions
from awacs import sqs as sqs_actions
from awacs.aws import (
    Allow,
    ArnEquals,
    Condition,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import AccountId, GetAtt, Ref, Sub, Template, cloudwatch, events, kms, sns, sqs

from template_common.checkov_skips import QUEUE_SSE_SQS, skip_metadata

FAILED_EVENTS_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's longest
# EventBridge's own limits, stated: retried with back-off for up to a day.
RULE_TARGET_RETRY_ATTEMPTS = 185
RULE_TARGET_MAX_EVENT_AGE_SECONDS = 24 * 3600
ALARM_PERIOD_SECONDS = 300
REDRIVE_COMMAND = "python build.py redrive"


@dataclass(frozen=True)
class FailedEvents:
    queue: sqs.Queue
    topic: sns.Topic
    key: kms.Key


def add_notification_topic(template: Template) -> tuple[sns.Topic, kms.Key]:
    """The platform topic, encrypted with a key the alarm service may use to publish."""
    key = template.add_resource(
        kms.Key(
            "NotificationTopicKey",
            Description="mlops-portfolio: encrypts the notification topic (alarms publish too)",
            EnableKeyRotation=True,
            KeyPolicy=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="AccountPoliciesDecide",
                        Effect=Allow,
                        Principal=Principal(
                            "AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
                        ),
                        Action=[kms_actions.Action("*")],
                        Resource=["*"],
                    ),
                    Statement(
                        Sid="AlarmsPublishToTheTopic",
                        Effect=Allow,
                        Principal=Principal("Service", ["cloudwatch.amazonaws.com"]),
                        Action=[kms_actions.Decrypt, kms_actions.GenerateDataKey],
                        Resource=["*"],
                        Condition=Condition(StringEquals("aws:SourceAccount", AccountId)),
                    ),
                ],
            ),
        )
    )
    topic = template.add_resource(
        sns.Topic(
            "NotificationTopic",
            DisplayName="mlops-portfolio notifications",
            KmsMasterKeyId=Ref(key),
        )
    )
    return topic, key


def publish_statements(topic: sns.Topic, key: kms.Key) -> list[Statement]:
    """Publish to the platform topic (SNS encrypts each message with its key)."""
    return [
        Statement(
            Sid="Notifications", Effect=Allow, Action=[sns_actions.Publish], Resource=[Ref(topic)]
        ),
        Statement(
            Sid="NotificationsEncrypted",
            Effect=Allow,
            Action=[kms_actions.GenerateDataKey, kms_actions.Decrypt],
            Resource=[GetAtt(key, "Arn")],
        ),
    ]


def add_failed_events(template: Template, topic: sns.Topic, key: kms.Key) -> FailedEvents:
    queue = template.add_resource(
        sqs.Queue(
            "FailedEventsQueue",
            SqsManagedSseEnabled=True,
            MessageRetentionPeriod=FAILED_EVENTS_RETENTION_SECONDS,
            Metadata=skip_metadata(QUEUE_SSE_SQS),
        )
    )
    template.add_resource(
        cloudwatch.Alarm(
            "FailedEventsAlarm",
            AlarmDescription="Events the platform could not handle are kept in the "
            f"FailedEventsQueue; fix the cause, then run `{REDRIVE_COMMAND}`.",
            Namespace="AWS/SQS",
            MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[
                cloudwatch.MetricDimension(Name="QueueName", Value=GetAtt(queue, "QueueName"))
            ],
            Statistic="Maximum",
            Period=ALARM_PERIOD_SECONDS,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
            AlarmActions=[Ref(topic)],
            OKActions=[Ref(topic)],
        )
    )
    return FailedEvents(queue, topic, key)


def target_delivery(failed: FailedEvents) -> dict[str, object]:
    """The retry policy and dead-letter queue of every rule target of the platform."""
    return {
        "RetryPolicy": events.RetryPolicy(
            MaximumRetryAttempts=RULE_TARGET_RETRY_ATTEMPTS,
            MaximumEventAgeInSeconds=RULE_TARGET_MAX_EVENT_AGE_SECONDS,
        ),
        "DeadLetterConfig": events.DeadLetterConfig(Arn=GetAtt(failed.queue, "Arn")),
    }


def allow_rules_to_dead_letter(
    template: Template, failed: FailedEvents, rules: list[events.Rule]
) -> None:
    """EventBridge sends undeliverable events of ``rules`` (only) to the queue."""
    template.add_resource(
        sqs.QueuePolicy(
            "FailedEventsQueuePolicy",
            Queues=[Ref(failed.queue)],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="RuleTargetsDeadLetters",
                        Effect=Allow,
                        Principal=Principal("Service", ["events.amazonaws.com"]),
                        Action=[sqs_actions.SendMessage],
                        Resource=[GetAtt(failed.queue, "Arn")],
                        Condition=Condition(
                            ArnEquals("aws:SourceArn", [GetAtt(rule, "Arn") for rule in rules])
                        ),
                    )
                ],
            ),
        )
    )
