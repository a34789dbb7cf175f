"""Keras 3 (torch backend) with W&B's own callbacks, unmodified, under `runwatch exec`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import logger
from tests.exec_support import ok, run_script

pytestmark = pytest.mark.frameworks
SCRIPTS = Path(__file__).parent / "scripts"


def test_keras_metrics_logger_and_model_checkpoint(tmp_path, root):
    pytest.importorskip("torch")
    if importlib.util.find_spec("keras") is None:  # importing it here would pick TensorFlow
        pytest.skip("keras is not installed")
    ok(run_script(tmp_path, (SCRIPTS / "keras_callbacks.py").read_text(), RUNWATCH_DIR=str(root),
                  KERAS_BACKEND="torch", timeout=300))
    (run,) = logger.Api(root).runs("keras")
    assert run.state == "finished" and run.config == {"epochs": 3, "batch_size": 16}
    rows = list(run.scan_history())
    assert [r["epoch/epoch"] for r in rows if "epoch/epoch" in r] == [0, 1, 2]
    assert all("epoch/val_loss" in r for r in rows if "epoch/epoch" in r)
    assert sum("batch/loss" in r for r in rows) == 9  # 48 training rows / 16, three epochs
    versions = run.logged_artifacts()
    assert versions and {a.name for a in versions} == {f"run_{run.id}_model"}
    assert [f["name"] for f in versions[-1].files()] == ["model.keras"]
