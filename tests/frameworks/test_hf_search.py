"""HF Trainer's `hyperparameter_search(backend="wandb")`, unmodified, under `runwatch exec`: an
offline sweep whose trials are runs that name it, with the best trial's parameters returned."""

from __future__ import annotations

import io
import json

import pytest

import logger
from tests.exec_support import ok, run_script
from tui.cli.runs import cmd_show

SCRIPT = '''
import json
import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments


class Tokens(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randint(0, 50, (n, 8), generator=g)
        self.y = (self.x[:, 0] > 25).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {"input_ids": self.x[i], "attention_mask": torch.ones(8, dtype=torch.long),
                "labels": self.y[i]}


def model_init(trial=None):
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=16, num_labels=2))


def space(trial):
    return {"method": "random", "metric": {"name": "objective", "goal": "minimize"},
            "parameters": {"learning_rate": {"distribution": "uniform", "min": 1e-4, "max": 1e-2}}}


args = TrainingArguments(output_dir="out", report_to=["wandb"], per_device_train_batch_size=8,
                         num_train_epochs=1, logging_steps=2, eval_strategy="epoch",
                         save_strategy="no", use_cpu=True, disable_tqdm=True)
trainer = Trainer(model_init=model_init, args=args, train_dataset=Tokens(32, 1),
                  eval_dataset=Tokens(16, 2))
best = trainer.hyperparameter_search(backend="wandb", hp_space=space, n_trials=2,
                                     direction="minimize")
print("BEST", json.dumps({"run_id": best.run_id, "objective": best.objective,
                          "hyperparameters": best.hyperparameters}))
'''


@pytest.mark.frameworks
def test_hf_hyperparameter_search_with_the_wandb_backend_runs_an_offline_sweep(tmp_path, root):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    out = ok(run_script(tmp_path, SCRIPT, RUNWATCH_DIR=str(root), WANDB_PROJECT="hfsearch",
                        timeout=300))
    best = json.loads(out.rsplit("BEST ", 1)[1].splitlines()[0])
    runs = list(logger.Api(root).runs("hfsearch"))
    assert len(runs) == 2 and all(r.state == "finished" for r in runs)
    (sweep_id,) = {r.sweep_id for r in runs}
    assert sweep_id is not None
    sweep = logger.Api(root).sweep(f"hfsearch/{sweep_id}")
    assert sorted(r.id for r in sweep.runs) == sorted(r.id for r in runs)
    rates = {r.id: r.config["learning_rate"] for r in runs}
    assert len(set(rates.values())) == 2 and all(1e-4 <= v <= 1e-2 for v in rates.values())
    assert best["run_id"] in rates
    assert best["hyperparameters"]["learning_rate"] == pytest.approx(rates[best["run_id"]])
    objectives = [r.summary_flat().get("eval/loss") for r in runs]
    assert best["objective"] == pytest.approx(min(o for o in objectives if o is not None))


def test_a_trials_second_init_continues_its_run_as_hfs_search_does(root):
    """HF's _objective inits, its WandbCallback finishes that run and inits again to train
    (without transformers here): one run per trial, the one its claim names, with the metric."""
    import logger as wandb

    config = {"method": "grid", "metric": {"name": "eval/loss", "goal": "minimize"},
              "parameters": {"learning_rate": {"values": [0.1, 0.2]}}}
    sid = wandb.sweep(config, project="hp")

    def objective() -> None:
        run = wandb.run if wandb.run else wandb.init()
        run.config.update({"assignments": {}, "metric": "eval/loss"})
        wandb.finish()  # WandbCallback.on_train_begin in a search
        again = wandb.init(project="huggingface", name=run.name, group="out")
        assert again.id == run.id
        wandb.log({"eval/loss": wandb.config["learning_rate"]})

    wandb.agent(sid, function=objective)
    runs = list(wandb.Api().runs("hp"))
    assert len(runs) == 2 and {r.sweep_id for r in runs} == {sid}
    assert sorted(r.summary_flat()["eval/loss"] for r in runs) == [0.1, 0.2]
    best = wandb.Api().sweep(f"hp/{sid}").best_run()
    assert best.config["learning_rate"] == 0.1


def test_an_older_run_finds_its_sweep_in_the_claims(root):
    """Runs written before RunStart had sweep_id: Api and `show` read the sweep's claims."""
    import logger as wandb
    from logger.sweeps.store import create_exclusive, find_sweep
    from tests.test_tui_support import write_run

    sid = wandb.sweep({"method": "grid", "parameters": {"x": {"values": [1]}}}, project="proj")
    write_run(root, "oldrun")  # its RunStart has no sweep_id
    claims = find_sweep(root, sid).dir / "claims"
    assert create_exclusive(claims / "t000000.g0.json",
                            {"trial": "t000000", "gen": 0, "params": {"x": 1}, "run_id": "oldrun"})
    (run,) = wandb.Api().runs("proj")
    assert run._data.sweep_id is None and run.sweep_id == sid
    out = io.StringIO()
    cmd_show("proj/oldrun", str(root), True, out)
    assert json.loads(out.getvalue())["sweep"] == f"proj/{sid}"
