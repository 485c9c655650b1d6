"""Configuration layers: defaults -> file -> environment -> command line, each validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from portfolio_build.config import DEFAULT_REGIONS, cfnlint_regions, load_config
from portfolio_build.errors import ConfigError


def test_defaults_need_no_file(tmp_path: Path) -> None:
    config = load_config(environ={}, cwd=tmp_path)
    assert config.regions == DEFAULT_REGIONS
    assert config.dist == tmp_path / "dist"
    assert config.settings.ssm_prefix == "/mlops-portfolio"


def test_each_layer_overrides_the_one_before(tmp_path: Path) -> None:
    (tmp_path / "portfolio.toml").write_text(
        'regions = ["eu-central-1"]\nssm_prefix = "/from-file"\nprovider_name = "Platform"\n'
    )
    config = load_config(
        environ={
            "MLOPS_PORTFOLIO_SSM_PREFIX": "/from-env",
            "MLOPS_PORTFOLIO_REGIONS": "us-west-2, eu-west-1",
        },
        overrides={"regions": ["ap-south-1"], "dist": None},
        cwd=tmp_path,
    )
    assert config.regions == ("ap-south-1",)
    assert config.settings.ssm_prefix == "/from-env"
    assert config.settings.provider_name == "Platform"
    assert config.sources == {
        "regions": "command line",
        "ssm_prefix": "environment",
        "provider_name": str(tmp_path / "portfolio.toml"),
    }


@pytest.mark.parametrize(
    ("file_text", "environ", "message"),
    [
        ('colour = "blue"\n', {}, "portfolio.toml: unknown key 'colour'"),
        (
            'regions = "us-east-1"\n',
            {},
            "portfolio.toml: regions: 'us-east-1' is not of type 'array'",
        ),
        ('ssm_prefix = "no-slash"\n', {}, "portfolio.toml: ssm_prefix: 'no-slash' does not match"),
        ("regions = [\n", {}, "portfolio.toml: not valid TOML"),
        (
            "",
            {"MLOPS_PORTFOLIO_REGIONS": "Mars"},
            "environment: MLOPS_PORTFOLIO_REGIONS: 'Mars' does not match",
        ),
        (
            "",
            {"MLOPS_PORTFOLIO_PORTFOLIO_NAME": ""},
            "environment: MLOPS_PORTFOLIO_PORTFOLIO_NAME:",
        ),
    ],
)
def test_a_bad_value_names_its_source_and_key(
    tmp_path: Path, file_text: str, environ: dict[str, str], message: str
) -> None:
    (tmp_path / "portfolio.toml").write_text(file_text)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(environ=environ, cwd=tmp_path)


def test_a_bad_command_line_value_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="command line: --regions: "):
        load_config(environ={}, overrides={"regions": ["nowhere"]}, cwd=tmp_path)


def test_a_config_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file .*missing\.toml does not exist"):
        load_config(config_file=tmp_path / "missing.toml", environ={}, cwd=tmp_path)


def test_a_misspelled_environment_variable_stops_the_build(tmp_path: Path) -> None:
    # MLOPS_PORTFOLIO_REGION (no S) would otherwise lint the default regions and say OK.
    with pytest.raises(ConfigError, match="environment: unknown variable MLOPS_PORTFOLIO_REGION "):
        load_config(environ={"MLOPS_PORTFOLIO_REGION": "eu-central-1"}, cwd=tmp_path)


def test_the_default_regions_are_regions_cfn_lint_knows() -> None:
    # load_config asks cfn-lint only about other regions: these must stay among its own.
    assert set(DEFAULT_REGIONS) <= cfnlint_regions()


def test_a_region_cfn_lint_does_not_know_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="command line: regions: us-east-9 unknown to the"):
        load_config(environ={}, overrides={"regions": ["eu-west-1", "us-east-9"]}, cwd=tmp_path)


def test_an_ssm_prefix_too_long_for_the_lifecycle_function_name_is_refused(
    tmp_path: Path,
) -> None:
    prefix = "/" + "p" * 60
    with pytest.raises(ConfigError, match="over Lambda's 64-character limit; use a shorter prefix"):
        load_config(environ={"MLOPS_PORTFOLIO_SSM_PREFIX": prefix}, cwd=tmp_path)
    nested = load_config(environ={"MLOPS_PORTFOLIO_SSM_PREFIX": "/team.a/mlops"}, cwd=tmp_path)
    assert nested.settings.lifecycle_function_name == "team-a-mlops-project-lifecycle"
