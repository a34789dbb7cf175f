"""Lightning's WandbLogger, unmodified, under `runwatch exec`, read back by Api."""

from __future__ import annotations

from pathlib import Path

import pytest

import logger
from tests.exec_support import ok, run_script

pytestmark = pytest.mark.frameworks
SCRIPTS = Path(__file__).parent / "scripts"


def _run_lightning(tmp_path: Path, *args: str, **env: str) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("lightning")
    ok(run_script(tmp_path, (SCRIPTS / "lightning_wandb.py").read_text(), *args, timeout=300, **env))


def test_wandb_logger_with_log_model_and_watch_lands_in_the_default_root(tmp_path):
    _run_lightning(tmp_path)  # save_dir="." as Lightning defaults: runs go to ./runs
    (run,) = logger.Api(tmp_path / "runs").runs("pl")
    assert run.state == "finished" and run.name == "pl-tiny"
    assert run.config == {"lr": 0.05, "batch_size": 16}
    rows = list(run.scan_history())
    assert sum("train_loss" in r for r in rows) == 12  # 3 epochs of 4 batches, log_every_n_steps=1
    assert sum("val_loss" in r for r in rows) == 4  # each epoch, then validate()
    assert run.summary_flat()["trainer/global_step"] == 12
    arts = run.logged_artifacts()
    (model,) = [a for a in arts if a.type == "model"]
    assert model.name == f"model-{run.id}"
    assert set(model.aliases) == {"best", "latest"}
    assert [f["name"] for f in model.files()] == ["model.ckpt"]
    assert model.metadata["ModelCheckpoint"]["monitor"] == "val_loss"
    # WandbLogger.log_table / log_image: a W&B table and images, read back as W&B shapes
    table = next(r["samples"] for r in rows if "samples" in r)
    assert table["_type"] == "table-file" and run.load_table("samples").data == [[1.0, 2.0], [3.0, 4.0]]
    pictures = next(r["pictures"] for r in rows if "pictures" in r)
    assert pictures["_type"] == "images/separated" and pictures["count"] == 1, pictures
    assert (pictures["width"], pictures["height"]) == (8, 8)
    assert any(a.type == "run_table" for a in arts)


def test_runwatch_dir_wins_over_the_loggers_save_dir(tmp_path):
    _run_lightning(tmp_path, "lightning_logs", RUNWATCH_DIR=str(tmp_path / "chosen"))
    (run,) = logger.Api(tmp_path / "chosen").runs("pl")
    assert run.state == "finished" and run.logged_artifacts()
    assert not (tmp_path / "lightning_logs" / "pl" / run.id / "run.rws").exists()
    assert not (tmp_path / "runs").exists()
