"""W&B's own "export every run of a project" example runs unchanged against logger.Api: it
reads `run.summary._json_dict` (HTTPSummary's plain dict), which a plain dict lacked, so the
first line of the loop raised AttributeError."""

from __future__ import annotations

import logger as wandb
from logger import Api


def test_wandbs_export_example_runs_as_written(root):
    for lr in (0.1, 0.01):
        run = wandb.init(project="cats", config={"lr": lr, "_private": 1})
        wandb.log({"loss": lr * 2, "val": {"acc": 0.5}})
        run.finish()
    # From W&B's docs ("Export data": querying multiple runs), unchanged below this line.
    api = wandb.Api()
    entity, project = "me", "cats"
    runs = api.runs(entity + "/" + project)
    summary_list, config_list, name_list = [], [], []
    for run in runs:
        summary_list.append(run.summary._json_dict)
        config_list.append({k: v for k, v in run.config.items() if not k.startswith("_")})
        name_list.append(run.name)
    assert [c["lr"] for c in config_list] == [0.1, 0.01]
    assert [s["loss"] for s in summary_list] == [0.2, 0.02]
    assert summary_list[0]["val"] == {"acc": 0.5} and isinstance(summary_list[0], dict)
    assert all("_private" not in c for c in config_list) and len(name_list) == 2


def test_an_edit_through_json_dict_is_saved_by_update(root):
    run = wandb.init(project="cats")
    wandb.log({"loss": 1.0})
    run.finish()
    (api_run,) = Api(root).runs("cats")
    assert api_run.summary._json_dict is api_run.summary  # one dict, as W&B's
    api_run.summary._json_dict["best"] = 0.5
    api_run.update()
    (again,) = Api(root).runs("cats")
    assert again.summary["best"] == 0.5 and again.summary["loss"] == 1.0
