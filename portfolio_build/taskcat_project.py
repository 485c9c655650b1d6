"""The taskcat project: ``.taskcat.yml`` (checked in at the repository root) and the project
directory ``python build.py taskcat`` prepares from the build for taskcat to read.

``.taskcat.yml`` is generated from the build's manifest (:func:`config_text`), and a test
keeps the checked-in file equal to it: one test per run, in each default region, of the
region test template (:mod:`portfolio_build.taskcat_template`), with every parameter from
taskcat's pseudo-parameters: the region's bucket taskcat makes and uploads the project to,
its key prefix, and per product a project name and id within Studio's limits.

The project directory (``dist/taskcat/``) holds what taskcat uploads: that file, the region
test template and every artifact of the build under its manifest key, so that the object
keys the template names are the build's own.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from portfolio_build import taskcat_template
from portfolio_build.config import DEFAULT_REGIONS
from portfolio_build.release import Release
from portfolio_build.render import REPO_ROOT

PROJECT_NAME = "mlops-portfolio"
TEST_NAME = "platform-and-projects"
CONFIG_NAME = ".taskcat.yml"
CHECKED_IN_CONFIG = REPO_ROOT / CONFIG_NAME
REGION_TEST_TEMPLATE = "templates/region-test.json"
PROJECT_DIRECTORY = "taskcat"  # under dist/
# What the region test launches from the upload (taskcat's bucket plays the bootstrap's).
UPLOADED_KINDS = ("platform-template", "product-template", "lambda", "seed-code")
# Studio's shapes: a name of letters, digits and hyphens (<= 32), an id like p-abcdef123456.
PROJECT_NAME_VALUE = "tcat-$[taskcat_random-string]"  # 25 characters
PROJECT_ID_VALUE = "p-$[taskcat_genpass_12A]"  # 14 characters
CONFIG_HEADER = """\
# taskcat's cross-region test of the platform and every product; generated from the build's
# manifest by portfolio_build/taskcat_project.py (a test keeps this file equal to it).
# Run it with `python build.py taskcat [--regions ...] [--emulator]`: it prepares the project
# directory taskcat reads (dist/taskcat/: this file, templates/region-test.json and the
# build's artifacts under their manifest keys) and runs `taskcat test run` there.
"""


def tested_build(release: Release) -> taskcat_template.BuildUnderTest:
    """The artifacts of ``release`` the region test launches."""
    return taskcat_template.BuildUnderTest(
        platform_key=release.one("platform-template").key,
        platform_parameters=dict(sorted(release.platform_parameters.items())),
        products=tuple(
            taskcat_template.ProductUnderTest(a.name, str(a.meta["registry"]), a.key)
            for a in sorted(release.of_kind("product-template"), key=lambda a: a.name)
        ),
    )


def config(product_names: list[str], regions: tuple[str, ...] = DEFAULT_REGIONS) -> dict[str, Any]:
    """``.taskcat.yml`` as data: the one test, its regions and its parameters."""
    parameters: dict[str, str] = {
        "ArtifactsBucket": "$[taskcat_autobucket]",
        "ArtifactsPrefix": "$[taskcat_project_name]/",
    }
    for name in sorted(product_names):
        stem = taskcat_template.ProductUnderTest(name, "", "").logical_id
        parameters[f"{stem}ProjectName"] = PROJECT_NAME_VALUE
        parameters[f"{stem}ProjectId"] = PROJECT_ID_VALUE
    return {
        "project": {
            "name": PROJECT_NAME,
            "regions": list(regions),
            # The Lambda code must be in the region of the function: a bucket per region.
            "s3_regional_buckets": True,
            "package_lambda": False,
        },
        "tests": {
            TEST_NAME: {
                "template": REGION_TEST_TEMPLATE,
                "parameters": parameters,
            }
        },
    }


def config_text(release: Release, regions: tuple[str, ...] = DEFAULT_REGIONS) -> str:
    body = config([a.name for a in release.of_kind("product-template")], regions)
    return CONFIG_HEADER + yaml.safe_dump(body, sort_keys=False, default_flow_style=False)


def prepare(release: Release, directory: Path, regions: tuple[str, ...]) -> Path:
    """Make ``directory`` the taskcat project of ``release`` for ``regions``; its path."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    (directory / CONFIG_NAME).write_text(config_text(release, regions))
    template = taskcat_template.build(tested_build(release))
    region_test = directory / REGION_TEST_TEMPLATE
    region_test.parent.mkdir(parents=True)
    region_test.write_text(json.dumps(template.to_dict(), indent=2, sort_keys=True) + "\n")
    for artifact in release.artifacts:
        if artifact.kind not in UPLOADED_KINDS:
            continue
        target = directory / artifact.key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artifact.path, target)
    return directory
