"""W&B's resume recipe: the job is restarted with the same WANDB_RUN_ID and WANDB_RESUME=allow,
and carries on from its last step. The first attempt "is preempted" (exits 1) halfway."""

import sys

import logger as wandb

run = wandb.init(project="resume-demo", config={"epochs": 10})
start = run.step  # 0 on the first attempt, where the last attempt stopped on a resume
for epoch in range(start, wandb.config.epochs):
    wandb.log({"epoch": epoch, "loss": 1.0 / (epoch + 1)})
    if epoch == 4 and not run.resumed:
        print("preempted", flush=True)
        sys.exit(1)
print("resumed" if run.resumed else "fresh", run.id)
