"""Inside a trial: what `logger.init()` takes from the environment its agent set (see command.py)."""

from __future__ import annotations

import json
import os
from typing import Any

from ..paths import resolve_root


def trial_init(project: str | None, run_id: str | None, resume: Any,
               config: dict[str, Any]) -> tuple[str | None, str | None, Any, dict[str, Any]]:
    """(project, run id, resume, config) for `init` in a sweep's trial: the sweep's project, the
    run id its claim names, and the trial's parameters over the script's own config (as in W&B).
    A second init in one trial continues that run, as W&B's (its agent's WANDB_RUN_ID stays set):
    HF's hyperparameter_search finishes the trial's run and inits again to train."""
    env = os.environ
    project = env.get("RUNWATCH_SWEEP_PROJECT") or project
    given = env.get("RUNWATCH_RUN_ID")
    if run_id is None and given:
        run_id = given
        if resume in (None, False) and (resolve_root(None) / str(project) / given).exists():
            resume = "allow"
    try:
        params = json.loads(env.get("RUNWATCH_SWEEP_PARAMS") or "{}")
    except ValueError:
        params = {}
    return project, run_id, resume, {**config, **params} if isinstance(params, dict) else config
