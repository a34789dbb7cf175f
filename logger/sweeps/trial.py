"""Inside a trial: what `logger.init()` takes from the environment its agent set (see command.py)."""

from __future__ import annotations

import json
import os
from typing import Any

from ..paths import resolve_root


def trial_init(project: str | None, run_id: str | None,
               config: dict[str, Any]) -> tuple[str | None, str | None, dict[str, Any]]:
    """(project, run id, config) for `init` in a sweep's trial: the sweep's project, the run id
    its claim names, and the trial's parameters over the script's own config (as in W&B)."""
    env = os.environ
    project = env.get("RUNWATCH_SWEEP_PROJECT") or project
    given = env.get("RUNWATCH_RUN_ID")
    if run_id is None and given and not (resolve_root(None) / str(project) / given).exists():
        run_id = given  # a second init in one trial gets a fresh id instead of a clash
    try:
        params = json.loads(env.get("RUNWATCH_SWEEP_PARAMS") or "{}")
    except ValueError:
        params = {}
    return project, run_id, {**config, **params} if isinstance(params, dict) else config
