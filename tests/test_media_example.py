"""A W&B-style training script (images, tables, histograms, plots, alerts) run unchanged with
`import logger as wandb` as a real subprocess, then read back through the Api."""

from __future__ import annotations

from pathlib import Path

import logger
from tests.conftest import run_script

SCRIPT = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import logger as wandb

run = wandb.init(project="media-demo", config={"epochs": 3})
rng = np.random.default_rng(0)
table = wandb.Table(columns=["epoch", "sample", "label"])
for epoch in range(run.config.epochs):
    weights = rng.normal(size=500) / (epoch + 1)
    batch = rng.random((4, 3, 16, 16))  # NCHW, as torch hands them over
    fig, ax = plt.subplots(figsize=(2, 2), dpi=32)
    ax.plot(weights[:50])
    run.log({
        "loss": 1 / (epoch + 1),
        "weights": wandb.Histogram(weights),
        "samples": [wandb.Image(x, caption=f"e{epoch} #{i}") for i, x in enumerate(batch)],
        "curve": fig,
    })
    plt.close(fig)
    table.add_data(epoch, wandb.Image(batch[0]), int(epoch % 2))
    if epoch == 1:
        wandb.alert(title="halfway", text=f"loss {1 / (epoch + 1):.2f}", level=wandb.AlertLevel.WARN)
y_true = rng.integers(0, 2, 40)
probs = np.clip(np.stack([1 - y_true, y_true], 1) * 0.6 + rng.random((40, 2)) * 0.4, 0, 1)
run.log({
    "predictions": table,
    "roc": wandb.plot.roc_curve(y_true, probs, labels=["cat", "dog"]),
    "cm": wandb.plot.confusion_matrix(probs=probs, y_true=y_true, class_names=["cat", "dog"]),
})
run.summary["best_loss"] = 1 / 3
run.finish()
"""


def test_a_w_and_b_media_script_runs_unchanged_and_reads_back(tmp_path: Path) -> None:
    proc = run_script(tmp_path, SCRIPT)
    assert "Traceback" not in proc.stderr and "RunwatchWarning" not in proc.stderr, proc.stderr
    (run,) = logger.Api(tmp_path / "runs").runs("media-demo")
    assert run.state == "finished"
    rows = run.history(pandas=False)
    assert [r["_step"] for r in rows] == [0, 1, 2, 3]
    samples = rows[2]["samples"]
    assert samples["_type"] == "images/separated" and samples["count"] == 4
    assert (samples["width"], samples["height"]) == (16, 16) and samples["captions"][1] == "e2 #1"
    for name in samples["filenames"]:
        assert run.file(name).size > 0
    assert rows[0]["curve"]["_type"] == "image-file" and rows[0]["curve"]["width"] == 64
    weights = rows[1]["weights"]
    assert weights["_type"] == "histogram" and len(weights["values"]) == 64 and sum(weights["values"]) == 500
    predictions = run.load_table("predictions")
    assert predictions.get_column("epoch") == [0, 1, 2]
    assert predictions.get_column("sample")[0]["_type"] == "image-file"
    assert {"roc_table", "cm_table"} <= set(rows[3])
    assert set(run.charts) == {"roc", "cm"}
    assert sum(r[2] for r in run.load_table("cm_table").data) == 40
    assert [(a["title"], a["level"]) for a in run.alerts] == [("halfway", "WARN")]
    assert run.summary["samples"]["_type"] == "images/separated"
    assert run.summary["loss"] == 1 / 3
