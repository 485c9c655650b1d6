"""``python build.py sandbox``: the walk for one product, its report, and its options."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portfolio_build import cli
from sandbox.mlflow_walk import MlflowProjectWalk
from sandbox.project_walk import ProjectWalk, WalkCheckFailed
from sandbox.report import Report, StepFailed
from sandbox.walk import (
    PRODUCT_NAMES,
    SandboxOptionError,
    SandboxOptions,
    lane_order,
    parse_products,
    run_sandbox,
    side_by_side,
)
from tests.support.network import loopback_only
from tests.support.publishing import config_for, make_release


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sandbox for one MLflow product: its walk with aliases, webhooks and the reconcile."""
    dist = tmp_path_factory.mktemp("dist")
    report = tmp_path_factory.mktemp("report") / "sandbox.json"
    out = io.StringIO()
    with loopback_only():
        status = run_sandbox(
            config_for(dist, regions=["us-east-1"]),
            lambda: make_release(dist),
            SandboxOptions(products=("baseline-mlflow",), report=report, out=out),
        )
    return {"status": status, "out": out.getvalue(), "report": json.loads(report.read_text())}


def details(report: dict[str, Any]) -> dict[str, str]:
    return {s["step"]: s["detail"] for s in report["steps"]}


def test_the_sandbox_walks_an_mlflow_project_and_reports_every_step(
    walked: dict[str, Any],
) -> None:
    report = walked["report"]

    assert walked["status"] == 0, walked["out"]
    assert report["ok"] is True and report["failed_step"] is None
    assert [(s["project"], s["step"]) for s in report["steps"]] == [
        ("sandbox", "build"),
        ("sandbox", "start the embedded AWS"),
        ("sandbox", "publish (bootstrap, platform, products)"),
        ("baseline-mlflow", "create project (s3)"),
        ("sandbox", "register the MLflow webhook (MlflowWebhookUrl)"),
        ("baseline-mlflow", "clone the repository (git)"),
        ("baseline-mlflow", "push feature-sandbox-walk"),
        ("baseline-mlflow", "set alias approved on feature"),
        ("baseline-mlflow", "merge to dev, push"),
        ("baseline-mlflow", "set alias approved on dev"),
        ("baseline-mlflow", "merge to prod, push (promotion)"),
        ("baseline-mlflow", "set alias approved on prod"),
        ("baseline-mlflow", "remove alias approved from prod"),
        ("baseline-mlflow", "reaper (clock advanced)"),
        ("baseline-mlflow", "missed webhook, healed by the reconcile"),
        ("baseline-mlflow", "delete project (delete-all)"),
    ]
    assert all(s["ok"] and s["seconds"] > 0 for s in report["steps"])
    assert "mlops-portfolio-platform CREATE_COMPLETE" in report["steps"][2]["detail"]
    assert "MLflow at https://127.0.0.1:" in report["steps"][1]["detail"]


def test_aliases_set_through_the_webhook_deploy_roll_back_and_a_missed_one_is_healed(
    walked: dict[str, Any],
) -> None:
    steps = details(walked["report"])

    assert ".lambda-url.us-east-1.on.aws" in steps["register the MLflow webhook (MlflowWebhookUrl)"]
    assert "feature MLflow version v1" in steps["push feature-sandbox-walk"]
    assert "dev MLflow version copied to prod v1" in steps["merge to prod, push (promotion)"]
    for stage, step in (("development", "dev"), ("production", "prod")):
        assert (
            f"-{stage} InService, AllTraffic 100% v1; 3 integration test(s) passed"
            in steps[f"set alias approved on {step}"]
        )
    assert steps["remove alias approved from prod"].endswith("-production removed")
    assert steps["reaper (clock advanced)"].startswith("clock +25 h: sagemaker-churn-baseline-")
    assert steps["reaper (clock advanced)"].endswith("-development deleted")
    healed = steps["missed webhook, healed by the reconcile"]
    assert "nothing delivered; clock +10 min: the reconcile deployed it" in healed
    assert "-production InService, AllTraffic 100% v1; 3 integration test(s) passed" in healed
    assert healed.endswith("the reaped development endpoint stays deleted")


def test_the_report_shows_the_mlflow_versions_endpoints_and_an_empty_leftover_list(
    walked: dict[str, Any],
) -> None:
    (project,) = walked["report"]["projects"]

    assert project["product"] == "baseline-mlflow" and project["method"] == "s3"
    assert project["registry"] == "mlflow" and project["on_delete"] == "delete-all"
    versions = project["packages"]
    assert [v["status"] for v in versions["prod"]] == ["alias approved"]
    assert [v["status"] for v in versions["dev"]] == ["alias approved"]
    # feature and dev both keep the alias: they share the development endpoint
    assert [v["status"] for v in versions["feature"]] == ["alias approved"]
    assert versions["prod"][0]["commit"] == versions["dev"][0]["commit"]
    assert versions["prod"][0]["arn"].startswith("mlflow:sagemaker-churn-baseline-mlflow-p-")
    (production,) = [v for e, v in project["endpoints"].items() if e.endswith("-production")]
    assert [(v["name"], v["package"]) for v in production] == [
        ("AllTraffic", versions["prod"][0]["arn"])
    ]
    assert [t["after"] for t in project["tests"]] == [
        "set alias approved on feature",
        "set alias approved on dev",
        "set alias approved on prod",
        "the reconcile",
    ]
    assert project["left_after_delete"] and not any(project["left_after_delete"].values())


