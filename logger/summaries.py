"""A run's summary as W&B shows it, from per-key digests (logger/snapshot.py): the same
arithmetic whether the digests came from a writer's snapshot, the index cache, or the rows."""

from __future__ import annotations

import fnmatch
import math
from typing import Any

from . import events as ev
from .metrics import aggregate_view
from .snapshot import Digest


def summary_of(digest: Digest, meta: dict[str, Any], created_at: float) -> dict[str, Any]:
    """The summary W&B shows, from a run's combined digest and its metadata (RunData's):
    last values, define_metric aggregates, keys set or removed by hand, _step/_timestamp."""
    out: dict[str, Any] = {}
    metrics: dict[str, ev.DefineMetric] = meta["metrics"]
    explicit: dict[str, tuple[float, Any]] = meta["summary_set"]
    removed: dict[str, float] = meta["summary_removed"]
    for key, stat in digest.keys.items():
        t = stat.last_time
        hand = explicit.get(key)
        gone = removed.get(key)
        if (hand is not None or gone is not None) and t is None:
            raise NeedRows  # a snapshot's stats do not say when the key was last logged
        if hand is not None and t is not None and hand[0] >= t:
            out[key] = hand[1]
            continue
        if gone is not None and t is not None and gone >= t:
            continue
        agg = aggregation(metrics, key)
        if agg is None:
            out[key] = stat.last
        elif agg != "none":
            if not stat.agg:
                raise NeedRows
            out[key] = aggregate(stat, agg)
    for key, (t, value) in explicit.items():
        if key not in out and key not in digest.keys and removed.get(key, -math.inf) < t:
            out[key] = value
    if digest.rows and digest.last_time is not None:
        out["_step"] = digest.max_step
        out["_timestamp"] = digest.last_time
        out["_runtime"] = digest.last_time - created_at
    return out


def aggregation(metrics: dict[str, ev.DefineMetric], key: str) -> str | None:
    """The aggregation W&B's summary shows for `key`: "none", "min,max", ... or None for the
    last value ("best" and "copy" are deprecated and track nothing, as in wandb-core)."""
    metric = metrics.get(key)
    if metric is None and not key.startswith("_"):
        for pattern, m in metrics.items():
            if "*" in pattern and fnmatch.fnmatchcase(key, pattern):
                metric = m
                break
    if metric is None or not metric.summary:
        return None
    words = [w.strip().lower() for w in metric.summary.split(",")]
    if "none" in words:
        return "none"
    kept = [w for w in dict.fromkeys(words) if w in ("min", "max", "mean", "first", "last")]
    return ",".join(kept) or None


class NeedRows(Exception):
    """A summary a digest cannot give exactly: read the rows."""


def aggregate(stat: Any, agg: str) -> Any:
    """W&B's aggregates of one key (logger/snapshot.KeyStat): the same arithmetic as the
    script's (logger/metrics.aggregate_view), whether the stats came from a snapshot or rows."""
    return aggregate_view(stat, agg.split(",")) or stat.last
