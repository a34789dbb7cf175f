"""`Api().sweep("project/sweep_id")`: a sweep read back shaped like W&B's Public API Sweep."""

from __future__ import annotations

from typing import Any

from .search import grid_points
from .store import Sweep, find_sweep


class PublicSweep:
    """id, name, config, state, expected_run_count, runs and best_run(), as W&B's `api.sweep`."""

    def __init__(self, api: Any, found: Sweep) -> None:
        self._api, self._sweep = api, found
        # The local user, as a run's entity: W&B's path is [entity, project, sweep_id].
        self.id, self.project, self.entity = found.id, found.project, api.default_entity
        self.path = [self.entity, self.project, self.id]
        self.config: dict[str, Any] = found.config
        self.name: str = str(found.config.get("name") or found.id)

    @property
    def runs(self) -> list[Any]:
        """The runs of every claim (reruns included) that wrote anything, oldest trial first."""
        out = []
        for c in sorted(self._sweep.claims().values(), key=lambda c: c.trial):
            try:
                out.append(self._api.run(f"{self.project}/{c.data.get('run_id')}"))
            except ValueError:
                continue  # claimed, but its run has not started (or its agent died first)
        return out

    @property
    def expected_run_count(self) -> int | None:
        cap = self.config.get("run_cap")
        if self.config["method"] == "grid":
            size = len(grid_points(self.config))
            return min(size, cap) if cap else size
        return cap

    @property
    def state(self) -> str:
        """RUNNING, FINISHED (exhausted, or --stop) or CANCELED, as W&B names them."""
        action = self._sweep.state_action()
        if action == "cancel":
            return "CANCELED"
        claims, results = self._sweep.claims(), self._sweep.results()
        pending = any(f"{t}.g{c.gen}" not in results for t, c in claims.items())
        expected = self.expected_run_count
        exhausted = expected is not None and len(claims) >= expected and not pending
        return "FINISHED" if action == "stop" or exhausted else "RUNNING"

    def best_run(self, order: str | None = None) -> Any:
        """The run with the best summary value of the sweep's metric (or of `order`, W&B's
        "+summary_metrics.loss" / "-summary_metrics.acc"); None when no run logged it."""
        metric = self.config.get("metric") or {}
        if order is None:
            if not metric:
                raise ValueError(f"sweep {self.id} has no metric: pass order='-summary_metrics.KEY'")
            order = ("-" if metric.get("goal") == "maximize" else "+") + "summary_metrics." + metric["name"]
        key = order.lstrip("+-").split(".", 1)[-1]
        scored = [(r.summary_flat().get(key), r) for r in self.runs]
        scored = [(v, r) for v, r in scored if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not scored:
            return None
        pick = max if order.startswith("-") else min
        return pick(scored, key=lambda p: p[0])[1]

    def __repr__(self) -> str:
        return f"<Sweep {self.project}/{self.id} ({self.state})>"


def load_sweep(api: Any, path: str) -> PublicSweep:
    """"sweep_id", "project/sweep_id" or "entity/project/sweep_id" under the Api's root."""
    return PublicSweep(api, find_sweep(api.root, path))
