"""RunView: an immutable snapshot of one run, taken by the reading thread under the follower's lock.

The UI thread renders, filters, groups and sorts these snapshots and never touches a RunData
that the reader may be mutating. A snapshot is cheap (references to dicts the reader replaces
rather than mutates, plus a few numbers); sparkline data for the table's metric columns comes
from incremental sketches, so following a long run costs O(new points) per update.
"""

from __future__ import annotations

import itertools
import math
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from logger.query import summary_value
from logger.rundata import RunData

from .decimate import RunSeries
from .stall import STALL_AFTER, STALL_FACTOR, is_stalled, last_logged, log_interval  # noqa: F401 - re-exported
from .stats import Decimator, spark_levels
from .system_plots import gpu_cell

clock = time.time  # the one clock the table reads; snapshot tests replace it

SPARK_BUCKETS = 64  # points kept per sparkline sketch (a reader keeping whole histories)
SPARK_WIDTH = 8  # cells of a sparkline: a snapshot keeps its levels only (10k runs x 3 keys
# as tuples of ~50 bucket means were 5 KB a run, ~50 MB; as 8 doubles in an array ~0.6 KB)

STATE_GLYPHS = {
    "running": "▶",
    "finished": "✓",
    "failed": "✗",
    "killed": "■",
    "crashed": "!",
}
STALLED_GLYPH = "⧖"  # a running run that stopped logging: a word and a glyph, not colour alone

@dataclass(eq=False, slots=True)
class RunView:
    """What the screens show of one run at one moment. `version` is RunData.version.
    Never changed once made (by convention: a frozen dataclass's __init__ cost ~15 us of the
    ~40 us a snapshot took, 10k runs 0.15 s before every row)."""

    path: str
    id: str
    project: str
    dir: Path
    name: str
    notes: str
    tags: tuple[str, ...]
    group: str | None
    job_type: str | None
    config: dict[str, Any]
    config_flat: dict[str, Any]
    summary: dict[str, Any]
    state: str
    exit_code: int | None
    error: str | None
    step: int | None
    created_at: float
    updated_at: float
    finished_at: float | None
    version: int
    numeric_keys: tuple[str, ...]
    sparks: dict[str, Sequence[float]] = field(default_factory=dict)  # SPARK_WIDTH levels
    skipped_frames: int = 0
    errors: tuple[str, ...] = ()
    gpu: str = ""  # "GPU 97% 71/80G" from the latest system sample; "" without one
    console: str = ""  # the last console line as stored (raw: escaped by the cell)
    sweep_id: str | None = None  # the sweep whose trial this run is (from its RunStart)
    logged_at: float = 0.0  # the last logged event ("updated"), see last_logged
    log_interval: float = 0.0
    logged: bool = False  # whether it logged any step yet
    serial: int = field(default_factory=itertools.count().__next__)  # unique per snapshot

    def summary_flat(self) -> dict[str, Any]:
        """The reader's flat summary (what `logger.query` filters look at)."""
        return self.summary

    def stalled(self, now: float) -> bool:
        return is_stalled(self.state, self.logged, self.logged_at, self.log_interval, now)

    @property
    def runtime(self) -> float:
        if self.state == "running":
            end = clock()
        else:
            end = self.finished_at or max(self.updated_at, self.created_at)
        return max(0.0, end - self.created_at)

    def metric(self, key: str) -> float:
        """The last value of a summary key as a float, NaN when absent or not a number."""
        value = self.metric_value(key)
        return math.nan if value is None else value

    def metric_value(self, key: str) -> float | None:
        """What the table shows for a metric: None when not logged (a blank cell), NaN only
        for a logged NaN; `val/loss` is its define_metric aggregate, `val/loss.min` one part."""
        value = summary_value(self.summary, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested config as "a.b" keys; W&B's {"value": x} wrappers unwrap."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = prefix + str(k)
        if isinstance(v, dict):
            if set(v) == {"value"}:
                out[key] = v["value"]
            elif v:
                out.update(flatten(v, key + "."))
            else:
                out[key] = v
        else:
            out[key] = v
    return out


class Snapshotter:
    """Takes RunViews; keeps the flat configs and sparkline sketches between snapshots.

    Call only with the follower's lock held (it reads RunData and history columns).
    """

    def __init__(self) -> None:
        self.metrics: tuple[str, ...] = ()
        self._flat: dict[str, tuple[int, dict[str, Any]]] = {}
        self._sketches: dict[tuple[str, str], Decimator] = {}

    def view(self, run: RunData) -> RunView:
        config = run.config
        cached = self._flat.get(run.path)
        if cached is None or cached[0] != id(config):
            cached = self._flat[run.path] = (id(config), flatten(config))
        return RunView(
            path=run.path,
            id=run.id,
            project=run.project,
            dir=run.dir,
            name=run.name or run.id,
            notes=run.notes or "",
            tags=tuple(run.tags),
            group=run.group,
            job_type=run.job_type,
            config=config,
            config_flat=cached[1],
            summary=run.summary_flat(),
            state=run.state,
            exit_code=run.exit_code,
            error=run.error,
            step=run.step,
            created_at=run.created_at,
            updated_at=run.updated_at,
            finished_at=run.finished_at,
            version=run.version,
            numeric_keys=tuple(run.numeric_keys()),
            sparks={key: self._spark(run, key) for key in self.metrics},
            skipped_frames=run.skipped_frames,
            errors=tuple(run.errors),
            gpu=gpu_cell(getattr(run.extras.get("system"), "values", None)),
            console=run.extras.get("console", ""),
            sweep_id=run.sweep_id,
            logged_at=last_logged(run),
            log_interval=log_interval(run),
            logged=bool(run.rows),
        )

    def _spark(self, run: RunData, key: str) -> Sequence[float]:
        """The sparkline's SPARK_WIDTH levels of `key` (what `stats.sparkline` draws)."""
        means = self._means(run, key)
        if not means:
            return ()
        finite = [v for v in means if math.isfinite(v)]
        return array("d", spark_levels(finite, SPARK_WIDTH)) if finite else ()

    def _means(self, run: RunData, key: str) -> Sequence[float]:
        if isinstance(run.sink, RunSeries):  # the app's reader: decimated as it reads
            return run.sink.spark(key)
        count = run.history.numeric_count(key)
        if not count:
            return ()
        sk = self._sketches.get((run.path, key))
        if sk is None or sk.fed > count:
            sk = self._sketches[(run.path, key)] = Decimator(SPARK_BUCKETS)
        fed = sk.fed
        if fed < count:
            _steps, values = run.history.values_since(key, fed)
            sk.extend(range(fed, fed + len(values)), values)
        return tuple(sk.means())