def test_the_output_has_a_line_per_step_then_the_projects_table(walked: dict[str, Any]) -> None:
    lines = walked["out"].splitlines()

    step_lines = [line for line in lines if line[:1] in ("✓", "✗")]
    assert len(step_lines) == 16 and all(line.startswith("✓") for line in step_lines)
    assert "churn-baseline-mlflow (baseline-mlflow)" in lines
    assert any(line.strip().startswith("MLflow versions in prod") for line in lines)
    assert any("left after delete" in line and line.endswith("nothing") for line in lines)
    assert "16 steps in" in walked["out"] and "all steps passed" in walked["out"]


def test_products_are_chosen_by_name_in_the_portfolios_order() -> None:
    assert parse_products(None) == PRODUCT_NAMES
    assert parse_products("advanced-mlflow, baseline-sagemaker") == (
        "baseline-sagemaker",
        "advanced-mlflow",
    )


@pytest.mark.parametrize("given", ["baseline-sagemaker,nonsense", ",", ""])
def test_an_unknown_product_is_refused_naming_the_option_and_the_choices(given: str) -> None:
    with pytest.raises(SandboxOptionError) as refused:
        parse_products(given)

    assert str(refused.value).startswith("--products: unknown product")
    assert "choose from baseline-sagemaker, baseline-mlflow" in str(refused.value)


def test_the_cli_answers_a_bad_products_option_with_one_line_and_starts_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status = cli.main(["sandbox", "--products", "nonsense", "--dist", str(tmp_path / "dist")])

    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.startswith("error: --products: unknown product nonsense") and "\n" not in err
    assert not (tmp_path / "dist").exists()


def test_walks_side_by_side_stop_at_the_first_failed_step_and_name_it() -> None:
    out = io.StringIO()
    report = Report(out=out)
    failed_once = threading.Event()
    ran: list[str] = []

    def failing() -> None:
        report.step("baseline-sagemaker", "push feature-x", lambda: "built")
        try:
            report.step("baseline-sagemaker", "approve", _raise("no package in feature"))
        finally:
            failed_once.set()

    def steady() -> None:
        for number in range(50):
            failed_once.wait(5)
            report.step("baseline-mlflow", f"step {number}", lambda n=number: ran.append(n))

    def never() -> None:
        ran.append(-1)

    with pytest.raises(StepFailed) as stopped:
        side_by_side([failing, steady, never], lanes=2)

    assert stopped.value.line.step == "approve"
    assert report.failed is not None and report.failed.step == "approve"
    assert ran == []  # the other lane started no step after the failure; the third no walk
    assert [line.ok for line in report.steps] == [True, False]
    assert "no package in feature" in out.getvalue()


def test_the_lanes_take_an_mlflow_walk_beside_a_sagemaker_one_then_the_rest() -> None:
    def walks(*kinds: str) -> list[ProjectWalk]:
        made = []
        for number, kind in enumerate(kinds):
            cls = MlflowProjectWalk if kind == "mlflow" else ProjectWalk
            walk = cls.__new__(cls)
            walk.repository = f"{kind}-{number}"
            made.append(walk)
        return made

    def order(*kinds: str) -> list[str]:
        return [w.repository for w in lane_order(walks(*kinds))]

    assert order("sagemaker", "mlflow", "sagemaker", "mlflow") == [
        "mlflow-1",
        "sagemaker-0",
        "mlflow-3",
        "sagemaker-2",
    ]
    assert order("sagemaker", "sagemaker", "mlflow") == ["mlflow-2", "sagemaker-0", "sagemaker-1"]
    assert order("mlflow") == ["mlflow-0"]


def _raise(message: str) -> Callable[[], str]:
    def action() -> str:
        raise RuntimeError(message)

    return action


def test_a_build_that_succeeded_without_registering_a_model_fails_its_step_with_its_log() -> None:
    class Builds:
        def log(self, build_id: str) -> list[str]:
            assert build_id == "churn-training:1"
            return [f"line {n}" for n in range(30)] + ["registered nothing: no MLflow server"]

    class Aws:
        builds = Builds()

    walk = ProjectWalk.__new__(ProjectWalk)
    walk.aws = Aws()  # type: ignore[assignment]
    walk._build_of = lambda commit: {"id": "churn-training:1", "buildStatus": "SUCCEEDED"}  # type: ignore[method-assign]
    walk.newest_model = lambda kind: None  # type: ignore[method-assign]

    with pytest.raises(WalkCheckFailed) as failed:
        walk._trained("feature", "77cb9945" * 5, "feature-sandbox-walk")

    message = str(failed.value)
    assert message.startswith("no package in the feature group after the build SUCCEEDED")
    assert message.endswith("line 29\nregistered nothing: no MLflow server")
    assert "line 15" not in message  # the last 15 lines only
