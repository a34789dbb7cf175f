"""`runwatch tail`'s Log lines in bulk: a chunk of steps at a time, not a value at a time.

Per key set, the keys are escaped once and one format string is built (a value that is the
same on every row of the chunk, as a learning rate or an epoch often is, is written into it);
each line is then one C-level `%`. JSON rows are msgspec structs encoded by one call per chunk.
Every line reads as the same line formatted a value at a time (tail_lines, fmt.fmt_value):
tests/test_tail_bulk.py checks that over odd values.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from itertools import chain, repeat
from math import isfinite
from operator import attrgetter, floordiv, itemgetter, mul, sub
from typing import Any

import msgspec

from logger.textsafe import escape_json, without_surrogates

from .fmt import _encode_json, fmt_clock, fmt_value, iso_time, short, to_json

Rows = list[dict[str, Any]]
_STEP, _TIME, _VALUES = attrgetter("step"), attrgetter("time"), attrgetter("values")
_FIXED_TYPES = {float}
_INLINE = {float, int, bool, str, type(None)}  # kinds whose equal values print the same
_JSON_AS_IS = {int, str, bool, type(None)}
_NUMBERS = {int, float, bool}


def value_column(col: list[Any]) -> tuple[str | None, Any]:
    """One key's values in a chunk as tail prints them: (None, the text) when every row holds
    the same value; ("%.4f", the floats) when each prints with four decimals; ("%d", the ints);
    else ("%s", each value through fmt_value)."""
    kinds = set(map(type, col))
    if len(kinds) == 1:
        kind = next(iter(kinds))
        if kind in _INLINE and col[-1] == col[0] and col.count(col[0]) == len(col):  # 0.0 == -0.0: both "0"
            return None, fmt_value(col[0])
        if kind is float:
            lo, hi = min(col), max(col)  # a NaN or an infinity fails both tests: each value then
            if (lo >= 0.01 and hi < 1e6) or (hi <= -0.01 and lo > -1e6):
                return "%.4f", col
        elif kind is int:
            return "%d", col
    return "%s", list(map(fmt_value, col))


def log_block(prefix: str, keys: tuple[str, ...], stamps: list[str], steps: list[int], rows: Rows) -> list[str]:
    """Human lines for rows that share one key set: "HH:MM:SS  label  step N  k v  k v"."""
    cols, parts = [], []
    for key in keys:
        mode, col = value_column(list(map(itemgetter(key), rows)))
        if mode is None:
            parts.append(f"{_label(key)} {col.replace('%', '%%')}")
        else:
            cols.append(col)
            parts.append(f"{_label(key)} {mode}")
    one_second = stamps[-1] is stamps[0] and stamps.count(stamps[0]) == len(stamps)  # written in
    head = stamps[0].replace("%", "%%") if one_second else "%s"
    template = f"{head}  {prefix.replace('%', '%%')}  step %d  " + "  ".join(parts) + "\n"
    args = zip(steps, *cols) if one_second else zip(stamps, steps, *cols)
    return list(map(template.__mod__, args))


_LABELS: dict[str, str] = {}


def _label(key: str) -> str:
    """A key as a line shows it, escaped and cut, with `%` doubled (once per key)."""
    label = _LABELS.get(key)
    if label is None:
        if len(_LABELS) > 4096:
            _LABELS.clear()
        label = _LABELS[key] = short(key, 40).replace("%", "%%")
    return label


class _LogLine(msgspec.Struct, gc=False):
    """A "log" line as JSON, its fields in the schema's order (tui/tail.py)."""

    kind: str
    run: str
    project: str
    id: str
    name: str
    time: str | None
    ts: float
    step: int
    values: dict[str, Any]


_NEXT_LINE = b'},{"kind":"log",'


def json_block(head: dict[str, Any], keys: tuple[str, ...], isos: list[str | None], times: list[float],
               steps: list[int], rows: Rows) -> list[str]:
    """JSON lines for rows that share one key set, encoded by one msgspec call; rows holding a
    NaN, an infinity or a list go through `to_json` one at a time (NaN as "nan")."""
    if keys and tuple(rows[0]) == keys:
        values = rows  # every key shown, in the row's order: the decoded dicts are the values
    else:
        cols = [list(map(itemgetter(k), rows)) for k in keys]
        values = list(map(dict, map(zip, repeat(keys), zip(*cols)))) if keys else [{} for _ in rows]
    if _plain(values) and all(map(isfinite, times)):
        fixed = [without_surrogates(head[k]) for k in ("run", "project", "id", "name")]
        lines = list(map(_LogLine, repeat("log"), *map(repeat, fixed), isos, times, steps, values))
        try:
            data = _encode_json(lines)
        except UnicodeEncodeError:  # a key or a value that is not UTF-8: to_json escapes it
            pass
        else:
            # With flat values of these kinds no object nests in a line, and inside a string
            # every '"' is escaped: this separator is found only between two lines.
            data = data[1:-1].replace(_NEXT_LINE, b'}\n{"kind":"log",') + b"\n"
            return escape_json(data).decode().splitlines(keepends=True)
    start = to_json({"kind": "log", **head})[:-1] + b","
    return [(start + to_json({"time": i, "ts": t, "step": s, "values": v})[1:]).decode() + "\n"
            for i, t, s, v in zip(isos, times, steps, values)]


