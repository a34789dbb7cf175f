"""`define_metric` as the training script sees it: W&B's summary aggregates and step_sync.

W&B's client (wandb-core's runmetric and runsummary) merges repeated `define_metric` calls on
one name (aggregations accumulate; "none" is decided by the latest call that gives a summary),
matches suffix globs like "val/*" by prefix, shows `{"min": ...}` in `run.summary` for an
aggregated metric, and fills the latest value of a metric's `step_metric` into rows that log
the metric without it. This module does the same on the writer's side; `log()` only calls it
once a metric is defined, so a run without `define_metric` pays nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

SUMMARY_TYPES = ("min", "max", "mean", "first", "last")
# Accepted as W&B accepts them; "best" and "copy" are deprecated there and track nothing
# (wandb-core ignores them), so the summary is the latest value.
SUMMARY_WORDS = (*SUMMARY_TYPES, "none", "best", "copy", "")
HIDDEN = object()  # what `view` returns for a key with summary="none"


class MetricSpec:
    """What the define_metric calls so far said about one name or glob."""

    __slots__ = ("types", "none", "step_metric", "step_sync", "hidden", "goal")

    def __init__(self) -> None:
        self.types: tuple[str, ...] = ()
        self.none = False
        self.step_metric: str | None = None
        self.step_sync = False
        self.hidden = False
        self.goal: str | None = None

    def summary_text(self) -> str | None:
        """The merged aggregation as one string, for the event readers aggregate by."""
        words = [*self.types, "none"] if self.none else list(self.types)
        return ",".join(words) if words else None


class Aggregate:
    """Running first/last/min/max/mean of one key, as wandb-core's metricSummary keeps them."""

    __slots__ = ("first", "last", "min", "max", "total", "count", "seen")

    def __init__(self) -> None:
        self.first: Any = None
        self.last: Any = None
        self.min = self.max = self.total = 0.0
        self.count = 0
        self.seen = False

    def add(self, value: Any) -> None:
        if not self.seen:
            self.first, self.seen = value, True
        self.last = value
        if type(value) in (int, float) and not (type(value) is float and math.isnan(value)):
            v = float(value)
            self.min = v if not self.count else min(self.min, v)
            self.max = v if not self.count else max(self.max, v)
            self.total += v
            self.count += 1

    def view(self, types: tuple[str, ...]) -> dict[str, Any]:
        return aggregate_view(self, types)


def aggregate_view(stat: Any, types: Iterable[str]) -> dict[str, Any]:
    """W&B's aggregates ("min", "max", "mean", "first", "last") of a key's running stats:
    anything with last, first, min, max, total and count (an Aggregate in the script, a
    listing's KeyStat in a reader): one arithmetic for both."""
    out: dict[str, Any] = {}
    for kind in types:
        if kind == "last":
            out["last"] = stat.last
        elif kind == "first":
            out["first"] = stat.first
        elif stat.count and kind == "min":
            out["min"] = stat.min
        elif stat.count and kind == "max":
            out["max"] = stat.max
        elif stat.count and kind == "mean":
            out["mean"] = stat.total / stat.count
    return out


def parse_summary(summary: str) -> tuple[tuple[str, ...], bool]:
    """("min", "max"), hides-the-key, from "min,max" or "none"; ValueError for unknown words."""
    types: list[str] = []
    none = False
    for part in summary.split(","):
        word = part.strip().lower()
        if word not in SUMMARY_WORDS:
            raise ValueError(f"define_metric summary {summary!r}: use min, max, mean, first, last or none")
        if word == "none":
            none = True
        elif word in SUMMARY_TYPES and word not in types:
            types.append(word)
    return tuple(types), none


def check_define_metric(name: Any, step_metric: Any, summary: Any, goal: Any) -> None:
    """The argument errors W&B raises for, as TypeError/ValueError naming the argument."""
    if not isinstance(name, str) or not name:
        raise TypeError("define_metric needs a metric name (a non-empty str), like 'val/loss'")
    if "*" in name[:-1]:
        raise ValueError(f"define_metric name {name!r}: a glob may only end in '*', like 'val/*' (as in W&B)")
    if step_metric is not None and not isinstance(step_metric, str):
        raise TypeError(f"define_metric step_metric must be a metric name (str), not {type(step_metric).__name__}")
    if summary is not None and not isinstance(summary, str):
        raise TypeError(f"define_metric summary must be a str like 'min', not {type(summary).__name__}")
    if summary is not None:
        parse_summary(summary)
    if goal is not None and (not isinstance(goal, str) or goal[:3].lower() not in ("min", "max")):
        raise ValueError(f"define_metric goal {goal!r}: use 'minimize' or 'maximize'")


