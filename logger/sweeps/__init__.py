"""Sweeps without a server: `sweep()` writes a sweep directory under the root, `agent()` claims
and runs its trials; any number of agents on any hosts sharing the root work on one sweep.

Loaded only by `logger.sweep` / `logger.agent` and `runwatch sweep` / `runwatch agent`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..paths import check_project, resolve_root
from .agent import Agent, run_command, run_function
from .config import SweepConfigError, check_config
from .store import Liveness, Sweep, find_sweep, heartbeat_interval

__all__ = ["AgentGaveUp", "SweepConfigError", "agent", "control", "load_config", "sweep", "sweep_summary"]


def sweep(sweep: dict[str, Any] | Callable[[], dict[str, Any]], entity: str | None = None,
          project: str | None = None, prior_runs: list[str] | None = None,
          dir: str | os.PathLike[str] | None = None) -> str:
    """Create a sweep (W&B's `wandb.sweep`) and return its id."""
    raw = sweep() if callable(sweep) else sweep
    config = check_config(raw)
    # W&B's order: the argument, the configuration's project, then $WANDB_PROJECT
    project = check_project(project or raw.get("project") or os.environ.get("WANDB_PROJECT") or None)
    root = resolve_root(dir)
    return Sweep.create(root, project, config).id


def agent(sweep_id: str, function: Callable[[], Any] | None = None, entity: str | None = None,
          project: str | None = None, count: int | None = None,
          dir: str | os.PathLike[str] | None = None) -> int:
    """Run trials of a sweep (W&B's `wandb.agent`): `function` in this process, or the sweep's
    `program`/`command` as a subprocess per trial. Returns how many trials this agent ran."""
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError(f"count={count!r}: a whole number of trials, 1 or more (or None for all)")
    found = find_sweep(resolve_root(dir), sweep_id, project)
    worker = Agent(found, count)
    ran = worker.run(run_function(worker, function) if function is not None else run_command(worker))
    if worker.gave_up and function is None:
        raise AgentGaveUp(f"sweep {found.project}/{found.id}: {worker.gave_up}")
    if worker.gave_up:  # W&B's agent says so and returns
        print(f"runwatch agent: sweep {found.project}/{found.id}: {worker.gave_up}", file=sys.stderr)
    if worker.interrupted:
        raise KeyboardInterrupt  # its trial was stopped; another agent will rerun it
    return ran


class AgentGaveUp(RuntimeError):
    """Too many trials in a row failed: the program, not the parameters, is likely at fault."""


def control(sweep_id: str, action: str, project: str | None = None,
            dir: str | os.PathLike[str] | None = None) -> Sweep:
    """Append a stop / cancel / resume record to a sweep (`runwatch sweep --stop ID`)."""
    found = find_sweep(resolve_root(dir), sweep_id, project)
    found.control(action)
    return found


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A sweep configuration file: YAML (with PyYAML installed) or JSON, checked."""
    text = Path(path).read_text(encoding="utf-8")
    if str(path).endswith(".json"):
        return check_config(_json(path, text))
    try:
        import yaml  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        try:
            return check_config(_json(path, text))
        except SweepConfigError:
            raise SweepConfigError(f"{path}: reading YAML needs PyYAML (pip install pyyaml); "
                                   "or write the configuration as JSON") from None
    try:
        return check_config(yaml.safe_load(text))
    except yaml.YAMLError as exc:
        raise SweepConfigError(f"{path}: not valid YAML: {exc}") from None


def _json(path: Any, text: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError as exc:
        raise SweepConfigError(f"{path}: not valid JSON: {exc}") from None


def sweep_summary(found: Sweep) -> dict[str, Any]:
    """The sweep's state, its trials (state, run, parameters, metric) and the best so far."""
    claims, results = found.claims(), found.results()
    liveness = Liveness(window=6 * heartbeat_interval())
    trials: list[dict[str, Any]] = []
    for t, c in sorted(claims.items()):
        result = results.get(f"{t}.g{c.gen}")
        state = result.get("state", "?") if result else (
            "running" if liveness.alive(found, c) else "lapsed")
        trials.append({"trial": t, "gen": c.gen, "state": state, "run_id": c.data.get("run_id"),
                       "params": c.params, "metric": result.get("metric") if result else None})
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial["state"]] = counts.get(trial["state"], 0) + 1
    metric = found.config.get("metric") or {}
    scored = [t for t in trials if isinstance(t["metric"], (int, float))]
    best = (max if metric.get("goal") == "maximize" else min)(
        scored, key=lambda t: t["metric"]) if scored else None
    return {"id": found.id, "project": found.project, "method": found.config["method"],
            "control": found.state_action(), "counts": counts, "trials": trials,
            "metric": metric.get("name"), "best": best}
