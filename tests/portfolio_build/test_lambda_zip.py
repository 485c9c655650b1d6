"""The Lambda zip carries dulwich and urllib3, pure Python only, and seeds a repository as is.

The zip is unpacked and used the way the Lambda runtime would: its own
packages first on ``sys.path``, no compiled dulwich extensions. It pushes a
seed commit to a git server on 127.0.0.1 and the real ``git`` checks the result.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

from portfolio_build.checks.limits import LAMBDA_ZIP_MAX_BYTES
from portfolio_build.render import package_lambda
from sandbox.git_server import GitHttpServer, basic_auth
from tests.support.git_checks import clone

PUSH_FROM_THE_ZIP = textwrap.dedent(
    """
    import io, sys, zipfile
    zip_dir, url = sys.argv[1], sys.argv[2]
    sys.path.insert(0, zip_dir)

    import dulwich, dulwich.objects, urllib3
    assert dulwich.__file__.startswith(zip_dir), dulwich.__file__
    assert urllib3.__file__.startswith(zip_dir), urllib3.__file__
    # No Rust extensions in the zip: dulwich runs its pure-Python code.
    assert dulwich.objects.parse_tree is dulwich.objects._parse_tree_py

    from lambda_project_lifecycle.http_pool import new_pool_manager
    from lambda_project_lifecycle.project import ProjectSpec
    from lambda_project_lifecycle.repositories import git_transport, seed
    assert seed.__file__.startswith(zip_dir), seed.__file__

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("run.sh")
        info.create_system, info.external_attr = 3, 0o100755 << 16
        z.writestr(info, "#!/bin/sh\\necho train\\n")
    properties = {"ProjectName": "churn", "ProjectId": "p-1"}
    spec = ProjectSpec.from_properties({**properties, "Scenario": "baseline", "Registry": "mlflow"})
    commit = seed.build_seed_commit(
        seed.read_seed_zip(archive.getvalue()), {"schema_version": 1}, spec, version="test"
    )
    endpoint = git_transport.GitEndpoint(url, "robot", "pw", new_pool_manager())
    assert git_transport.list_branches(endpoint) == {}
    git_transport.push(
        endpoint, {"prod": commit.commit_id, "dev": commit.commit_id}, commit.pack_data,
        expected_old={},
    )
    print(commit.commit_id.decode())
    """
)


def test_the_zip_is_small_and_holds_pure_python_dulwich_and_urllib3(tmp_path: Path) -> None:
    artifact = package_lambda(tmp_path)
    names = zipfile.ZipFile(artifact.path).namelist()

    assert artifact.path.stat().st_size < LAMBDA_ZIP_MAX_BYTES
    assert "dulwich/client.py" in names and "urllib3/poolmanager.py" in names
    assert "lambda_project_lifecycle/training_trigger.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd", ".pyc"))]
    assert not [n for n in names if n.startswith(("dulwich/tests/", "dulwich/cloud/"))]
    assert len(names) < 200


def test_the_unpacked_zip_seeds_a_repository_without_compiled_extensions(tmp_path: Path) -> None:
    artifact = package_lambda(tmp_path / "dist")
    unpacked = tmp_path / "task"
    zipfile.ZipFile(artifact.path).extractall(unpacked)
    (tmp_path / "git").mkdir()
    server = GitHttpServer(tmp_path / "git", basic_auth("robot", "pw")).start()
    try:
        server.add_repository("/ml/churn.git")
        result = subprocess.run(
            [sys.executable, "-c", PUSH_FROM_THE_ZIP, str(unpacked), server.url("/ml/churn.git")],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        repo = clone(server.url("/ml/churn.git", "robot", "pw"), tmp_path)
    finally:
        server.stop()
    assert repo.fsck.returncode == 0, repo.fsck.stderr
    assert repo.branches == {"prod": result.stdout.strip(), "dev": result.stdout.strip()}
    assert repo.modes == {"run.sh": "100755", "project.json": "100644"}
