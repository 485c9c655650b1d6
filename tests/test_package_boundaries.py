"""Product code never knows it runs on the emulator: it imports neither the sandbox nor tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("lambda_project_lifecycle", "portfolio", "products", "portfolio_build")
FORBIDDEN = ("sandbox", "tests", "moto")
# The CLI's `sandbox` command is the one door from the build to the emulator support code.
ALLOWED = {("portfolio_build/cli.py", "sandbox")}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PRODUCT_PACKAGES)
def test_product_code_imports_no_emulator_support_and_no_tests(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN and (relative, top) not in ALLOWED:
                offenders.append(f"{relative} imports {module}")
    assert offenders == []


def test_seed_code_imports_nothing_of_this_repository() -> None:
    ours = {
        "sandbox",
        "tests",
        "lambda_project_lifecycle",
        "portfolio",
        "products",
        "portfolio_build",
    }
    offenders = [
        f"{path.relative_to(ROOT).as_posix()} imports {module}"
        for path in sorted((ROOT / "seed_code").rglob("*.py"))
        if "tests" not in path.relative_to(ROOT / "seed_code").parts
        for module in imported_modules(path)
        if module.split(".")[0] in ours
    ]
    assert offenders == []