class Metrics:
    """Every metric defined in this run, and the running state their summaries need."""

    def __init__(self) -> None:
        self.specs: dict[str, MetricSpec] = {}  # exact names
        self.globs: dict[str, MetricSpec] = {}  # "val/*" -> spec, matched by prefix
        self._resolved: dict[str, MetricSpec | None] = {}
        self._aggs: dict[str, Aggregate] = {}
        self._latest_step: dict[str, Any] = {}  # step metric -> its latest number
        self._plans: dict[tuple[str, ...], tuple[list[tuple[str, Aggregate]], list[str]]] = {}

    def define(self, name: str, step_metric: str | None, step_sync: bool | None,
               summary: str | None, hidden: bool, goal: str | None) -> MetricSpec:
        """Merge one define_metric call into what is known about `name` (W&B's `With`)."""
        table = self.globs if name.endswith("*") else self.specs
        spec = table.setdefault(name.rstrip("*") if name.endswith("*") else name, MetricSpec())
        if summary is not None:
            types, none = parse_summary(summary)
            spec.types = tuple(dict.fromkeys((*spec.types, *types)))
            spec.none = none
        if step_metric:
            spec.step_metric = step_metric
            self._latest_step.setdefault(step_metric, 0)  # wandb-core starts a step metric at 0
        spec.step_sync = spec.step_sync or bool(step_sync if step_sync is not None else step_metric)
        spec.hidden = spec.hidden or hidden
        spec.goal = goal or spec.goal
        self._resolved.clear()
        self._plans.clear()
        return spec

    def spec_for(self, key: str) -> MetricSpec | None:
        """The exact definition of `key`, else the first glob whose prefix it starts with."""
        try:
            return self._resolved[key]
        except KeyError:
            pass
        spec = self.specs.get(key)
        if spec is None and not key.startswith("_"):
            spec = next((s for prefix, s in self.globs.items() if key.startswith(prefix)), None)
        self._resolved[key] = spec
        return spec

    def observed(self, row: dict[str, Any], nested: bool) -> dict[str, Any]:
        """A row about to be committed, with step metrics filled in (step_sync); its values
        are noted for the summary. The script's own dict is never changed: a row that gains
        a step metric is a copy. What to do is planned once per set of keys."""
        flat = dict(_flat_items(row)) if nested else row
        latest = self._latest_step
        for name in latest:
            value = flat.get(name)
            if type(value) in (int, float):
                latest[name] = value
        keys = tuple(flat)
        plan = self._plans.get(keys)
        if plan is None:
            plan = self._plan(keys)
        aggs, fills = plan
        for key, agg in aggs:
            agg.add(flat[key])
        if not fills:
            return row
        return {**row, **{sm: latest.get(sm, 0) for sm in fills}}

    def _plan(self, keys: tuple[str, ...]) -> tuple[list[tuple[str, Aggregate]], list[str]]:
        aggs: list[tuple[str, Aggregate]] = []
        fills: list[str] = []
        for key in keys:
            spec = self.spec_for(key)
            if spec is None:
                continue
            sm = spec.step_metric
            if sm and spec.step_sync and sm not in keys and sm != key and sm not in fills:
                fills.append(sm)
            if spec.types or spec.none:
                agg = self._aggs.get(key)
                if agg is None:
                    agg = self._aggs[key] = Aggregate()
                aggs.append((key, agg))
        if len(self._plans) > 1024:  # bounded: a script logging ever-new key sets
            self._plans.clear()
        plan = self._plans[keys] = (aggs, fills)
        return plan

    def view(self, key: str, last: Any) -> Any:
        """What `run.summary[key]` shows: the value, `{"min": ...}`, or HIDDEN."""
        spec = self.spec_for(key)
        if spec is None:
            return last
        if spec.none:
            return HIDDEN
        agg = self._aggs.get(key)
        if not spec.types or agg is None:
            return last
        return agg.view(spec.types)


def _flat_items(row: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in row.items():
        name = f"{prefix}{key}"
        if type(value) is dict and value:
            yield from _flat_items(value, name + ".")
        else:
            yield name, value
