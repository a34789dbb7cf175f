"""A run's metric history held as compact columns, not a list of dicts.

Reading is the hot path of the reader: a row is first parked as one tuple in a buffer for its
key set (a few hundred nanoseconds), and buffers are compacted into columns in bulk, with
C-level loops, the first time anything reads the history. Numbers go into `array` columns
(8 bytes a value, plus 8 for its step and 4 for its row); anything else (strings, bools, lists,
None, ints past 64 bits) into a plain list for that key (Column, logger/history_column.py).
Steps may go backwards (a job resumed from an older checkpoint): every write is stored, and
reads take the last value written for each step.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator
from itertools import chain, compress
from operator import itemgetter
from typing import Any

from .flat import flatten_into
from .history_column import Column, increasing

MAX_PARKED = 4096  # rows parked before compaction runs anyway: parked rows cost ~5x columns


class History:
    """Every logged row of a run: its step and time, and a column per key."""

    __slots__ = ("steps", "times", "_columns", "rewritten", "max_step", "dropped", "_pending",
                 "_paths", "_parked", "keep", "_writers", "_overlaps", "start")

    def __init__(self, paths: dict[str, tuple[str, ...]] | None = None, keep: bool = True) -> None:
        self.keep = keep  # False: only each key's last value (a follower that prints, like tail)
        self.steps = array("q")
        self.times = array("d")
        self._columns: dict[str, Column] = {}
        self.rewritten = 0  # rows whose step was not past every earlier row's
        self.max_step: int | None = None
        self.dropped = 0  # rows that cannot be held (a step outside 64 bits)
        self._writers: list[History] = []  # a merged history: the writers' own (see merge)
        self._overlaps: int | None = None
        self._pending: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        self._parked = 0
        self._paths = paths if paths is not None else {}  # flat key -> path, for nested dicts
        # _runtime's zero: the run's start (RunData sets its created_at, as W&B counts from
        # wandb.init); None (a history of no run): the first row's time
        self.start: float | None = None

    def add(self, step: int, time: float, values: dict[str, Any]) -> None:
        """Park one row for compaction; O(1) and allocation-light on the reader's hot path."""
        row = len(self.steps)
        try:
            self.steps.append(step)
        except OverflowError:
            self.dropped += 1
            return
        self.times.append(time)
        top = self.max_step
        if top is None or step > top:
            self.max_step = step
        else:
            self.rewritten += 1
        keys = tuple(values)
        pending = self._pending.get(keys)
        if pending is None:
            pending = self._pending[keys] = []
        pending.append((row, step, time, *values.values()))
        self._parked += 1
        if self._parked > MAX_PARKED:
            self._compact()

    def add_logs(self, logs: list[Any]) -> None:
        """`add` for many Log events: the reader's inner loop, with everything in locals."""
        steps, times, pending = self.steps, self.times, self._pending
        append_step, append_time, get = steps.append, times.append, pending.get
        top = self.max_step
        rewritten = 0
        row = len(steps)
        for log in logs:
            step = log.step
            try:
                append_step(step)
            except OverflowError:
                self.dropped += 1
                continue
            time = log.time
            append_time(time)
            if top is None or step > top:
                top = step
            else:
                rewritten += 1
            values = log.values
            keys = tuple(values)
            chunk = get(keys)
            if chunk is None:
                chunk = pending[keys] = []
            chunk.append((row, step, time, *values.values()))
            row += 1
        self.max_step = top
        self.rewritten += rewritten
        self._parked += len(logs)
        if self._parked > MAX_PARKED or not self.keep:
            self._compact()

    # -- compaction -------------------------------------------------------------------------
    def _compact(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        self._parked = 0
        parts: dict[str, list[tuple[Any, ...]]] = {}
        for keys, rows in pending.items():
            if not all(type(k) is str for k in keys):
                keys = tuple(k if type(k) is str else str(k) for k in keys)
            row_ids = list(map(itemgetter(0), rows))
            steps = list(map(itemgetter(1), rows))
            times = list(map(itemgetter(2), rows))
            ordered = increasing(steps)
            # Arrays built once per key set: each column's extend is then a memcpy.
            steps_a, rows_a = array("q", steps), array("I", row_ids)
            for j, key in enumerate(keys, start=3):
                values = list(map(itemgetter(j), rows))
                if dict in set(map(type, values)):
                    self._add_nested(key, row_ids, steps, times, values, parts)
                else:
                    parts.setdefault(key, []).append((rows_a, steps_a, times, values, ordered))
        self._extend_parts(parts)
        if not self.keep:
            self._forget()

    def _forget(self) -> None:
        """Keep only the last row of every column: memory stays flat however long a run logs."""
        cols = [c for c in self._columns.values() if len(c)]
        for col in cols:
            if len(col) > 1:
                del col.steps[:-1], col.rows[:-1], col.values[:-1]
        if len(self.steps) > 1:
            # Keep the rows the kept values are in (their times), renumbered to match.
            kept = sorted({c.rows[0] for c in cols} | {len(self.steps) - 1})
            index = {row: i for i, row in enumerate(kept)}
            self.steps = array("q", [self.steps[r] for r in kept])
            self.times = array("d", [self.times[r] for r in kept])
            for col in cols:
                col.rows[0] = index[col.rows[0]]

    def _extend_parts(self, parts: dict[str, list[tuple[Any, ...]]]) -> None:
        for key, chunks in parts.items():
            if len(chunks) == 1:
                rows_, steps_, times_, values_, ordered_ = chunks[0]
                self._column(key).extend(steps_, rows_, values_, times_, ordered_)
                continue
            # The key came in rows of several key sets: put its values back in row order.
            fields = [list(chain.from_iterable(c[i] for c in chunks)) for i in range(4)]
            merged = sorted(zip(*fields), key=itemgetter(0))
            rows_, steps_, times_, values_ = (list(map(itemgetter(i), merged)) for i in range(4))
            self._column(key).extend(steps_, rows_, values_, times_)

    def _add_nested(self, key: str, rows: list[int], steps: list[int], times: list[float],
                    values: list[Any], parts: dict[str, list[Any]]) -> None:
        """A key logged as a nested dict: W&B's "a.b" history keys."""
        plain = [type(v) is not dict for v in values]
        if any(plain):
            parts.setdefault(key, []).append(
                (*(list(compress(x, plain)) for x in (rows, steps, times, values)), None))
        for row, step, time, value in zip(rows, steps, times, values):
            if type(value) is dict:
                flat: dict[str, Any] = {}
                flatten_into(flat, {key: value}, self._paths)
                for k, v in flat.items():
                    parts.setdefault(k, []).append(([row], [step], [time], [v], True))

    def _column(self, key: str) -> Column:
        col = self._columns.get(key)
        if col is None:
            col = self._columns[key] = Column()
        return col

    # -- reading ----------------------------------------------------------------------------
    @property
    def columns(self) -> dict[str, Column]:
        self._compact()
        return self._columns

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def overlaps(self) -> int:
        """Steps at which more than one writer logged the same key (0 for one writer):
        history shows the last writer's value there. Counted on first use."""
        if self._overlaps is None:
            self._overlaps = overlapping_steps(self._writers)
        return self._overlaps

    def keys(self) -> list[str]:
        return list(self.columns)

    def zero(self) -> float:
        """`_runtime`'s zero: `start`, else the first row's time."""
        if self.start is not None:
            return self.start
        return self.times[0] if self.times else 0.0

    def numeric_keys(self) -> list[str]:
        return [k for k, c in self.columns.items() if c.numeric and not k.startswith("_")]

    @property
    def last_step(self) -> int | None:
        """The highest step logged (not the last written: steps may go backwards)."""
        return self.max_step

    def series(self, key: str, x: str = "_step") -> tuple[list[float], list[float]]:
        """(x, y) for one numeric key, one point per step (the last written), in x order.

        x is "_step", "_timestamp" (wall time), "_runtime" (seconds since the run's start),
        or another key logged in the same rows (W&B's step_metric).
        """
        col = self.columns.get(key)
        if col is None or not len(col):
            return [], []
        ys = col.float_values()
        if x == "_step":
            xs: list[float] = [float(s) for s in col.steps]
        elif x in ("_timestamp", "_runtime"):
            times = self.times
            base = self.zero() if x == "_runtime" else 0.0
            xs = [times[r] - base for r in col.rows]
        else:
            xcol = self._columns.get(x)
            if xcol is None:
                return [], []
            by_row = dict(zip(xcol.rows, xcol.float_values()))
            pairs = [(by_row[r], y) for r, y in zip(col.rows, ys) if r in by_row]
            pairs.sort(key=lambda p: p[0])
            return [p[0] for p in pairs], [p[1] for p in pairs]
        if col.ordered:
            return xs, ys
        last: dict[int, tuple[float, float]] = {}
        for step, xv, yv in zip(col.steps, xs, ys):
            last[step] = (xv, yv)
        pts = [last[s] for s in sorted(last)]
        return [p[0] for p in pts], [p[1] for p in pts]

    def rows(
        self, keys: list[str] | None = None, min_step: int | None = None, max_step: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """W&B-shaped rows: `_step`, `_timestamp`, `_runtime` and the values, in step order.

        Rows that share a step (rewritten after a resume, or split by `commit=False` across
        segments) merge, later writes winning.
        """
        columns = self.columns
        wanted = columns if keys is None else {k: columns[k] for k in keys if k in columns}
        merged: dict[int, dict[str, Any]] = {}
        start = self.zero()
        for step, time in zip(self.steps, self.times):
            if (min_step is not None and step < min_step) or (max_step is not None and step >= max_step):
                continue
            entry = merged.get(step)
            if entry is None:
                entry = merged[step] = {"_step": step}
            entry["_timestamp"] = time
            entry["_runtime"] = time - start
        for key, col in wanted.items():
            for step, value in zip(col.steps, col.values):
                entry = merged.get(step)
                if entry is not None:
                    entry[key] = value
        for step in sorted(merged) if self.rewritten else merged:
            row = merged[step]
            if keys is not None and not any(k in row for k in keys):
                continue
            yield row

    # -- what is new since a position (followers that decimate as they read: the TUI) ------
    def numeric_count(self, key: str) -> int:
        """Values of `key` written so far, in write order; 0 if absent or not numeric."""
        col = self.columns.get(key)
        return len(col) if col is not None and col.numeric else 0

    def in_step_order(self, key: str) -> bool:
        """True unless a step of `key` was written again or out of order (then read series())."""
        col = self.columns.get(key)
        return col is None or col.ordered

    def values_since(self, key: str, start: int, x: str = "_step") -> tuple[Any, Any]:
        """(x values, values) of numeric `key` written at positions >= `start`, in write order.

        x is "_step", "_timestamp", "_runtime" (seconds since the run's start) or another
        numeric key, paired by row (rows without it are left out). Cheap: a follower that
        remembers how far it read costs O(new values) per call (x a key: O(new log n)).
        """
        col = self.columns.get(key)
        if col is None or not col.numeric:
            return [], []
        if x == "_step":
            return col.steps[start:], col.values[start:]
        if x not in ("_timestamp", "_runtime"):
            xcol = self._columns.get(x)
            if xcol is None or not xcol.numeric:
                return [], []
            xrows, rows = xcol.rows, col.rows[start:]
            hit = [(j, v) for j, r, v in zip(map(bisect_left, [xrows] * len(rows), rows), rows,
                                             col.values[start:]) if j < len(xrows) and xrows[j] == r]
            return [float(xcol.values[j]) for j, _ in hit], [v for _, v in hit]
        times = self.times
        base = self.zero() if x == "_runtime" else 0.0
        return [times[r] - base for r in col.rows[start:]], col.values[start:]


def overlapping_steps(histories: list[History]) -> int:
    """Steps at which two or more of these writers logged the same key."""
    if len(histories) < 2:
        return 0
    shared: set[int] = set()
    for key in {k for h in histories for k in h.columns}:
        cols = [h.columns[key] for h in histories if key in h.columns]
        if len(cols) < 2:
            continue
        seen: set[int] = set()
        for col in cols:
            mine = set(col.steps)
            shared |= seen & mine
            seen |= mine
    return len(shared)
