"""Stage accounts in the configuration: absent -> one account; bad values name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_project_lifecycle.stage_accounts import StageAccountIds
from portfolio_build.config import load_config
from portfolio_build.errors import ConfigError

DEV, STAGING, PROD = "111111111111", "222222222222", "333333333333"


def test_without_stage_accounts_every_stage_stays_in_the_platform_account(
    tmp_path: Path,
) -> None:
    config = load_config(environ={}, cwd=tmp_path)
    assert config.settings.stage_accounts is None
    assert config.publish.target_profiles == {}


def test_stage_accounts_and_their_profiles_come_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "portfolio.toml").write_text(
        f'ssm_prefix = "/ml"\n'
        f'[stage_accounts]\ndev = "{DEV}"\nstaging = "{STAGING}"\nprod = "{PROD}"\n'
        f'[target_profiles]\n"{DEV}" = "ml-dev"\n"{PROD}" = "ml-prod"\n'
    )
    config = load_config(environ={}, cwd=tmp_path)
    assert config.settings.stage_accounts == StageAccountIds(
        development=DEV, production=PROD, staging=STAGING, name_base="ml"
    )
    assert config.settings.stage_accounts.deployment_role == "ml-deployment"
    assert config.publish.target_profiles == {DEV: "ml-dev", PROD: "ml-prod"}


def test_stage_accounts_from_the_environment(tmp_path: Path) -> None:
    config = load_config(
        environ={"MLOPS_PORTFOLIO_STAGE_ACCOUNTS": f"dev={DEV},prod={PROD}"}, cwd=tmp_path
    )
    assert config.settings.stage_accounts is not None
    assert config.settings.stage_accounts.by_stage() == {"development": DEV, "production": PROD}
    assert not config.settings.stage_accounts.gated


@pytest.mark.parametrize(
    ("file_text", "message"),
    [
        (
            f'[stage_accounts]\ndev = "{DEV}"\nprod = "12345"\n',
            "portfolio.toml: stage_accounts.prod: '12345' does not match",
        ),
        (
            f'[stage_accounts]\ndev = "{DEV}"\n',
            "portfolio.toml: stage_accounts: 'prod' is a required property",
        ),
        (
            f'[stage_accounts]\ndev = "{DEV}"\nprod = "{PROD}"\nqa = "{STAGING}"\n',
            "portfolio.toml: stage_accounts: Additional properties are not allowed ('qa'",
        ),
        (
            f'[stage_accounts]\ndev = "{DEV}"\nprod = "{PROD}"\n'
            f'[target_profiles]\n"{STAGING}" = "elsewhere"\n',
            f"portfolio.toml: target_profiles.{STAGING}: account {STAGING} is no stage's account",
        ),
        (
            f'[target_profiles]\n"{DEV}" = "ml-dev"\n',
            f"target_profiles.{DEV}: account {DEV} is no stage's account "
            "(stage_accounts: none: stage_accounts is not set)",
        ),
        (
            f'[stage_accounts]\ndev = "{DEV}"\nprod = "{PROD}"\n'
            '[stage_organizational_units]\ndev = "ou-12"\n',
            "portfolio.toml: stage_organizational_units.dev: 'ou-12' does not match",
        ),
        (
            f'[stage_accounts]\ndev = "{DEV}"\nprod = "{PROD}"\n'
            '[stage_organizational_units]\nstaging = "ou-abcd-12345678"\n',
            "portfolio.toml: stage_organizational_units.staging: stage staging has no account",
        ),
        (
            f'[stage_accounts]\ndev = "{DEV}"\nprod = "{PROD}"\n'
            '[stage_organizational_units]\nprod = "ou-abcd-12345678"\n'
            f'[target_profiles]\n"{PROD}" = "ml-prod"\n',
            f"portfolio.toml: stage_organizational_units.prod: account {PROD} also has a profile",
        ),
        (
            f'promotion = "second-approval"\n[stage_accounts]\ndev = "{DEV}"\nprod = "{PROD}"\n',
            "portfolio.toml: promotion: second-approval needs a staging account",
        ),
        (
            'promotion = "manual"\n',
            "portfolio.toml: promotion: 'manual' is not one of ['after-tests', 'second-approval']",
        ),
    ],
)
def test_a_bad_stage_account_names_the_field(tmp_path: Path, file_text: str, message: str) -> None:
    (tmp_path / "portfolio.toml").write_text(file_text)
    with pytest.raises(ConfigError) as raised:
        load_config(environ={}, cwd=tmp_path)
    assert message in str(raised.value)


def test_units_and_the_promotion_mode_come_from_the_file_and_the_environment(
    tmp_path: Path,
) -> None:
    (tmp_path / "portfolio.toml").write_text(
        f'promotion = "second-approval"\n'
        f'[stage_accounts]\ndev = "{DEV}"\nstaging = "{STAGING}"\nprod = "{PROD}"\n'
        '[stage_organizational_units]\ndev = "ou-abcd-11111111"\n'
    )
    config = load_config(
        environ={"MLOPS_PORTFOLIO_STAGE_ORGANIZATIONAL_UNITS": "prod=r-abcd,staging=r-abcd"},
        cwd=tmp_path,
    )
    # The environment's layer replaces the file's value of the key.
    assert config.publish.organizational_units == {"prod": "r-abcd", "staging": "r-abcd"}
    accounts = config.settings.stage_accounts
    assert accounts is not None and accounts.second_approval
    # The handlers read the mode from their STAGE_ACCOUNTS variable.
    assert StageAccountIds.from_environment(accounts.to_environment()) == accounts
