"""Product code never knows it runs on the emulator, and the packages form layers.

* No product package imports the sandbox, the tests or moto.
* No import cycle between the top-level packages: ``portfolio`` and ``products``
  both build on ``template_common`` and never on each other.
* Template generators read, of the Lambda package, only the modules that hold the
  names they share with the handlers (environment variables, names and tags, custom
  resource properties, scenarios, event types), never a handler module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = (
    "lambda_project_lifecycle",
    "portfolio",
    "products",
    "template_common",
    "portfolio_build",
)
FORBIDDEN = ("sandbox", "tests", "moto")
# The CLI's `sandbox` command and `taskcat --emulator` are the doors from the build to the
# emulator support code.
ALLOWED = {("portfolio_build/cli.py", "sandbox"), ("portfolio_build/taskcat_run.py", "sandbox")}
OUR_PACKAGES = (*PRODUCT_PACKAGES, "sandbox")
GENERATOR_PACKAGES = ("portfolio", "products", "template_common")
# The Lambda package's modules of shared names; each imports nothing of the handlers.
SHARED_LAMBDA_MODULES = frozenset(
    {
        "lambda_project_lifecycle",  # __version__
        "lambda_project_lifecycle.environment",
        "lambda_project_lifecycle.naming",
        "lambda_project_lifecycle.resource_properties",
        "lambda_project_lifecycle.scenarios",
        "lambda_project_lifecycle.stage_accounts",
        "lambda_project_lifecycle.triggers",
    }
)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports; ``from package import module`` names the module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if _is_module(f"{node.module}.{alias.name}")
            )
    return names


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def package_imports(packages: Iterable[str]) -> dict[str, set[str]]:
    """Top-level package -> the other top-level packages of ours it imports (the CLI's one
    door to the sandbox aside: the sandbox builds on the build, never the other way)."""
    graph: dict[str, set[str]] = {package: set() for package in packages}
    for package in graph:
        for path in python_files(package):
            relative = path.relative_to(ROOT).as_posix()
            for module in imported_modules(path):
                top = module.split(".")[0]
                if top in graph and top != package and (relative, top) not in ALLOWED:
                    graph[package].add(top)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle of ``graph``, each from its smallest node (found by depth-first search)."""
    found: set[tuple[str, ...]] = set()

    def visit(node: str, path: list[str]) -> None:
        for target in sorted(graph[node]):
            if target in path:
                cycle = path[path.index(target) :]
                start = cycle.index(min(cycle))
                found.add(tuple(cycle[start:] + cycle[:start]))
            else:
                visit(target, [*path, target])

    for node in sorted(graph):
        visit(node, [node])
    return [[*cycle, cycle[0]] for cycle in sorted(found)]


@pytest.mark.parametrize("package", PRODUCT_PACKAGES)
def test_product_code_imports_no_emulator_support_and_no_tests(package: str) -> None:
    offenders = []
    for path in python_files(package):
        relative = path.relative_to(ROOT).as_posix()
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN and (relative, top) not in ALLOWED:
                offenders.append(f"{relative} imports {module}")
    assert offenders == []


def test_no_import_cycle_between_the_top_level_packages() -> None:
    assert cycles(package_imports(OUR_PACKAGES)) == []


def test_the_cycle_finder_finds_a_cycle_through_three_packages() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_the_generators_build_on_template_common_and_never_on_each_other() -> None:
    graph = package_imports(OUR_PACKAGES)
    assert "products" not in graph["portfolio"]
    assert "portfolio" not in graph["products"]
    assert graph["template_common"] <= {"lambda_project_lifecycle"}


@pytest.mark.parametrize("package", GENERATOR_PACKAGES)
def test_template_generators_read_no_handler_module(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT).as_posix()} imports {module}"
        for path in python_files(package)
        for module in imported_modules(path)
        if module.split(".")[0] == "lambda_project_lifecycle"
        and module not in SHARED_LAMBDA_MODULES
    ]
    assert offenders == []


def test_the_shared_lambda_modules_import_no_handler_module() -> None:
    """What the generators read stays cheap: the shared modules import only each other
    (and the package's exception tree, for the naming rules' errors)."""
    allowed = SHARED_LAMBDA_MODULES | {"lambda_project_lifecycle.errors"}
    offenders = [
        f"{module} imports {imported}"
        for module in sorted(SHARED_LAMBDA_MODULES - {"lambda_project_lifecycle"})
        for imported in imported_modules(ROOT.joinpath(*module.split(".")).with_suffix(".py"))
        if imported.split(".")[0] == "lambda_project_lifecycle" and imported not in allowed
    ]
    assert offenders == []


def test_seed_code_imports_nothing_of_this_repository() -> None:
    offenders = [
        f"{path.relative_to(ROOT).as_posix()} imports {module}"
        for path in sorted((ROOT / "seed_code").rglob("*.py"))
        if "tests" not in path.relative_to(ROOT / "seed_code").parts
        for module in imported_modules(path)
        if module.split(".")[0] in OUR_PACKAGES
    ]
    assert offenders == []
