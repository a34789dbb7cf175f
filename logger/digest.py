"""A segment's history as a listing sees it, without its rows: per-key stats (W&B's summary
aggregates) and row counts, folded from Log events, from a History's columns, or restored
from a writer's snapshot or an index cache entry (logger/snapshot.py, logger/index.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import reduce
from itertools import chain, filterfalse, islice
from operator import add, attrgetter, itemgetter, lt
from typing import Any

import msgspec

from . import step_runs
from .flat import flatten_into

__all__ = ["STEP_MAX", "STEP_MIN", "Digest", "KeyStat", "combine"]

_values, _step = attrgetter("values"), attrgetter("step")
STEP_MIN, STEP_MAX = -(2**63), 2**63 - 1  # the steps a History holds (array "q"): a row past them is dropped
_FLOAT = frozenset((float,))
_NUMBERS = frozenset((int, float))


class KeyStat(msgspec.Struct, array_like=True):
    """One history key of one segment: its last value, and W&B's summary aggregates."""

    last: Any = None
    last_time: float | None = None  # None: not known (the writer's snapshot)
    first: Any = None
    count: int = 0  # numbers (not NaN) among its values, which min/max/total cover
    min: float = 0.0
    max: float = 0.0
    total: float = 0.0
    numeric: bool = True
    agg: bool = True  # first/count/min/max/total cover every value of the key

    def add_values(self, values: list[Any], last_time: float) -> None:
        """More values of this key, in write order: the arithmetic of metrics.Aggregate (a
        running total, the first of equal minima), in C-level passes over the list."""
        self.last, self.last_time = values[-1], last_time
        kinds = set(map(type, values))
        if kinds == _FLOAT:
            nums = values
        elif kinds <= _NUMBERS:
            nums = list(map(float, values))
        else:
            self.numeric = False
            nums = [float(v) for v in values if type(v) is float or type(v) is int]
        if any(map(math.isnan, nums)):
            nums = list(filterfalse(math.isnan, nums))
        if not nums:
            return
        low, high = min(nums), max(nums)
        if self.count:
            low, high = min(self.min, low), max(self.max, high)
        self.min, self.max = low, high
        self.total = reduce(add, nums, self.total)
        self.count += len(nums)