def _plain(values: Rows) -> bool:
    """Whether JSON carries every value as it is: no NaN or infinity to spell out, no list."""
    kinds = set(map(type, chain.from_iterable(map(dict.values, values))))
    if kinds <= _JSON_AS_IS:
        return True
    if not kinds <= _NUMBERS:
        return False
    try:
        return isfinite(sum(chain.from_iterable(map(dict.values, values))))  # overflow: not plain
    except OverflowError:
        return False


def key_groups(rows: Rows) -> list[tuple[tuple[str, ...], list[int] | None]]:
    """Rows by key set: [(keys, None)] when they all share one (nearly always), else each key
    set with the positions of its rows."""
    sets = list(map(tuple, rows))
    if sets.count(sets[0]) == len(sets):  # C-level: equal key tuples share their strings
        return [(sets[0], None)]
    at: dict[tuple[str, ...], list[int]] = {k: [] for k in dict.fromkeys(sets)}
    for i, keys in enumerate(sets):
        at[keys].append(i)
    return list(at.items())


Block = Callable[[tuple[str, ...], list[int], list[float], Rows], list[str]]


def grouped_lines(groups: list[tuple[tuple[str, ...], list[int] | None]], shown: Callable[..., tuple[str, ...]],
                  steps: list[int], times: list[float], rows: Rows, block: Block) -> list[str]:
    """Every row's line in row order, each key set's lines made by one `block` call."""
    if len(groups) == 1:
        keys = shown(groups[0][0])
        return block(keys, steps, times, rows) if keys else []
    out: list[str] = [""] * len(rows)
    for keys, picks in groups:
        keys = shown(keys)
        if keys and picks is not None:
            got = itemgetter(*picks) if len(picks) > 1 else lambda seq, i=picks[0]: (seq[i],)
            lines = block(keys, list(got(steps)), list(got(times)), list(got(rows)))
            deque(map(out.__setitem__, picks, lines), 0)
    return out


def log_columns(logs: list[Any]) -> tuple[list[int], list[float], Rows]:
    """Steps, times and flat values of Log events (FlatLog's as decoded, others flattened)."""
    from logger.history_read import FlatLog
    from logger.values import flatten_into

    steps, times, rows = list(map(_STEP, logs)), list(map(_TIME, logs)), list(map(_VALUES, logs))
    kinds = list(map(type, logs))
    if kinds.count(FlatLog) != len(kinds):
        for i, kind in enumerate(kinds):
            if kind is not FlatLog:
                flat: dict[str, Any] = {}
                flatten_into(flat, rows[i], "", {})
                rows[i] = flat
    return steps, times, rows


class Noted:
    """What a replay's lines showed of one run: its last value of every key, its top step."""

    __slots__ = ("last", "step")

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}
        self.step: int | None = None

    def note(self, steps: list[int], rows: Rows, uniform: bool) -> None:
        top = max(steps)
        self.step = top if self.step is None else max(self.step, top)
        if uniform:  # one key set: the last row holds every key's last value
            self.last.update(rows[-1])
        else:
            deque(map(self.last.update, rows), 0)


class Clock:
    """Times as tail prints them, each second formatted once: local HH:MM:SS stamps and ISO
    8601 UTC times with milliseconds (as fmt.iso_time; None where no date holds the time)."""

    def __init__(self) -> None:
        self._clocks: dict[int, str] = {}
        self._isos: dict[int, str] = {}

    def stamp(self, t: float) -> str:
        return self.stamps([t])[0]

    def stamps(self, times: list[float]) -> list[str]:
        try:
            secs = list(map(int, times))
        except (ValueError, OverflowError):  # NaN or an infinity, from a damaged file
            return [self.stamp(t) if isfinite(t) else "--:--:--" for t in times]
        known = self._clocks
        if len(known) > 4096:
            known.clear()
        for sec in set(secs).difference(known):
            try:
                known[sec] = fmt_clock(sec)
            except (OverflowError, OSError, ValueError):  # a year no calendar holds
                known[sec] = "--:--:--"
        return list(map(known.__getitem__, secs))

    def iso(self, t: float) -> str | None:
        """iso_time(t), its date and clock formatted once per second."""
        if not 0 <= t < 1e11:
            try:
                return iso_time(t)
            except (OverflowError, OSError, ValueError):
                return None
        frac, whole = math.modf(t)
        us = round(frac * 1e6)  # as datetime rounds a timestamp: half to even
        if us >= 1_000_000:
            return iso_time(t)
        return f"{self._base(int(whole))}.{us // 1000:03d}+00:00"

    def isos(self, times: list[float]) -> list[str | None]:
        """`iso` of many times, by C-level passes (the same arithmetic, a column at a time)."""
        if not times or not all(map(isfinite, times)) or min(times) < 0 or max(times) >= 1e11:
            return list(map(self.iso, times))
        secs = list(map(int, times))
        us = list(map(round, map(mul, map(sub, times, secs), repeat(1e6))))
        if max(us) >= 1_000_000:
            return list(map(self.iso, times))
        bases = {sec: self._base(sec) for sec in set(secs)}
        return list(map("%s.%03d+00:00".__mod__, zip(map(bases.__getitem__, secs), map(floordiv, us, repeat(1000)))))

    def _base(self, sec: int) -> str:
        base = self._isos.get(sec)
        if base is None:
            if len(self._isos) > 4096:
                self._isos.clear()
            base = self._isos[sec] = (iso_time(float(sec)) or "")[:-10]  # "2026-11-27T12:03:04"
        return base
