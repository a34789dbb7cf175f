"""One key's column of a run's history (logger/history.py): numbers in `array` columns (8 bytes
a value, plus 8 for its step and 4 for its row), anything else in a plain list, each value with
the step and row it was logged at.
"""

from __future__ import annotations

import math
from array import array
from itertools import islice
from operator import lt
from typing import Any

_INT64 = 2**63
_NUMERIC_TYPES = frozenset((int, float))
_FLOAT = frozenset((float,))
_INT = frozenset((int,))


def increasing(steps: Any) -> bool:
    """Steps strictly increasing (no step rewritten): one C-level pass."""
    return all(map(lt, steps, islice(steps, 1, None)))


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

    def extend(self, steps: list[int], rows: list[int], values: list[Any], times: list[float],
               ordered: bool | None = None) -> None:
        """Append many values at once (what compaction calls); `ordered`: steps increase."""
        if not values:
            return
        if self.ordered:
            if ordered is None:
                ordered = increasing(steps)
            if not ordered or (self.steps and steps[0] <= self.steps[-1]):
                self.ordered = False
        kinds = set(map(type, values))
        if self.kind == "d" and (kinds == _FLOAT or kinds <= _NUMERIC_TYPES):
            self.values.extend(values)
        elif self.kind == "q" and kinds == _INT and -_INT64 <= min(values) and max(values) < _INT64:
            self.values.extend(values)
        elif self.kind == "q" and (kinds == _FLOAT or kinds <= _NUMERIC_TYPES and _fits_double(values)):
            self.values = array("d", self.values)
            self.values.extend(values)
            self.kind = "d"
        else:
            if self.kind != "o":
                self.values = list(self.values)
                self.kind = "o"
            self.values.extend(values)
        self.steps.extend(steps)
        self.rows.extend(rows)
        # The last value read, not the latest by clock: a clock that steps back mid-run must
        # not make an older value the summary's.
        self.last_time, self.last_value = times[-1], values[-1]

    def extend_from(self, other: Column, row_base: int) -> None:
        """Append another writer's column, its rows shifted by `row_base` (see `merge`)."""
        if not len(self) or (self.kind == other.kind and other.kind != "o"):
            if not len(self):
                self.kind = other.kind
                self.values = array(other.kind) if other.kind != "o" else []
            self.ordered = self.ordered and other.ordered and (
                not self.steps or other.steps[0] > self.steps[-1])
            self.values.extend(other.values)  # array to array: a copy, no Python objects
            self.steps.extend(other.steps)
            self.rows.extend(array("I", map(row_base.__add__, other.rows)))
            self.last_time, self.last_value = other.last_time, other.last_value
            return
        values = other.values if other.kind == "o" else other.values.tolist()
        self.extend(other.steps.tolist(), [r + row_base for r in other.rows], values,
                    [other.last_time], other.ordered)
        self.last_value = other.last_value

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
        """Values in write order as floats (NaN for what is not a number)."""
        if self.kind == "d":
            return self.values.tolist()
        if self.kind == "q":
            return [float(v) for v in self.values]
        return [float(v) if type(v) in _NUMERIC_TYPES else math.nan for v in self.values]


def _fits_double(values: list[Any]) -> bool:
    """Ints up to 2**53 are exact as doubles; larger ones keep their own list."""
    ints = [v for v in values if type(v) is int]
    return not ints or (-(2**53) <= min(ints) and max(ints) <= 2**53)
