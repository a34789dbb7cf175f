"""A run's metric history held as compact columns, not a list of dicts.

Numbers go into `array` columns (8 bytes a value, plus 8 for its step and 4 for its row);
anything else (strings, bools, lists, None, ints past 64 bits) into a plain list for that key.
Steps may go backwards (a job resumed from an older checkpoint): every write is stored, and
reads take the last value written for each step.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from typing import Any

_NUMBER = (int, float)
_INT64 = 2**63


class Column:
    """One key's values with the step and row of each."""

    __slots__ = ("steps", "values", "rows", "kind", "ordered", "last_time", "last_value")

    def __init__(self) -> None:
        self.steps = array("q")
        self.rows = array("I")
        self.values: Any = array("q")  # "q" while every value is an int, then "d", or a list
        self.kind = "q"
        self.ordered = True  # steps strictly increasing: no step was rewritten
        self.last_time = -math.inf
        self.last_value: Any = None

    def append(self, step: int, row: int, value: Any, time: float) -> None:
        steps = self.steps
        if steps and step <= steps[-1]:
            self.ordered = False
        kind = self.kind
        tv = type(value)
        if kind == "d" and (tv is float or tv is int):
            self.values.append(value)
        elif kind == "q" and tv is int and -_INT64 <= value < _INT64:
            self.values.append(value)
        elif kind == "q" and tv is float:
            self.values = array("d", self.values)
            self.kind = "d"
            self.values.append(value)
        else:
            if kind != "o":
                self.values = list(self.values)
                self.kind = "o"
            self.values.append(value)
        steps.append(step)
        self.rows.append(row)
        if time >= self.last_time:
            self.last_time = time
            self.last_value = value

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def numeric(self) -> bool:
        return self.kind != "o"

    def series(self) -> tuple[list[int], list[Any]]:
        """(steps, values) in step order, one value per step: the last one written."""
        if self.ordered:
            return self.steps.tolist(), list(self.values)
        last: dict[int, Any] = {}
        for step, value in zip(self.steps, self.values):
            last[step] = value
        steps = sorted(last)
        return steps, [last[s] for s in steps]

    def float_values(self) -> list[float]:
        """Numeric values in write order as floats (NaN for what is not a number)."""
        if self.kind == "d":
            return self.values.tolist()
        if self.kind == "q":
            return [float(v) for v in self.values]
        return [float(v) if type(v) in _NUMBER else math.nan for v in self.values]


class History:
    """Every logged row of a run: its step and time, and a column per key."""

    __slots__ = ("steps", "times", "columns", "rewritten", "max_step")

    def __init__(self) -> None:
        self.steps = array("q")
        self.times = array("d")
        self.columns: dict[str, Column] = {}
        self.rewritten = 0  # rows whose step was not past every earlier row's
        self.max_step: int | None = None

    def add(self, step: int, time: float, flat: dict[str, Any]) -> None:
        row = len(self.steps)
        top = self.max_step
        if top is None or step > top:
            self.max_step = step
        else:
            self.rewritten += 1
        self.steps.append(step)
        self.times.append(time)
        columns = self.columns
        for key, value in flat.items():
            col = columns.get(key)
            if col is None:
                col = columns[key] = Column()
            col.append(step, row, value, time)

    def __len__(self) -> int:
        return len(self.steps)

    def keys(self) -> list[str]:
        return list(self.columns)

    def numeric_keys(self) -> list[str]:
        return [k for k, c in self.columns.items() if c.numeric and not k.startswith("_")]

    @property
    def last_step(self) -> int | None:
        """The highest step logged (not the last written: steps may go backwards)."""
        return self.max_step

    def series(self, key: str, x: str = "_step") -> tuple[list[float], list[float]]:
        """(x, y) for one numeric key, one point per step (the last written), in x order.

        x is "_step", "_timestamp" (wall time), "_runtime" (seconds since the first row),
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
            base = times[0] if (x == "_runtime" and times) else 0.0
            xs = [times[r] - base for r in col.rows]
        else:
            xcol = self.columns.get(x)
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
        wanted = self.columns if keys is None else {k: self.columns[k] for k in keys if k in self.columns}
        merged: dict[int, dict[str, Any]] = {}
        start = self.times[0] if self.times else 0.0
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
