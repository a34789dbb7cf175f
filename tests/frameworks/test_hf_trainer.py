"""HF Trainer with report_to=["wandb"], unmodified, under `runwatch exec`, read back by Api."""

from __future__ import annotations

from pathlib import Path

import pytest

import logger
from tests.exec_support import ok, run_script

pytestmark = pytest.mark.frameworks
SCRIPTS = Path(__file__).parent / "scripts"


def test_hf_trainer_train_evaluate_predict_and_log_model_end(tmp_path, root):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    source = (SCRIPTS / "hf_trainer.py").read_text()
    ok(run_script(tmp_path, source, RUNWATCH_DIR=str(root), WANDB_PROJECT="hf", WANDB_LOG_MODEL="end",
                  timeout=300))
    (run,) = logger.Api(root).runs("hf")
    assert run.state == "finished" and run.name == "hf-tiny"
    assert run.config["learning_rate"] == 1e-3 and run.config["model/num_parameters"] > 1000
    rows = list(run.scan_history())
    assert [r["train/loss"] for r in rows if "train/loss" in r], "no training loss in history"
    assert sum("eval/loss" in r for r in rows) == 3  # two epochs, then evaluate()
    assert any("test/loss" in r for r in rows)  # predict()
    assert max(r.get("train/global_step", 0) for r in rows) == 16  # 2 epochs of 8 batches
    summary = run.summary_flat()
    assert summary["train_loss"] > 0 and "eval/loss" in summary and "train_runtime" in summary
    artifacts = {tuple(a.aliases): a for a in run.logged_artifacts()}
    final = next(a for aliases, a in artifacts.items() if "final_model" in aliases)
    base = next(a for aliases, a in artifacts.items() if "base_model" in aliases)
    names = {f["name"] for f in final.files()}
    assert {"config.json", "model.safetensors", "model_architecture.txt"} <= names
    assert final.name == base.name == "model-hf-tiny" and final.metadata["final_model"] is True
    assert final.logged_by().id == run.id
    dest = Path(final.download(tmp_path / "dl"))
    assert (dest / "model.safetensors").stat().st_size > 1000
