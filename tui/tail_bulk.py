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
from operator import add, attrgetter, floordiv, itemgetter, mul, sub
from typing import Any

import msgspec

from logger.textsafe import without_surrogates

from .fmt import (
    encode_json_lines,
    fmt_clock,
    fmt_value,
    iso_time,
    json_float,
    json_safe,
    jsonable,
    short,
    to_json,
)

Rows = list[dict[str, Any]]
_STEP, _TIME, _VALUES = attrgetter("step"), attrgetter("time"), attrgetter("values")
_FIXED_TYPES = {float}
_MILLIS = [f".{ms:03d}+00:00" for ms in range(1000)]
_INLINE = {float, int, bool, str, type(None)}  # kinds whose equal values print the same
_JSON_AS_IS = {int, str, bool, type(None)}


def value_column(col: tuple[Any, ...]) -> tuple[str, Any]:
    """One key's values in a chunk as tail prints them, as a `%` spec and its argument column:
    the text itself (spec "", no column) when every row holds the same value; "%.4f" and the
    floats when each prints with four decimals ("%.4f" % v is what fmt_value gives); "%d" and
    the ints; else "%s" and each value through fmt_value."""
    first = col[0]
    kind = type(first)
    if (kind is str or first is None or kind is float and not first.is_integer()) and col[-1] == first \
            and col.count(first) == len(col):  # only a str, None, such a float equals one: no type pass
        return fmt_value(first), None
    kinds = set(map(type, col))
    if len(kinds) == 1:
        if kind in _INLINE and col[-1] == first and col.count(first) == len(col):  # 0.0 == -0.0: both "0"
            return fmt_value(first), None
        if kind is float:
            lo, hi = min(col), max(col)  # a NaN or an infinity fails both tests: each value then
            if (lo >= 0.01 and hi < 1e6) or (hi <= -0.01 and lo > -1e6):
                return "%.4f", col
        elif kind is int:
            return "%d", col
    return "%s", list(map(fmt_value, col))


def float_column(col: tuple[float, ...]) -> tuple[str, Any]:
    """value_column for a column known to hold floats only (tail_floats): no pass over types."""
    first = col[0]
    if col.count(first) == len(col):  # equal floats print the same (0.0 and -0.0: both "0")
        return fmt_value(first), None
    lo, hi = min(col), max(col)  # a NaN or an infinity fails both tests
    if (lo >= 0.01 and hi < 1e6) or (hi <= -0.01 and lo > -1e6):
        return "%.4f", col
    return "%s", list(map(fmt_value, col))


def log_template(prefix: str, keys: tuple[str, ...], stamps: list[str], steps: list[int],
                 rows: Rows) -> tuple[str, list[Any]]:
    """Human lines for rows that share one key set, "HH:MM:SS  label  step N  k v  k v", as one
    line's `%` template (the text and every value the same on each row written into it) and
    the columns of what differs, so that a line is one C-level `%` of a row of them."""
    cols = list(zip(*map(itemgetter(*keys), rows))) if len(keys) > 1 else [tuple(map(itemgetter(keys[0]), rows))]
    return columns_template(prefix, keys, stamps, steps, cols, value_column)


def columns_template(prefix: str, keys: tuple[str, ...], stamps: list[str], steps: list[int],
                     cols: list[Any], column: Callable[[Any], tuple[str, Any]]) -> tuple[str, list[Any]]:
    """log_template's, from each key's column of values (`column` says how one prints)."""
    args: list[Any] = []
    if stamps[-1] is stamps[0] and stamps.count(stamps[0]) == len(stamps):  # one second: one stamp
        text = stamps[0].replace("%", "%%")
    else:
        text, args = "%s", [stamps]
    text += f"  {prefix}  step ".replace("%", "%%") + "%d"
    args.append(steps)
    for key, col in zip(keys, cols):
        spec, values = column(col)
        text += f"  {_label(key)} ".replace("%", "%%")
        if values is None:
            text += spec.replace("%", "%%")
        else:
            text += spec
            args.append(values)
    return text + "\n", args


def row_major(args: list[Any], n: int) -> tuple[Any, ...]:
    """Columns of `n` values as one row-major tuple (what one `%` of a template repeated n
    times takes): a slice assignment per column, no tuple per row."""
    if len(args) == 1:
        return tuple(args[0])
    width = len(args)
    out: list[Any] = [None] * (n * width)
    for i, col in enumerate(args):
        out[i::width] = col
    return tuple(out)


def log_text(prefix: str, keys: tuple[str, ...], stamps: list[str], steps: list[int], rows: Rows) -> str:
    """`log_block`'s lines as one string: the template repeated, `%` once over every row."""
    template, args = log_template(prefix, keys, stamps, steps, rows)
    return (template * len(rows)) % row_major(args, len(rows))


