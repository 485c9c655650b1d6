"""The taskcat project: ``.taskcat.yml`` never drifts from the build, the region test launches
the build's own artifacts, and the names taskcat generates are within Studio's limits."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lambda_project_lifecycle.naming import (
    PROJECT_ID_MAX_LENGTH,
    PROJECT_ID_PATTERN,
    PROJECT_NAME_MAX_LENGTH,
    PROJECT_NAME_PATTERN,
)
from portfolio_build import taskcat_project
from portfolio_build.config import DEFAULT_REGIONS
from portfolio_build.release import Release

PRODUCTS = ("advanced-mlflow", "advanced-sagemaker", "baseline-mlflow", "baseline-sagemaker")


def as_taskcat_fills(value: str, random_string: str, password: str) -> str:
    """A parameter value as taskcat renders it (the longest values it generates)."""
    value = value.replace("$[taskcat_random-string]", random_string)
    return re.sub(r"\$\[taskcat_genpass_(\d+)A\]", lambda m: password[: int(m.group(1))], value)


@pytest.fixture(scope="module")
def project(release: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("taskcat")
    return taskcat_project.prepare(release, directory, ("eu-west-1",))


def region_test(project: Path) -> dict[str, Any]:
    return dict(json.loads((project / taskcat_project.REGION_TEST_TEMPLATE).read_text()))


def test_the_checked_in_taskcat_yml_is_the_one_generated_from_the_build(
    release: Release,
) -> None:
    assert taskcat_project.CHECKED_IN_CONFIG.read_text() == taskcat_project.config_text(release), (
        "regenerate .taskcat.yml: "
        "portfolio_build.taskcat_project.CHECKED_IN_CONFIG.write_text(config_text(release))"
    )
    checked_in = yaml.safe_load(taskcat_project.CHECKED_IN_CONFIG.read_text())
    assert checked_in["project"]["regions"] == list(DEFAULT_REGIONS)


def test_the_prepared_project_runs_in_the_regions_asked(project: Path) -> None:
    config = yaml.safe_load((project / taskcat_project.CONFIG_NAME).read_text())
    assert config["project"]["regions"] == ["eu-west-1"]
    test = config["tests"][taskcat_project.TEST_NAME]
    assert (project / test["template"]).is_file()


@pytest.mark.parametrize("product", PRODUCTS)
def test_each_product_gets_a_project_name_and_id_within_studio_limits(
    project: Path, product: str
) -> None:
    config = yaml.safe_load((project / taskcat_project.CONFIG_NAME).read_text())
    parameters = config["tests"][taskcat_project.TEST_NAME]["parameters"]
    stem = "".join(part.capitalize() for part in product.split("-"))
    # taskcat's random string is 20 lower-case letters; genpass A mixes cases and digits.
    for random_string, password in (("z" * 20, "aB3" * 8), ("a" * 20, "zZ9" * 8)):
        name = as_taskcat_fills(parameters[f"{stem}ProjectName"], random_string, password)
        project_id = as_taskcat_fills(parameters[f"{stem}ProjectId"], random_string, password)
        assert len(name) <= PROJECT_NAME_MAX_LENGTH and re.fullmatch(PROJECT_NAME_PATTERN, name)
        assert len(project_id) <= PROJECT_ID_MAX_LENGTH
        assert re.fullmatch(PROJECT_ID_PATTERN, project_id)


def test_no_account_id_or_bucket_name_is_written_in(project: Path) -> None:
    config = yaml.safe_load((project / taskcat_project.CONFIG_NAME).read_text())
    parameters = config["tests"][taskcat_project.TEST_NAME]["parameters"]
    assert parameters["ArtifactsBucket"] == "$[taskcat_autobucket]"
    assert parameters["ArtifactsPrefix"] == "$[taskcat_project_name]/"
    assert not re.search(r"\d{12}", (project / taskcat_project.CONFIG_NAME).read_text())


def test_the_platform_is_launched_from_the_build_with_its_artifact_keys(
    project: Path, release: Release
) -> None:
    platform = region_test(project)["Resources"]["Platform"]
    url = platform["Properties"]["TemplateURL"]["Fn::Sub"]
    assert url.endswith("${ArtifactsPrefix}" + release.one("platform-template").key)
    parameters = platform["Properties"]["Parameters"]
    for name, key in release.platform_parameters.items():
        assert parameters[name] == {"Fn::Sub": "${ArtifactsPrefix}" + key}
        assert (project / key).read_bytes() == next(
            a.path.read_bytes() for a in release.artifacts if a.key == key
        )
    assert (project / release.one("platform-template").key).is_file()


@pytest.mark.parametrize("product", PRODUCTS)
def test_each_project_waits_for_the_platform_and_deletes_all_it_made(
    project: Path, release: Release, product: str
) -> None:
    template = region_test(project)
    stem = "".join(part.capitalize() for part in product.split("-"))
    stack = template["Resources"][stem]
    assert stack["Type"] == "AWS::CloudFormation::Stack"
    assert stack["DependsOn"] == ["Platform"]
    key = release.one("product-template", product).key
    assert stack["Properties"]["TemplateURL"]["Fn::Sub"].endswith(key)
    assert (project / key).is_file()
    assert stack["Properties"]["Parameters"]["OnDelete"] == "delete-all"
    outputs = template["Outputs"]
    assert outputs[f"{stem}RepositoryCloneUrl"]["Value"] == {
        "Fn::GetAtt": [stem, "Outputs.RepositoryCloneUrl"]
    }
    if product.endswith("-sagemaker"):
        assert outputs[f"{stem}ModelGroups"]["Value"] == {
            "Fn::GetAtt": [stem, "Outputs.ModelGroups"]
        }
    else:
        assert f"{stem}ModelGroups" not in outputs  # MLflow: no SageMaker model groups


def test_only_what_the_region_test_launches_is_uploaded(project: Path, release: Release) -> None:
    uploaded = {
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }
    expected = {a.key for a in release.artifacts if a.kind in taskcat_project.UPLOADED_KINDS} | {
        taskcat_project.REGION_TEST_TEMPLATE
    }
    assert uploaded == expected
    assert release.one("bootstrap-template").key not in uploaded
