"""tail's JSON lines for frames of float rows (tail_floats), as one `%` over a repeated bytes
template: the text path's way (tail_bulk.float_text), for `--json`.

Everything a line holds that is the same on every row of the frame is written into the
template once, escaped as `to_json` escapes it: the run's fields, the second of the time
when every row falls in one, each key, and each value the frame's skeleton holds throughout
(tail_floats' `consts`: equal in their bytes, so -0.0 is never taken for 0.0). What differs
is formatted a column at a time: the times and the values by msgspec's own JSON encoder (a
column encoded as one list and split at its commas: the digits are exactly those msgspec
writes in a whole line), the steps and the milliseconds by `%d`. A frame this cannot print
byte for byte as tail_bulk.json_text would returns None: a time no date holds or one whose
microseconds round up to the next second. A NaN or an infinity, which msgspec writes as null,
is spelled as to_json spells it ("NaN", "Infinity", "-Infinity": W&B's), a column holding
one at a time: a diverged loss is NaN on every row from then on (9.5x the floor to 3.7x, the
no-NaN run's, tests/bench/bench_scale_read.py --only NaN). tests/test_tail_json.py compares
both over odd values.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import islice, repeat
from math import inf as INF_F
from math import isfinite
from operator import floordiv, le, mul, sub
from typing import TYPE_CHECKING, Any

import msgspec

from .fmt import INF, NAN, NEG_INF, to_json
from .tail_bulk import row_major

if TYPE_CHECKING:
    from .tail_bulk import Clock
    from .tail_floats import FloatRows

__all__ = ["json_float_lines"]

_encode = msgspec.json.Encoder().encode
_PLAIN = bytes(range(0x20, 0x7F)) + b"\n"  # what a terminal prints as it is (tail_out's, but tab)
_HEADS: dict[tuple[str, ...], bytes] = {}
_KEYS: dict[str, bytes] = {}


def json_float_lines(head: dict[str, Any], shown: tuple[str, ...], rows: FloatRows,
                     clock: Clock) -> tuple[bytes, bool] | None:
    """The "log" lines of `rows` (keys `shown`, in order) as tail_bulk.json_text writes them
    (UTF-8), and whether they are printable ASCII throughout (their template is: what fills
    it is digits and signs); None where it cannot say they are the same (module docstring)."""
    times, n = rows.times, len(rows.steps)
    lo, hi = min(times), max(times)
    if not (lo >= 0 and hi < 1e11 and isfinite(sum(times))):
        return None
    found = _times(times, lo, hi, clock)
    if found is None:
        return None
    piece, args = found
    text = _head(head) + b',"time":"' + piece
    text += b'+00:00","ts":%b,"step":%d,"values":{'
    args += [_encode(times)[1:-1].split(b","), rows.steps]  # finite (above): no null
    for i, key in enumerate(shown):
        text += (b"," if i else b"") + _key(key)
        if key in rows.consts:  # the same bytes on every row: the same JSON
            text += to_json(rows.consts[key]).replace(b"%", b"%%")
            continue
        col = _column(rows.column(key))
        text += b"%b"
        args.append(col)
    text += b"}}\n"
    return (text * n) % row_major(args, n), text.isascii() and not text.translate(None, _PLAIN)


def _times(times: list[float], lo: float, hi: float, clock: Clock) -> tuple[bytes, list[Any]] | None:
    """The rows' ISO times as Clock.iso writes them, as a template piece and its columns; None
    for a time whose microseconds round up to the next second (Clock.iso's own way then)."""
    sec = int(lo)
    if sec != int(hi):
        secs = list(map(int, times))
        bases = {s: clock.iso_second(s).encode() for s in set(secs)}
        millis = _millis_each(map(sub, times, secs))
        return None if millis is None else (b"%b.%03d", [list(map(bases.__getitem__, secs)), millis])
    base = clock.iso_second(sec).encode().replace(b"%", b"%%")  # one second: written in once
    first, last = _ms(lo - sec), _ms(hi - sec)
    if last > 999:
        return None
    if first == last:  # every time between the two holds it too: the rounding is monotonic
        return base + b".%03d" % first, []
    millis = _millis_sorted(times, sec, first, last) or _millis_each(map(sub, times, repeat(sec)))
    return None if millis is None else (base + b".%03d", [millis])


def _ms(frac: float) -> int:
    """As Clock.iso: a fraction of a second's microseconds rounded half to even, cut to ms."""
    return round(frac * 1e6) // 1000


def _millis_each(fracs: Any) -> list[int] | None:
    """_ms of each fraction, by C-level passes; None if one rounds up to the next second."""
    millis = list(map(floordiv, map(round, map(mul, fracs, repeat(1e6))), repeat(1000)))
    return None if max(millis) > 999 else millis


def _millis_sorted(times: list[float], sec: int, first: int, last: int) -> list[int] | None:
    """_ms of each time of second `sec`, when they are in order and span a few milliseconds
    (fast logging: a frame spans one or two): where each millisecond starts, by bisection
    (_ms is monotonic), each run of rows one list repeat. None otherwise."""
    if last - first > 8 or not all(map(le, times, islice(times, 1, None))):
        return None
    out: list[int] = []
    at = 0
    for ms in range(first + 1, last + 1):
        to = bisect_left(times, ms, lo=at, key=lambda t: _ms(t - sec))
        out += [ms - 1] * (to - at)
        at = to
    return out + [last] * (len(times) - at)


_SPELLED_NAN, _SPELLED_INF, _SPELLED_NEG_INF = (b'"%s"' % s.encode() for s in (NAN, INF, NEG_INF))


def _column(col: Any) -> list[bytes]:
    """Each float of `col` as to_json writes it: msgspec's digits, a NaN or an infinity (null
    to msgspec) spelled out. Where the column holds no infinity (a diverged loss: NaN only),
    every null is a NaN: one replace; else each null is looked up (`count`, `index`: C-level)."""
    data = _encode(col)
    if b"null" not in data:
        return data[1:-1].split(b",")
    if col.count(INF_F) == 0 and col.count(-INF_F) == 0:
        return data[1:-1].replace(b"null", _SPELLED_NAN).split(b",")
    pieces = data[1:-1].split(b",")
    at = -1
    for _ in range(pieces.count(b"null")):
        at = pieces.index(b"null", at + 1)
        value = col[at]
        pieces[at] = _SPELLED_NAN if value != value else _SPELLED_INF if value > 0 else _SPELLED_NEG_INF
    return pieces


def _head(head: dict[str, Any]) -> bytes:
    """'{"kind":"log","run":...,"name":...' as to_json writes it, `%` doubled (once per run)."""
    fields = (head["run"], head["project"], head["id"], head["name"])
    found = _HEADS.get(fields)
    if found is None:
        if len(_HEADS) > 256:
            _HEADS.clear()
        data = to_json({"kind": "log", "run": fields[0], "project": fields[1], "id": fields[2], "name": fields[3]})
        found = _HEADS[fields] = data[:-1].replace(b"%", b"%%")
    return found


def _key(key: str) -> bytes:
    """'"key":' as to_json writes a key, `%` doubled (once per key)."""
    found = _KEYS.get(key)
    if found is None:
        if len(_KEYS) > 4096:
            _KEYS.clear()
        found = _KEYS[key] = to_json({key: 0})[1:-2].replace(b"%", b"%%")
    return found