def float_text(prefix: str, shown: tuple[str, ...], stamps: list[str], steps: list[int], cols: list[Any]) -> str:
    """log_text's lines for rows of float values, from the columns of the keys `shown`."""
    template, args = columns_template(prefix, shown, stamps, steps, cols, float_column)
    return (template * len(steps)) % row_major(args, len(steps))


def log_block(prefix: str, keys: tuple[str, ...], stamps: list[str], steps: list[int], rows: Rows) -> list[str]:
    """Human lines for rows that share one key set: "HH:MM:SS  label  step N  k v  k v"."""
    template, args = log_template(prefix, keys, stamps, steps, rows)
    return list(map(template.__mod__, zip(*args)))


_LABELS: dict[str, str] = {}


def _label(key: str) -> str:
    """A key as a line shows it, escaped and cut (once per key)."""
    label = _LABELS.get(key)
    if label is None:
        if len(_LABELS) > 4096:
            _LABELS.clear()
        label = _LABELS[key] = short(key, 40)
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


def json_block(head: dict[str, Any], keys: tuple[str, ...], isos: list[str | None], times: list[float],
               steps: list[int], rows: Rows) -> list[str]:
    """JSON lines for rows that share one key set (json_text's, split)."""
    return json_text(head, keys, isos, times, steps, rows).splitlines(keepends=True)


def json_text(head: dict[str, Any], keys: tuple[str, ...], isos: list[str | None], times: list[float],
              steps: list[int], rows: Rows) -> str:
    """JSON lines for rows that share one key set, encoded by one msgspec call; output without
    "null" (nearly all) had no NaN or infinity (msgspec's null), else the rows are encoded again
    with them spelled as to_json spells them ("NaN"...: 300k rows half NaN 0.74 s to 0.59 s CPU).
    A key or a value that is not UTF-8: `to_json` a row at a time."""
    if keys and tuple(rows[0]) == keys:
        values = rows  # every key shown, in the row's order: the decoded dicts are the values
    else:
        cols = [list(map(itemgetter(k), rows)) for k in keys]
        values = list(map(dict, map(zip, repeat(keys), zip(*cols)))) if keys else [{} for _ in rows]
    fixed = [without_surrogates(head[k]) for k in ("run", "project", "id", "name")]
    lines = list(map(_LogLine, repeat("log"), *map(repeat, fixed), isos, times, steps, values))
    try:
        data: bytes | None = encode_json_lines(lines)
    except UnicodeEncodeError:  # a key or a value that is not UTF-8: to_json escapes it
        data = None
    del lines
    if data is not None and (b"null" not in data or _plain(values, keys) and all(map(isfinite, times))):
        return json_safe(data).decode()
    if data is not None:  # a NaN, an infinity (null to msgspec): spelled as to_json spells them
        spelled = list(map(_LogLine, repeat("log"), *map(repeat, fixed), isos, map(json_float, times), steps,
                           map(jsonable, values)))
        return json_safe(encode_json_lines(spelled)).decode()
    start = to_json({"kind": "log", **head})[:-1] + b","
    return "".join([(start + to_json({"time": i, "ts": t, "step": s, "values": v})[1:]).decode() + "\n"
                    for i, t, s, v in zip(isos, times, steps, values)])


def json_floats(head: dict[str, Any], keys: tuple[str, ...], isos: list[str | None], times: list[float],
                steps: list[int], cols: list[Any]) -> str | None:
    """json_text's lines for rows of float values, from the columns of the keys shown: each
    row's values a struct whose fields are the keys (encoded as the dict would be, built by
    one C-level call a row), or None where a value or a time needs json_text (NaN, infinity,
    a time no date holds: msgspec writes null) or a key is not UTF-8."""
    kind = _values_struct(keys)
    if kind is None:
        return None
    values = list(map(kind, *cols))
    fixed = [without_surrogates(head[k]) for k in ("run", "project", "id", "name")]
    lines = list(map(_LogLine, repeat("log"), *map(repeat, fixed), isos, times, steps, values))
    try:
        data = encode_json_lines(lines)
    except UnicodeEncodeError:
        return None
    return None if b"null" in data else json_safe(data).decode()


_STRUCTS: dict[tuple[str, ...], Any] = {}


def _values_struct(keys: tuple[str, ...]) -> Any:
    """A struct type whose fields, in order, encode as `keys` (one per key set, kept), or None."""
    found = _STRUCTS.get(keys, False)
    if found is False:
        if len(_STRUCTS) > 256:
            _STRUCTS.clear()
        names = [f"f{i}" for i in range(len(keys))]
        try:
            found = msgspec.defstruct("Values", names, rename=dict(zip(names, keys)), gc=False)
        except ValueError:  # a key msgspec takes for no field name (a quote, a control character)
            found = None
        _STRUCTS[keys] = found
    return found


