"""W&B-style example scripts, unchanged but for the import line, as real processes: with
`import logger as wandb`, and with `import wandb` under `runwatch exec`. Read back by Api."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import logger
from tests.exec_support import ok, run_script

HERE = Path(__file__).parent
IMPORT_LINE = "import logger as wandb\n"


def _run(tmp_path: Path, example: str, exec_: bool, *args: str, **env: str):
    source = (HERE / example).read_text()
    assert IMPORT_LINE in source
    if exec_:
        source = source.replace(IMPORT_LINE, "import wandb\n")
    return run_script(tmp_path, source, *args, exec_=exec_, name=example, **env)


@pytest.mark.parametrize("exec_", [False, True], ids=["import-logger", "runwatch-exec"])
def test_artifacts_pipeline(tmp_path, root, exec_):
    out = json.loads(ok(_run(tmp_path, "artifacts_pipeline.py", exec_, RUNWATCH_DIR=str(root))).splitlines()[-1])
    api = logger.Api(root)
    runs = {r.name: r for r in api.runs("artifacts-demo")}
    assert set(runs) == {"prepare", "train", "evaluate"} and out["project"] == "artifacts-demo"
    assert {r.job_type for r in runs.values()} == {"prepare", "train", "evaluate"}
    assert len({r.group for r in runs.values()}) == 1 and out["group"].startswith("pipeline-")
    data = api.artifact("artifacts-demo/regression-data:train")
    assert data.metadata == {"rows": 256, "features": 3} and data.description == "y = Xw + noise"
    assert {f["name"] for f in data.files()} == {"train.npy", "schema.json", "README.txt", "source.csv"}
    assert [r.name for r in data.used_by()] == ["train"] and data.logged_by().name == "prepare"
    train = runs["train"]
    assert train.summary["loss"] < 0.05 and len(train.summary["weights"]) == 3
    assert [a.name for a in train.used_artifacts()] == ["regression-data"]
    assert [a.name for a in runs["evaluate"].used_artifacts()] == ["linear-model"]
    assert runs["evaluate"].summary["weight_error"] < 0.1
    linked = api.artifact("model-registry/linear-production:production")
    assert linked.digest == api.artifact("artifacts-demo/linear-model:candidate").digest


@pytest.mark.parametrize("exec_", [False, True], ids=["import-logger", "runwatch-exec"])
def test_resume_driven_by_the_environment(tmp_path, root, exec_):
    env = {"RUNWATCH_DIR": str(root), "WANDB_RUN_ID": "preempt1", "WANDB_RESUME": "allow"}
    first = _run(tmp_path, "resume.py", exec_, **env)
    assert first.returncode == 1 and "preempted" in first.stdout
    assert "resumed preempt1" in ok(_run(tmp_path, "resume.py", exec_, **env))
    (run,) = logger.Api(root).runs("resume-demo")
    assert run.state == "finished" and [r["epoch"] for r in run.scan_history()] == list(range(10))


@pytest.mark.parametrize("exec_", [False, True], ids=["import-logger", "runwatch-exec"])
def test_corners(tmp_path, root, exec_):
    proc = _run(tmp_path, "corners.py", exec_, RUNWATCH_DIR=str(root))
    out = json.loads(ok(proc).splitlines()[-1])
    assert "wandb: run page: file://" in proc.stderr and "wandb: WARNING this is a warning" in proc.stderr
    assert "wandb: ERROR caught: no network needed" in proc.stderr
    assert out["url"] == (root / "corners" / out["id"]).resolve().as_uri() and out["entity"]
    assert out["summary"] == {"acc": 0.8, "best_acc": 0.8}
    run = logger.Api(root).run(f"corners/{out['id']}")
    assert run.state == "finished" and run.summary_metrics["best_acc"] == 0.8


def test_pytorch_on_synthetic_data(tmp_path, root):
    pytest.importorskip("torch")
    ok(_run(tmp_path, "pytorch_synthetic.py", False, RUNWATCH_DIR=str(root)))
    (run,) = logger.Api(root).runs("pytorch-demo")
    assert run.state == "finished" and run.config == {"lr": 0.05, "epochs": 5, "hidden": 8}
    assert [r["epoch"] for r in run.scan_history()] == [0, 1, 2, 3, 4]
    assert [f["name"] for f in run.files()] == ["model.pt"]
    (model,) = run.logged_artifacts()
    assert model.name == "mlp" and [f["name"] for f in model.files()] == ["model.pt"]
