"""What the platform stack adds when stages have accounts of their own.

Every grant names its principal: a role of a configured stage account, by its fixed
name (``lambda_project_lifecycle.stage_accounts``). The principal is the account, with an
``aws:PrincipalArn`` condition on that one role, so that the platform stack can be made
before the target-account stacks (a policy naming a role that does not exist yet is
refused by S3 and EventBridge).

* The project data bucket lets each account's model role read model archives only.
* The platform's default event bus accepts events from each account's forwarding role.
* The deployment handlers and the lifecycle Lambda may assume each account's deployment
  role, and learn the accounts from their ``STAGE_ACCOUNTS`` variable; the lifecycle
  Lambda gives each model group a resource policy for its stage's accounts (at create).
* The output ``DeploymentHandlerRoleArns`` is what the target-account stacks trust.

Nothing here exists without configured stage accounts: the default template is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from awacs import events as events_actions
from awacs import organizations, sts
from awacs import s3 as s3_actions
from awacs import sagemaker as sm_actions
from awacs.aws import Allow, ArnEquals, AWSPrincipal, Condition, PolicyDocument, Statement
from troposphere import GetAtt, Join, Output, Ref, Sub, Template, events, iam
from troposphere import awslambda as lambda_

from lambda_project_lifecycle.naming import NAME_PREFIX
from lambda_project_lifecycle.stage_accounts import STAGE_ACCOUNTS_ENV, StageAccountIds
from template_common.arns import regional_arn, sagemaker_arn


def account_root(account: str) -> Sub:
    return Sub(f"arn:${{AWS::Partition}}:iam::{account}:root")


def account_role(account: str, name: str) -> Sub:
    return Sub(f"arn:${{AWS::Partition}}:iam::{account}:role/{name}")


def stage_account_environment(accounts: StageAccountIds | None) -> dict[str, str]:
    """The handlers' variable naming the stage accounts (none without them)."""
    return {STAGE_ACCOUNTS_ENV: accounts.to_environment()} if accounts else {}


def data_bucket_grants(accounts: StageAccountIds | None, bucket_logical_id: str) -> list[Statement]:
    """Each stage account's model role reads model archives of project prefixes, nothing else."""
    if accounts is None:
        return []
    return [
        Statement(
            Sid=f"ModelArchivesFor{account}",
            Effect=Allow,
            Principal=AWSPrincipal([account_root(account)]),
            Action=[s3_actions.GetObject],
            Resource=[Join("", [GetAtt(bucket_logical_id, "Arn"), f"/{NAME_PREFIX}-*/*.tar.gz"])],
            Condition=Condition(
                ArnEquals("aws:PrincipalArn", account_role(account, accounts.model_role))
            ),
        )
        for account in accounts.accounts
    ]


def organization_read_statement() -> Statement:
    """The handlers compare the platform's organization with each stage account's:
    DescribeOrganization takes no resource but ``*``."""
    return Statement(
        Sid="OwnOrganizationRead",
        Effect=Allow,
        Action=[organizations.DescribeOrganization],
        Resource=["*"],
    )


def add_stage_account_access(
    template: Template,
    accounts: StageAccountIds,
    *,
    handlers: Sequence[lambda_.Function],
    lifecycle: lambda_.Function,
) -> None:
    deployment_roles = [account_role(a, accounts.deployment_role) for a in accounts.accounts]
    every_role = [Ref(f"{fn.title}Role") for fn in (*handlers, lifecycle)]
    template.add_resource(
        iam.PolicyType(
            "StageAccountDeploymentAccess",
            PolicyName="assume-stage-account-deployment-roles",
            Roles=every_role,
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="StageAccountDeploymentRoles",
                        Effect=Allow,
                        Action=[sts.AssumeRole],
                        Resource=deployment_roles,
                    ),
                    organization_read_statement(),
                ],
            ),
        )
    )
    template.add_resource(
        iam.PolicyType(
            "ModelGroupSharing",
            PolicyName="share-model-groups-with-stage-accounts",
            Roles=[Ref(f"{lifecycle.title}Role")],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Sid="ProjectModelGroupPolicies",
                        Effect=Allow,
                        Action=[
                            sm_actions.PutModelPackageGroupPolicy,
                            sm_actions.GetModelPackageGroupPolicy,
                            sm_actions.DeleteModelPackageGroupPolicy,
                        ],
                        Resource=[sagemaker_arn(f"model-package-group/{NAME_PREFIX}-*")],
                    )
                ],
            ),
        )
    )
    for account in accounts.accounts:
        template.add_resource(
            events.EventBusPolicy(
                f"EventsFrom{account}",
                EventBusName="default",
                StatementId=f"endpoint-events-from-{account}",
                # EventBridge takes one statement (a mapping) per policy resource.
                Statement=Statement(
                    Sid=f"endpoint-events-from-{account}",
                    Effect=Allow,
                    Principal=AWSPrincipal([account_root(account)]),
                    Action=[events_actions.PutEvents],
                    Resource=[regional_arn("events", "event-bus/default")],
                    Condition=Condition(
                        ArnEquals(
                            "aws:PrincipalArn",
                            account_role(account, accounts.event_forwarding_role),
                        )
                    ),
                ).JSONrepr(),
            )
        )
    template.add_output(
        Output(
            "DeploymentHandlerRoleArns",
            Description="The roles the target-account stacks' deployment roles trust "
            "(their parameter PlatformHandlerRoleArns).",
            Value=Join(",", [GetAtt(f"{fn.title}Role", "Arn") for fn in (*handlers, lifecycle)]),
        )
    )