def _plain(values: Rows, keys: tuple[str, ...]) -> bool:
    """Whether JSON carries every value as it is: no NaN or infinity to spell out, no list."""
    try:  # numbers only (nearly always): their sum is finite only if each is (else: not plain)
        return isfinite(sum(chain.from_iterable(map(dict.values, values))))
    except (TypeError, OverflowError):  # text, None, a list; an int no float holds
        pass
    for key in keys:
        col = list(map(itemgetter(key), values))
        kinds = set(map(type, col))
        if not (kinds <= _JSON_AS_IS or kinds == _FIXED_TYPES and isfinite(sum(col))):
            return False
    return True


def key_groups(rows: Rows) -> list[tuple[tuple[str, ...], list[int] | None]]:
    """Rows by key set: [(keys, None)] when they all share one (nearly always), else each key
    set with the positions of its rows."""
    n = len(rows)
    lengths = list(map(len, rows))
    if lengths.count(lengths[0]) == n and all(t.count(t[0]) == n for t in zip(*rows)):
        return [(tuple(rows[0]), None)]  # each position's key the same in every row: one key set
    sets = list(map(tuple, rows))
    if sets.count(sets[0]) == len(sets):  # C-level: equal key tuples share their strings
        return [(sets[0], None)]
    at: dict[tuple[str, ...], list[int]] = {k: [] for k in dict.fromkeys(sets)}
    for i, keys in enumerate(sets):
        at[keys].append(i)
    return list(at.items())


Block = Callable[[tuple[str, ...], list[int], list[float], Rows], Any]


def grouped_text(groups: list[tuple[tuple[str, ...], list[int] | None]], shown: Callable[..., tuple[str, ...]],
                 steps: list[int], times: list[float], rows: Rows, text: Block, block: Block) -> str:
    """Every row's line in row order: one key set's as one `text` call, several's by `block`
    (a list of lines) a key set at a time, put back in row order."""
    if len(groups) == 1:
        keys = shown(groups[0][0])
        return text(keys, steps, times, rows) if keys else ""
    out: list[str] = [""] * len(rows)
    for keys, picks in groups:
        keys = shown(keys)
        if keys and picks is not None:
            got = itemgetter(*picks) if len(picks) > 1 else lambda seq, i=picks[0]: (seq[i],)
            lines = block(keys, list(got(steps)), list(got(times)), list(got(rows)))
            deque(map(out.__setitem__, picks, lines), 0)
    return "".join(out)


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

    def note_last(self, steps: list[int], last: dict[str, Any]) -> None:
        """`note` of rows of one key set, given their last row."""
        self.note(steps, [last], True)


class Clock:
    """Times as tail prints them, each second formatted once: local HH:MM:SS stamps and ISO
    8601 UTC times with milliseconds (as fmt.iso_time; None where no date holds the time)."""

    def __init__(self) -> None:
        self._clocks: dict[int, str] = {}
        self._isos: dict[int, str] = {}

    def stamp(self, t: float) -> str:
        return self._clock(int(t)) if isfinite(t) else "--:--:--"  # NaN, infinities: a damaged file

    def stamps(self, times: list[float]) -> list[str]:
        lo, hi = min(times), max(times)
        if isfinite(lo) and isfinite(hi) and int(lo) == int(hi) and isfinite(sum(times)):
            return [self._clock(int(lo))] * len(times)  # one second (fast logging): one stamp
        try:
            secs = list(map(int, times))
        except (ValueError, OverflowError):
            return list(map(self.stamp, times))
        new = set(secs).difference(self._clocks)
        if len(self._clocks) + len(new) > 4096:
            self._clocks.clear()
            new = set(secs)
        if len(new) > 4096:
            return list(map(self._clock, secs))
        deque(map(self._clock, new), 0)
        return list(map(self._clocks.__getitem__, secs))

    def _clock(self, sec: int) -> str:
        known = self._clocks
        text = known.get(sec)
        if text is None:
            if len(known) > 4096:
                known.clear()
            try:
                text = known[sec] = fmt_clock(sec)
            except (OverflowError, OSError, ValueError):  # a year no calendar holds
                text = known[sec] = "--:--:--"
        return text

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
        ms = map(floordiv, map(round, map(mul, map(sub, times, secs), repeat(1e6))), repeat(1000))
        bases = {sec: self._base(sec) for sec in set(secs)}
        try:
            return list(map(add, map(bases.__getitem__, secs), map(_MILLIS.__getitem__, ms)))
        except IndexError:  # a time that rounds up to the next second: as datetime does it
            return list(map(self.iso, times))

    def iso_second(self, sec: int) -> str:
        """The date and clock of second `sec` as `iso` writes them, "2026-11-27T12:03:04"."""
        return self._base(sec)

    def _base(self, sec: int) -> str:
        base = self._isos.get(sec)
        if base is None:
            if len(self._isos) > 4096:
                self._isos.clear()
            base = self._isos[sec] = (iso_time(float(sec)) or "")[:-10]  # "2026-11-27T12:03:04"
        return base
