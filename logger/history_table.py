"""What W&B's history() takes from a scan (logger/history_read.py): `samples` rows sampled from
the run (the first, the last, the rest at seeded random positions), and DataFrame columns gathered from the decoded values a chunk at a time by C-level
passes (one per key), with no row dict built: the rows are counted, then picked, without
`_step`, `_timestamp` and `_runtime` being put in every one.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from itertools import chain, repeat
from operator import itemgetter, sub
from typing import Any

from .history_order import apart
from .history_read import HistoryScan, Row
from .sampling import positions

__all__ = ["BASE", "frame", "frame_columns", "positions", "sampled_pages"]

BASE = ("_step", "_timestamp", "_runtime")
_BASE = frozenset(BASE)
Chunk = tuple[list[int], list[float], list[Row]]


def sampled_pages(scan: HistoryScan, samples: int) -> list[list[Row]]:
    """W&B's history(samples=N): N rows of the run at the positions `positions` picks. Rows
    are counted in one pass and only the picked ones built in a second, so memory is bounded
    by `samples`, not by the run."""
    return [scan.build(*c) for c in _sampled(scan, samples)]


def frame(scan: HistoryScan, samples: int, order: tuple[str, ...] | None = None) -> dict[str, list[Any]]:
    """history(pandas=True)'s columns: `samples` rows as sampled_pages picks them (every row
    for 0), `_step`, `_timestamp`, `_runtime` first, then `order` (else every key); NaN
    where a row lacks a key, as W&B's pd.DataFrame(rows)."""
    cols = Columns(order)
    for steps, times, rows in _sampled(scan, samples):
        cols.add(steps, times, rows, scan.zero)
    return cols.out()


def _sampled(scan: HistoryScan, samples: int) -> list[Chunk]:
    """The chunks of the sampled rows. Rows are counted in a first pass, picked in a second;
    where the scan's first pass already says how many there are (every key, no window, steps
    strictly rising: a row a Log), the picking pass alone, checked by the rows it sees (a
    count that was off, e.g. damage a snapshot counted: both passes after all). history() of
    1M rows: one read, where it was two."""
    n = _rows_known(scan, samples)
    if n is not None:
        picked, seen = _picked(scan, samples, n, count=True)
        if seen == n:
            return picked
    kept, n = _first(scan, samples)
    return kept if kept is not None else _picked(scan, samples, n)[0]


def _rows_known(scan: HistoryScan, samples: int) -> int | None:
    """The scan's rows as its first pass counted them, where each Log is likely one row (steps
    strictly rising, or as many Logs as steps from the first to the last: a script's log()
    calls) and there are more than `samples`; else None (counted as read)."""
    if samples <= 0 or scan.keys is not None or scan.window != (None, None) or not scan.streams:
        return None
    writers = scan.writers
    if not (scan.strict or apart(writers) and all(
            w.first is not None and w.last is not None and w.rows == w.last - w.first + 1 for w in writers)):
        return None
    n = sum(w.rows for w in writers)
    return n if n > samples else None


def _first(scan: HistoryScan, samples: int) -> tuple[list[Chunk] | None, int]:
    """Pass one: the selected chunks while they are `samples` rows at most, and the count."""
    if samples < 0:
        raise ValueError(f"history(samples={samples}): a number of rows, or 0 for every row")
    kept: list[Chunk] | None = []
    n = 0
    for chunk in scan.chunks():
        steps, times, rows = scan.selected(*chunk)
        del chunk
        n += len(steps)
        if kept is not None and (not samples or n <= samples):
            kept.append((steps, times, rows))
        else:
            kept = None
        del steps, times, rows
    return kept, n


def _picked(scan: HistoryScan, samples: int, n: int, count: bool = False) -> tuple[list[Chunk], int]:
    """Pass two: the rows at the sampled positions, each chunk's picked in C-level passes, and
    the rows seen (`count`: every one, read to the end; else up to the last picked)."""
    wanted = positions(n, samples)
    out: list[Chunk] = []
    base = i = 0
    for chunk in scan.chunks():
        steps, times, rows = scan.selected(*chunk)
        del chunk
        end = base + len(steps)
        j = bisect_left(wanted, end, i)
        if j > i:
            at = [w - base for w in wanted[i:j]]  # at most `samples` in all
            out.append(([steps[a] for a in at], [times[a] for a in at], [rows[a] for a in at]))
        i, base = j, end
        del steps, times, rows
        if i == len(wanted) and not count:
            break
    return out, base


class Columns:
    """Columns grown a chunk at a time: `_step`, `_timestamp`, `_runtime`, then each key in
    the order first seen (or `order`'s), `missing` where a row lacks it (NaN, as in the frame
    W&B builds from its rows, pd.DataFrame(rows))."""

    def __init__(self, order: tuple[str, ...] | None = None, missing: Any = math.nan) -> None:
        self.order, self.missing = order, missing
        self.cols: dict[str, list[Any]] = {k: [] for k in (*BASE, *(order or ()))}
        self.n = 0

    def add(self, steps: list[int], times: list[float], rows: list[Row], start: float) -> None:
        cols, n = self.cols, self.n
        cols["_step"] += steps
        cols["_timestamp"] += times
        cols["_runtime"] += map(sub, times, repeat(start))
        self.n = n + len(steps)
        if not rows:
            return
        names = tuple(rows[0]) if self.order is None else self.order
        same = _uniform(rows, names) if names and _BASE.isdisjoint(names) else None  # not a History's rows
        if self.order is None:
            for key in names if same is not None else dict.fromkeys(chain.from_iterable(rows)):
                if key not in cols:
                    cols[key] = [self.missing] * n
        if same is not None:  # every row these keys, none else: one C-level transposition
            for key, values in zip(names, same):
                cols[key] += values
        for key, column in cols.items():
            if key not in BASE and (same is None or key not in names):
                column += map(dict.get, rows, repeat(key), repeat(self.missing))

    def out(self) -> dict[str, list[Any]]:
        """The columns (none at all for no rows and no `order`, as a frame of no rows)."""
        return self.cols if self.n or self.order is not None else {}


def _uniform(rows: list[Row], names: tuple[str, ...]) -> list[tuple[Any, ...]] | None:
    """Each of `names`' values down the rows, where every row holds those keys and no other
    (nearly every chunk); None otherwise."""
    if set(map(len, rows)) != {len(names)}:
        return None
    try:
        values = list(map(itemgetter(*names), rows))
    except KeyError:
        return None
    return list(zip(*values)) if len(names) > 1 else [tuple(values)]


def frame_columns(pages: list[list[Row]], order: tuple[str, ...] | None = None) -> dict[str, list[Any]]:
    """Built rows as columns for a DataFrame (None where a row lacks a key), each gathered by
    C-level maps; `_step`, `_timestamp`, `_runtime` first."""
    if order is None:
        names = dict.fromkeys(chain.from_iterable(chain.from_iterable(pages)))
        order = (*(k for k in BASE if k in names), *(k for k in names if k not in BASE))
    return {k: list(chain.from_iterable(map(dict.get, page, repeat(k)) for page in pages)) for k in order}
