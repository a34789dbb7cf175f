"""W&B's artifacts walkthrough, in plain Python and NumPy: prepare a dataset, train on it,
log and link the model, evaluate it. Project, group and job types come from the environment."""

import json
import os
import tempfile

import numpy as np

import logger as wandb

os.environ.setdefault("WANDB_PROJECT", "artifacts-demo")
os.environ["WANDB_RUN_GROUP"] = "pipeline-" + wandb.util.generate_id(4)

# 1. Prepare the data.
os.environ["WANDB_JOB_TYPE"] = "prepare"
with wandb.init(name="prepare") as run:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3))
    y = x @ np.array([1.5, -2.0, 0.5]) + 0.1 * rng.normal(size=256)
    raw = wandb.Artifact("regression-data", type="dataset", description="y = Xw + noise",
                         metadata={"rows": 256, "features": 3})
    with raw.new_file("train.npy", mode="wb") as f:
        np.save(f, np.column_stack([x, y]))
    with raw.new_file("schema.json", mode="w") as f:
        json.dump({"columns": ["x0", "x1", "x2", "y"]}, f)
    notes = os.path.join(tempfile.mkdtemp(), "README.txt")
    with open(notes, "w") as f:
        f.write("synthetic\n")
    raw.add_file(notes, name="README.txt", policy="immutable")
    raw.add_reference("https://example.com/regression-data/source.csv")
    run.log_artifact(raw, aliases=["train"])
    raw.wait()

# 2. Train on it.
os.environ["WANDB_JOB_TYPE"] = "train"
with wandb.init(name="train", config={"lr": 0.1, "epochs": 30}) as run:
    data_dir = run.use_artifact("regression-data:train").download()
    table = np.load(os.path.join(data_dir, "train.npy"))
    x, y = table[:, :3], table[:, 3]
    w = np.zeros(3)
    for epoch in range(wandb.config.epochs):
        grad = 2 * x.T @ (x @ w - y) / len(y)
        w -= wandb.config.lr * grad
        wandb.log({"epoch": epoch, "loss": float(np.mean((x @ w - y) ** 2))})
    run.summary["weights"] = w.tolist()
    path = os.path.join(tempfile.mkdtemp(), "weights.npy")
    np.save(path, w)
    model = run.log_model(path, name="linear-model", aliases=["candidate"])
    run.link_artifact(model, "model-registry/linear-production", aliases=["production"])

# 3. Evaluate the linked model.
os.environ["WANDB_JOB_TYPE"] = "evaluate"
with wandb.init(name="evaluate") as run:
    w = np.load(run.use_model("linear-model:candidate"))
    wandb.log({"weight_error": float(np.abs(w - np.array([1.5, -2.0, 0.5])).max())})
    print(json.dumps({"group": run.group, "project": run.project}))
