from __future__ import annotations

from pipelines.local import run_locally
from pipelines.training_settings import MIN_ACCURACY


def test_the_local_run_trains_a_model_good_enough_to_register(tmp_path) -> None:
    run = run_locally(tmp_path / "run")
    assert run.metric >= MIN_ACCURACY
    assert (tmp_path / "run" / "model" / "code" / "inference.py").exists()
    assert run.payload_problems and not any(run.payload_problems.values())
    assert run.seconds < 60
