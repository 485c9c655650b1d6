"""The model_role_isolation setting: shared by default, per-project from any layer, and a
value outside the two refused naming where it came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from portfolio_build.config import load_config
from portfolio_build.errors import ConfigError


def test_models_share_the_platforms_role_by_default(tmp_path: Path) -> None:
    settings = load_config(environ={}, cwd=tmp_path).settings
    assert settings.model_role_isolation == "shared"
    assert not settings.per_project_model_roles


def test_the_file_or_the_environment_turns_on_a_model_role_per_project(tmp_path: Path) -> None:
    (tmp_path / "portfolio.toml").write_text('model_role_isolation = "per-project"\n')
    from_file = load_config(environ={}, cwd=tmp_path)
    from_env = load_config(environ={"MLOPS_PORTFOLIO_MODEL_ROLE_ISOLATION": "shared"}, cwd=tmp_path)

    assert from_file.settings.per_project_model_roles
    assert from_env.settings.model_role_isolation == "shared"
    assert from_env.sources["model_role_isolation"] == "environment"


@pytest.mark.parametrize(
    ("file_text", "environ", "message"),
    [
        (
            'model_role_isolation = "per-user"\n',
            {},
            "portfolio.toml: model_role_isolation: 'per-user' is not one of",
        ),
        (
            "",
            {"MLOPS_PORTFOLIO_MODEL_ROLE_ISOLATION": "PER-PROJECT"},
            "environment: MLOPS_PORTFOLIO_MODEL_ROLE_ISOLATION: 'PER-PROJECT' is not one of",
        ),
    ],
)
def test_another_value_is_refused_naming_its_source(
    tmp_path: Path, file_text: str, environ: dict[str, str], message: str
) -> None:
    (tmp_path / "portfolio.toml").write_text(file_text)
    with pytest.raises(ConfigError, match=message):
        load_config(environ=environ, cwd=tmp_path)
