"""The corners real W&B scripts reach: errors, terminal messages, require/setup, sweep and URL
attributes, run.save() without arguments, watch/unwatch, summary._json_dict, join."""

import json

import logger as wandb

wandb.require("core")
wandb.setup()
run = wandb.init(project="corners", config={"batch_size": 32})
assert run.sweep_id is None
wandb.termlog(f"run page: {run.get_url()}")
wandb.termwarn("this is a warning")
wandb.watch(object(), log="all")
run.watch(object())
run._label(code="my_integration")
run.unwatch()
try:
    raise wandb.errors.CommError("no network needed")
except wandb.Error as exc:
    wandb.termerror(f"caught: {exc}")
try:
    raise wandb.errors.UsageError("bad call")
except wandb.errors.Error:
    pass
for step in range(5):
    wandb.log({"acc": step / 5})
run.summary["best_acc"] = 0.8
run.save()  # W&B's old "persist now": a warning, True
print(json.dumps({"id": run.id, "url": run.url, "entity": run.entity,
                  "summary": run.summary._json_dict, "name_ok": bool(wandb.util.make_artifact_name_safe("a b"))}))
wandb.join()
