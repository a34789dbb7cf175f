"""scan_history's rows built as W&B's rows as a frame is taken apart: each decoded values dict
with `_step`, `_timestamp` and `_runtime` put in (it becomes the row: no dict made per row),
and rows that share a step merged (logger/history_read.py).

Where a row's time goes (1M rows of 8 floats, all varying, against the floor: a plain msgspec
decode): the three keys ~0.2x, half of it the third, which outgrows the table msgspec's dict
of 8 keys has (room for 10) — a dict presized for 11 made by a display, a merge or a copy
costs more than that resize.
"""

from __future__ import annotations

from itertools import compress
from typing import Any

import msgspec

from . import events as ev
from .flat import flatten_into
from .history_frames import FlatLog

__all__ = ["as_flat", "build_page", "build_tuples", "merge_steps"]

Row = dict[str, Any]
_BASE = ("_step", "_timestamp", "_runtime")


def build_tuples(events: list[tuple[str, int, float, Row]], start: float) -> bool:
    """Each ("log", step, time, values) tuple's values with `_step`, `_timestamp`, `_runtime`,
    as HistoryScan.build puts them (a loop over the tuples: maps of setitems or updates were
    slower); whether the steps rise strictly, seen in the same loop (~6 ns a row, where
    `increasing` after it is ~20: its map calls `lt` for each pair)."""
    rising, last = True, events[0][1] - 1 if events else 0
    for _tag, step, time, row in events:
        row["_step"] = step
        row["_timestamp"] = time
        row["_runtime"] = time - start
        if step <= last:
            rising = False
        last = step
    return rising


def build_page(events: list[tuple[str, int, float, Row]], start: float) -> tuple[list[Row], bool]:
    """`build_tuples`, the rows listed in the same loop: (the page, whether the steps rise
    strictly). A map of itemgetter after the loop, and a generator layer a frame, were ~0.01x of the floor more."""
    page: list[Row] = []
    append = page.append
    rising, last = True, events[0][1] - 1 if events else 0
    for _tag, step, time, row in events:
        row["_step"] = step
        row["_timestamp"] = time
        row["_runtime"] = time - start
        append(row)
        if step <= last:
            rising = False
        last = step
    return page, rising


def merge_steps(steps: list[int], times: list[float], rows: list[Row],
                 built: bool = False) -> tuple[list[int], list[float], list[Row]]:
    """Consecutive rows at one step as one row (commit=False across flushes, or a resume that
    went on at the step it stopped at): later values and the later time win. `built` rows hold
    `_step`, `_timestamp`, `_runtime` already: the merged row gets the later's last, as build
    puts them."""
    keep = [True] * len(steps)
    last = 0
    for i in range(1, len(steps)):
        if steps[i] == steps[last]:
            merged = dict(rows[last])
            merged.update(rows[i])
            if built:
                for key in _BASE:
                    merged[key] = merged.pop(key)
            rows[last] = merged
            times[last] = times[i]
            keep[i] = False
        else:
            last = i
    return list(compress(steps, keep)), list(compress(times, keep)), list(compress(rows, keep))


def as_flat(e: Any) -> Any:
    """A row event as something with flat `values` (a Log's nested ones as "a.b" keys)."""
    kind = type(e)
    if kind is tuple:
        return FlatLog(*e[1:])
    return _flat_log(e) if kind is ev.Log else e


class _Flat(msgspec.Struct, gc=False):
    step: int
    time: float
    values: dict[str, Any]


def _flat_log(e: Any) -> _Flat:
    """A Log whose values nest (or have keys that are not strings) as W&B's "a.b" keys."""
    flat: dict[str, Any] = {}
    flatten_into(flat, e.values, {})
    return _Flat(e.step, e.time, flat)