class Digest:
    """One segment's history as a listing sees it: per-key stats, rows, highest step."""

    __slots__ = ("keys", "rows", "max_step", "last_time", "rewritten", "first_step", "runs", "dropped")

    def __init__(self) -> None:
        self.keys: dict[str, KeyStat] = {}
        self.rows = 0
        self.max_step: int | None = None
        self.last_time: float | None = None
        self.rewritten = 0  # rows not past every earlier row's step (combined: across writers)
        self.first_step: int | None = None  # the first row's
        self.runs: step_runs.Runs | None = []  # its record steps (logger/step_runs.py); None: unknown
        self.dropped = 0  # rows with a step outside 64 bits: History cannot hold them either

    def add_logs(self, logs: Iterable[Any], paths: dict[str, tuple[str, ...]]) -> None:
        """Fold Log events in (meta mode: rows after the last snapshot, or a whole segment
        that has none), keeping no row: rows grouped by key set, then each key's values in
        one pass (History's way), in row order."""
        logs = list(logs)
        if logs and self._add_uniform(logs):
            return
        groups = self._add_rows(logs)
        if groups:
            self._fold_keys(groups, paths)

    def _add_rows(self, logs: list[Any]) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
        """Count the rows and their steps; the rows grouped by key set, each as (row, time,
        *values), for `_fold_keys`."""
        groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        get = groups.get
        top, row, rewritten = self.max_step, 0, 0
        records: list[int] = []  # rows past every earlier step (logger/step_runs.py)
        record, t = records.append, None
        for log in logs:
            step = log.step
            if not STEP_MIN <= step <= STEP_MAX:
                self.dropped += 1  # a step History cannot hold either (64 bits): counted, not a row
                continue
            t, values = log.time, log.values
            if top is None or step > top:
                top = step
                record(step)
            else:
                rewritten += 1
            keys = tuple(values)
            chunk = get(keys)
            if chunk is None:
                chunk = groups[keys] = []
            chunk.append((row, t, *values.values()))
            row += 1
        if not row:
            return groups
        if not self.rows:
            self.first_step = records[0]
        self.max_step, self.rows, self.last_time = top, self.rows + row, t
        self.rewritten += rewritten
        self.runs = step_runs.add(self.runs, records)
        return groups

    def _fold_keys(self, groups: dict[tuple[Any, ...], list[tuple[Any, ...]]],
                   paths: dict[str, tuple[str, ...]]) -> None:
        """Each key's values, in row order across the key sets it came in, into its KeyStat."""
        parts: dict[str, list[tuple[list[Any], list[Any], list[Any]]]] = {}
        for keys, rows in groups.items():
            order, times = list(map(itemgetter(0), rows)), list(map(itemgetter(1), rows))
            for j, key in enumerate(keys, start=2):
                values = list(map(itemgetter(j), rows))
                if type(key) is not str or dict in set(map(type, values)):
                    self._add_nested(key, order, times, values, paths, parts)
                else:
                    parts.setdefault(key, []).append((order, times, values))
        for key, chunks in parts.items():
            if len(chunks) > 1:  # the key came in rows of several key sets: row order again
                # Each column listed now: a generator would read `i` late (every column the values).
                columns = [list(chain.from_iterable([c[i] for c in chunks])) for i in range(3)]
                merged = sorted(zip(*columns), key=itemgetter(0))
                times, values = list(map(itemgetter(1), merged)), list(map(itemgetter(2), merged))
            else:
                _order, times, values = chunks[0]
            stat = self.keys.get(key)
            if stat is None:
                stat = self.keys[key] = KeyStat(first=values[0])
            stat.add_values(values, times[-1])

    def _add_uniform(self, logs: list[Any]) -> bool:
        """The common batch, every row the same flat keys and steps increasing, in C-level
        passes only (~0.2 us a row); False for any other, left untouched."""
        vals = list(map(_values, logs))
        keysets = set(map(tuple, vals))
        if len(keysets) != 1:
            return False
        (keys,) = keysets
        steps = list(map(_step, logs))
        top = self.max_step
        if ((top is not None and steps[0] <= top) or steps[0] < STEP_MIN or steps[-1] > STEP_MAX
                or not all(map(lt, steps, islice(steps, 1, None)))):
            return False
        columns = [list(map(itemgetter(k), vals)) for k in keys]
        if not all(type(k) is str for k in keys) or any(dict in set(map(type, c)) for c in columns):
            return False
        t = logs[-1].time
        if not self.rows:
            self.first_step = steps[0]
        self.max_step, self.rows, self.last_time = steps[-1], self.rows + len(logs), t
        self.runs = step_runs.add(self.runs, steps)
        for key, values in zip(keys, columns):
            stat = self.keys.get(key)
            if stat is None:
                stat = self.keys[key] = KeyStat(first=values[0])
            stat.add_values(values, t)
        return True

    @staticmethod
    def _add_nested(key: Any, order: list[int], times: list[float], values: list[Any],
                    paths: dict[str, tuple[str, ...]], parts: dict[str, list[Any]]) -> None:
        """A key logged as a nested dict: W&B's "a.b" keys, one value at a time."""
        for row, t, value in zip(order, times, values):
            flat: dict[str, Any] = {}
            flatten_into(flat, {key: value}, paths)
            for k, v in flat.items():
                parts.setdefault(k, []).append(([row], [t], [v]))

    @classmethod
    def of_history(cls, history: Any, wants_agg: Any) -> Digest:
        """The same digest from a History's columns (full mode); aggregates only where
        `wants_agg(key)` says a summary shows them (they cost a pass over the column)."""
        d = cls()
        d.rows, d.max_step, d.rewritten = len(history), history.max_step, history.rewritten
        d.last_time = history.times[-1] if len(history.times) else None
        d.first_step = history.steps[0] if len(history.steps) else None
        d.runs = None  # full mode counts rewritten rows from the merged history itself
        d.dropped = history.dropped
        for key, col in history.columns.items():
            if not len(col):
                continue
            stat = KeyStat(last=col.last_value, last_time=col.last_time, numeric=col.numeric,
                           first=col.values[0], agg=False)
            if wants_agg(key):
                numeric = stat.numeric
                stat.agg = True
                stat.add_values(list(col.values), col.last_time)
                stat.last, stat.numeric = col.last_value, numeric
            d.keys[key] = stat
        return d


def combine(digests: list[Digest]) -> Digest:
    """Several writers' digests in the merged history's order: the later writer's last value
    wins, aggregates cover them all (totals added writer by writer, in both modes)."""
    if len(digests) == 1:
        return digests[0]
    out = Digest()
    count = step_runs.rewritten(digests)
    out.rewritten = sum(d.rewritten for d in digests) if count is None else count
    out.runs = None
    for d in digests:
        out.rows += d.rows
        out.dropped += d.dropped
        if d.max_step is not None:
            out.max_step = d.max_step if out.max_step is None else max(out.max_step, d.max_step)
        if d.rows:
            out.last_time = d.last_time
        for key, s in d.keys.items():
            o = out.keys.get(key)
            if o is None:
                out.keys[key] = msgspec.structs.replace(s)
                continue
            o.last, o.last_time, o.numeric = s.last, s.last_time, o.numeric and s.numeric
            o.agg = o.agg and s.agg
            if s.count:
                o.min = min(o.min, s.min) if o.count else s.min
                o.max = max(o.max, s.max) if o.count else s.max
                o.total += s.total
                o.count += s.count
    return out
