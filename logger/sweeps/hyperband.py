"""Hyperband early termination, as W&B's sweeps package decides it, without a server.

Brackets ("bands") are iteration counts: min_iter * eta**k, or max_iter / eta**k for k = 1..s.
An iteration is one logged value of the sweep's metric. At each band the threshold is the value
ranked at 1/eta among every trial that got that far; a running trial whose value at its latest
band is worse is stopped (SIGTERM from its agent). Each agent records its own trial's value at
each band it passes (`bands/<trial>.g<gen>.b<band>.json`, its own files), so thresholds come
from those records and no agent reads another's runs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .config import bands
from .store import Claim, Sweep, create_exclusive, read_json


class Hyperband:
    """Watches one running trial's metric and says when it falls behind at a band."""

    def __init__(self, sweep: Sweep, claim: Claim) -> None:
        from ..reader import RootReader

        self.sweep, self.claim = sweep, claim
        self.metric: dict[str, Any] = sweep.config["metric"]
        early = sweep.config["early_terminate"]
        self.bands = bands(early)
        self.eta = early.get("eta", 3)
        self.reader = RootReader(sweep.root)  # follows the trial's run incrementally, by offset
        self.run_dir = sweep.root / sweep.project / str(claim.data.get("run_id"))
        self.recorded: set[int] = set()
        self.reason: str | None = None

    def history(self) -> list[float]:
        """The metric's logged values so far, as W&B counts them (not numbers skipped)."""
        self.reader.read_paths([self.run_dir])
        data = self.reader.runs.get(f"{self.sweep.project}/{self.run_dir.name}")
        col = data.history.columns.get(self.metric["name"]) if data is not None else None
        values = [v for v in col.float_values() if math.isfinite(v)] if col is not None else []
        return [-v for v in values] if self.metric.get("goal") == "maximize" else values

    def record(self, history: list[float]) -> None:
        """Record this trial's value at every band it has passed (also after it ended)."""
        for band in self.bands:
            if band >= len(history):
                break
            if band not in self.recorded:
                self.recorded.add(band)
                create_exclusive(self._record_path(band), {"band": band, "value": history[band]})

    def behind(self) -> bool:
        """True when the trial is worse than the threshold at the latest band it reached."""
        history = self.history()
        self.record(history)
        reached = [b for b in self.bands if b < len(history)]
        if not reached:
            return False
        band = reached[-1]
        values = sorted(self._values_at(band))
        threshold = values[int(len(values) / self.eta)] if values else math.inf
        if history[band] > threshold:
            sign = -1 if self.metric.get("goal") == "maximize" else 1
            self.reason = (f"hyperband: {self.metric['name']} {sign * history[band]:g} at iteration "
                           f"{band} is behind the band's threshold {sign * threshold:g}")
            return True
        return False

    def _values_at(self, band: int) -> list[float]:
        directory = self.sweep.dir / "bands"
        out = []
        for path in directory.glob(f"*.b{band}.json"):
            value = (read_json(path) or {}).get("value")
            if isinstance(value, (int, float)) and math.isfinite(value):
                out.append(float(value))
        return out

    def _record_path(self, band: int) -> Path:
        directory = self.sweep.dir / "bands"
        directory.mkdir(exist_ok=True)
        return directory / f"{self.claim.trial}.g{self.claim.gen}.b{band}.json"
