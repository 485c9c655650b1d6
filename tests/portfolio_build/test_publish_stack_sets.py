"""``publish`` with stages in organizational units: the target-account stack as a
service-managed StackSet with automatic deployment, instances for the units in the publish
regions; the organization checked before anything changes (on the emulator: an organization
made in the platform account, with accounts under units)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambda_project_lifecycle.stage_accounts import StageAccountIds
from portfolio_build.errors import PublishError
from portfolio_build.publish import publish
from portfolio_build.region_publish import PublishOptions
from sandbox.emulator import Emulator
from template_common.settings import TemplateSettings
from tests.support.publishing import Lines, config_for, make_release, sessions, snapshot

REGION = "us-east-1"
STACK_SET = "mlops-portfolio-target"


def organization(aws: Emulator) -> dict[str, Any]:
    """An organization of the platform account with units dev and prod, an account in each,
    and one account outside any unit but the root: their ids."""
    client = aws.client("organizations", REGION)
    client.create_organization(FeatureSet="ALL")
    root = client.list_roots()["Roots"][0]["Id"]
    found: dict[str, Any] = {"root": root}
    for name in ("dev", "prod", "stray"):
        account = client.create_account(AccountName=name, Email=f"{name}@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        found[name] = account
        if name != "stray":
            unit = client.create_organizational_unit(ParentId=root, Name=name)
            found[f"ou-{name}"] = unit["OrganizationalUnit"]["Id"]
            client.move_account(
                AccountId=account, SourceParentId=root, DestinationParentId=found[f"ou-{name}"]
            )
    return found


def unit_config(release_dist: Path, org: dict[str, Any], **overrides: Any) -> Any:
    return config_for(
        release_dist,
        regions=[REGION],
        stage_accounts={"dev": org["dev"], "prod": org["prod"]},
        stage_organizational_units={"dev": org["ou-dev"], "prod": org["ou-prod"]},
        **overrides,
    )


def publish_quietly(config: Any, release: Any, lines: Lines | None = None) -> int:
    return publish(
        config,
        release,
        PublishOptions(method="s3"),
        sessions,
        output=(lines or Lines([])).output(),
    )


def test_publish_makes_a_service_managed_stack_set_for_the_units(
    aws: Emulator, tmp_path: Path
) -> None:
    org = organization(aws)
    accounts = StageAccountIds(development=org["dev"], production=org["prod"])
    release = make_release(tmp_path / "dist", TemplateSettings(stage_accounts=accounts))
    config = unit_config(release.dist, org)
    lines = Lines([])

    assert publish_quietly(config, release, lines) == 0

    cloudformation = aws.client("cloudformation", REGION)
    stack_set = cloudformation.describe_stack_set(StackSetName=STACK_SET)["StackSet"]
    assert stack_set["PermissionModel"] == "SERVICE_MANAGED"
    assert stack_set["AutoDeployment"] == {
        "Enabled": True,
        "RetainStacksOnAccountRemoval": False,
    }
    instances = cloudformation.list_stack_instances(StackSetName=STACK_SET)["Summaries"]
    assert sorted((i["Account"], i["Region"]) for i in instances) == sorted(
        [(org["dev"], REGION), (org["prod"], REGION)]
    )
    # The instances' roles are made in the units' accounts, trusting the platform's handlers.
    for name in ("dev", "prod"):
        iam = aws.client("iam", account_id=org[name])
        role = iam.get_role(RoleName="mlops-portfolio-deployment")["Role"]
        (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Condition"]["StringEquals"]["aws:PrincipalAccount"] == "123456789012"
    text = lines.text()
    assert f"StackSet {STACK_SET} in {REGION} (service-managed, automatic deployment): create" in (
        text
    )
    assert f"{org['ou-dev']} (stage dev, account {org['dev']})" in text
    assert f"StackSet {STACK_SET} is created" in text

    again = Lines([])
    assert publish_quietly(config, release, again) == 0
    assert f"StackSet {STACK_SET} is current" in again.of(REGION)
    operations = cloudformation.list_stack_set_operations(StackSetName=STACK_SET)["Summaries"]
    assert len(operations) == 1  # the instances' creation; the second publish started none


def test_a_changed_template_updates_the_stack_set(aws: Emulator, tmp_path: Path) -> None:
    org = organization(aws)
    accounts = StageAccountIds(development=org["dev"], production=org["prod"])
    release = make_release(tmp_path / "dist", TemplateSettings(stage_accounts=accounts))
    config = unit_config(release.dist, org)
    assert publish_quietly(config, release) == 0
    target = release.one("target-template").path
    target.write_text(target.read_text().replace("what the platform needs", "what it needs"))

    lines = Lines([])
    assert publish_quietly(config, release, lines) == 0

    body = aws.client("cloudformation", REGION).describe_stack_set(StackSetName=STACK_SET)[
        "StackSet"
    ]["TemplateBody"]
    assert "what it needs" in body
    assert f"StackSet {STACK_SET} is updated in its instances" in lines.of(REGION)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("outside", "stage_accounts.prod: account {stray} is not in the platform's organization"),
        ("wrong-unit", "stage_organizational_units.prod: account {stray} is not under {ou-prod}"),
        (
            "management",
            "stage_organizational_units.prod: account 123456789012 is the organization's "
            "management account",
        ),
        (
            "no-organization",
            "stage_organizational_units.dev: the platform account 123456789012 "
            "is in no organization",
        ),
    ],
)
def test_a_stage_account_outside_its_unit_or_organization_stops_publish_before_any_change(
    aws: Emulator, tmp_path: Path, case: str, message: str
) -> None:
    if case == "no-organization":
        org = {"dev": "111111111111", "prod": "333333333333", "stray": "444444444444"}
        org |= {"ou-dev": "ou-abcd-11111111", "ou-prod": "ou-abcd-33333333"}
    else:
        org = organization(aws)
    prod = {"outside": "555555555555", "management": "123456789012"}.get(case, org["stray"])
    if case == "outside":
        org["stray"] = prod
    accounts = StageAccountIds(development=org["dev"], production=prod)
    release = make_release(tmp_path / "dist", TemplateSettings(stage_accounts=accounts))
    config = config_for(
        release.dist,
        regions=[REGION],
        stage_accounts={"dev": org["dev"], "prod": prod},
        stage_organizational_units={"dev": org["ou-dev"], "prod": org["ou-prod"]},
    )
    before = snapshot(config, aws)

    with pytest.raises(PublishError) as raised:
        publish_quietly(config, release)

    assert message.format(**org) in str(raised.value)
    assert snapshot(config, aws) == before
    assert aws.client("cloudformation", REGION).list_stack_sets()["Summaries"] == []


def test_a_dry_run_plans_the_stack_set_and_changes_nothing(aws: Emulator, tmp_path: Path) -> None:
    org = organization(aws)
    accounts = StageAccountIds(development=org["dev"], production=org["prod"])
    release = make_release(tmp_path / "dist", TemplateSettings(stage_accounts=accounts))
    config = unit_config(release.dist, org)
    before = snapshot(config, aws)
    lines = Lines([])

    status = publish(
        config,
        release,
        PublishOptions(method="s3", dry_run=True),
        sessions,
        output=lines.output(),
    )

    assert status == 0
    assert f"StackSet {STACK_SET} in {REGION} (service-managed, automatic deployment): create" in (
        lines.text()
    )
    assert snapshot(config, aws) == before
    assert aws.client("cloudformation", REGION).list_stack_sets()["Summaries"] == []
