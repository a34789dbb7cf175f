"""Log frames of float rows read from their bytes by `struct`: no dict, no tuple per row
(tail, scan_history and export share it; tui/tail_floats.py, where it began, re-exports it).

Nearly every frame a training script writes holds Log rows of one key set, in one order,
every value a float. msgpack writes such a frame as a fixed skeleton (each row's head, tag,
step marker, each key and its float marker) with holes for the step, the time and each
value, so one `struct` format of n rows reads every step, time and value of the frame at
once. The frame is taken only if its bytes are exactly that skeleton filled with what was
read (the values packed back into it and compared: a key missing, added, renamed or moved,
a value of another kind, a step of another width all differ), so every row is what msgspec
would have decoded. The layout is learnt from a frame decoded the general way (its first
row) and kept while frames fit it. Any other frame: ("log", step, time, values) tuples for
flat Log rows, else what the general decoder gives (tail_replay).
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from itertools import repeat
from typing import Any, Literal

import msgspec

from .history_frames import FlatLog, Scalar

__all__ = ["FloatRows", "FrameDecoder", "event_count", "log_tuples"]

_DECODE_TUPLES = msgspec.msgpack.Decoder(list[tuple[Literal["log"], int, float, dict[str, Scalar]]]).decode
_ENCODE = msgspec.msgpack.encode
_STEP_CODES = {0xCC: "B", 0xCD: "H", 0xCE: "I", 0xCF: "Q"}  # msgpack's unsigned ints by width


class FloatRows:
    """Consecutive Log rows of one segment with one key set, every value a float, as one flat
    table: row i is table[i * width : (i + 1) * width], its step, its time, then its values of
    the keys that vary (`varying`); a value the whole frame holds in its skeleton, in `consts`."""

    __slots__ = ("keys", "varying", "consts", "steps", "times", "table", "width")

    def __init__(self, keys: tuple[str, ...], table: tuple[Any, ...], varying: tuple[str, ...] | None = None,
                 consts: dict[str, float] | None = None) -> None:
        self.keys, self.table = keys, table
        self.varying, self.consts = keys if varying is None else varying, consts or {}
        self.width = len(self.varying) + 2
        self.steps: list[int] = list(table[0::self.width])
        self.times: list[float] = list(table[1::self.width])

    def column(self, key: str) -> tuple[float, ...]:
        """Every row's value of `key` (a value the frame holds throughout: one object repeated)."""
        if key in self.consts:
            return (self.consts[key],) * len(self.steps)
        return self.table[2 + self.varying.index(key)::self.width]

    def last(self) -> dict[str, float]:
        """The last row's values as a dict."""
        return {k: self.column(k)[-1] for k in self.keys}

    def dicts(self) -> list[dict[str, Any]]:
        """Each row's values as a dict (C-level passes: a tuple per row, zipped with the keys)."""
        rows = zip(*map(self.column, self.keys))
        return list(map(dict, map(zip, repeat(self.keys), rows)))

    def events(self) -> list[Any]:
        return list(map(FlatLog, self.steps, self.times, self.dicts()))

    def _rows(self, start: int, stop: int | None = None) -> FloatRows:
        end = None if stop is None else stop * self.width
        return FloatRows(self.keys, self.table[start * self.width:end], self.varying, self.consts)

    def cut(self, at: int) -> tuple[FloatRows, list[Any]]:
        """The rows before `at`, and those from it on as events."""
        return self._rows(0, at), self._rows(at).events()

    def since(self, t: float) -> FloatRows:
        """The rows from time `t` on (their times are in order: tail_replay checks)."""
        at = bisect_left(self.times, t)
        return self._rows(at) if at else self


class _Layout:
    """Where a row's step, time and float values sit in a frame's bytes: the skeleton's fixed
    pieces between the holes (a value every row of the frame holds is skeleton too: `consts`)
    and the `struct` formats that read the holes and write both."""

    __slots__ = ("keys", "varying", "consts", "step", "code", "size", "parts", "small", "read_row", "write_row",
                 "holes", "reads", "writes")

    def __init__(self, keys: tuple[str, ...], step: bytes, code: str, values: bytes,
                 consts: dict[str, float] | None = None) -> None:
        head = values[:len(values) - sum(len(_ENCODE(k)) + 9 for k in keys)]  # the map's own head
        self.keys, self.small, self.consts, self.step, self.code = keys, not code, consts or {}, step, code
        self.varying = tuple(k for k in keys if k not in self.consts)
        parts: list[bytes | str] = [b"\x94" + _ENCODE("log") + step[:0 if self.small else 1], code or "B", b"\xcb", "d"]
        for i, key in enumerate(keys):
            parts.append((head if i == 0 else b"") + _ENCODE(key) + b"\xcb")
            parts.append(struct.pack(">d", self.consts[key]) if key in self.consts else "d")
        self.parts: list[bytes | str] = []
        for part in parts:  # pieces of skeleton side by side are one
            if self.parts and isinstance(part, bytes) and isinstance(self.parts[-1], bytes):
                self.parts[-1] += part
            else:
                self.parts.append(part)
        self.read_row = "".join(f"{len(p)}x" if isinstance(p, bytes) else p for p in self.parts)
        self.write_row = "".join(f"{len(p)}s" if isinstance(p, bytes) else p for p in self.parts)
        self.holes = [i for i, p in enumerate(self.parts) if isinstance(p, str)]
        self.size = struct.calcsize(">" + self.read_row)
        self.reads: dict[int, Any] = {}
        self.writes: dict[int, tuple[Any, list[Any]]] = {}

    def read(self, payload: Any) -> FloatRows | None:
        """The frame's rows, or None unless it is this layout's skeleton throughout."""
        n, off = _array_len(payload)
        if not n or len(payload) - off != n * self.size:
            return None
        read = self.reads.get(n)
        if read is None:
            if len(self.reads) > 64:
                self.reads.clear()
            read = self.reads[n] = struct.Struct(">" + self.read_row * n).unpack_from
        got = read(payload, off)
        width = len(self.holes)
        if self.small and max(got[0::width]) > 0x7F:
            return None  # a byte that is no positive fixint
        write, fields = self._writer(n)
        every = len(self.parts)
        for i, hole in enumerate(self.holes):
            fields[hole::every] = got[i::width]
        if write(*fields) != bytes(payload[off:]):
            return None
        return FloatRows(self.keys, got, self.varying, self.consts)

    def _writer(self, n: int) -> tuple[Any, list[Any]]:
        """The `pack` of n rows and its fields, the skeleton's pieces in place (a list reused:
        each frame fills its holes)."""
        found = self.writes.get(n)
        if found is None:
            if len(self.writes) > 64:
                self.writes.clear()
            every = len(self.parts)
            fields: list[Any] = [None] * (n * every)
            for i, part in enumerate(self.parts):
                if isinstance(part, bytes):
                    fields[i::every] = [part] * n
            found = self.writes[n] = (struct.Struct(">" + self.write_row * n).pack, fields)
        return found

    def holding(self, rows: FloatRows) -> _Layout | None:
        """This layout with the values `rows` hold on every row as skeleton, if any."""
        n = len(rows.steps)
        consts = {k: col[0] for k in rows.varying if (col := rows.column(k)).count(col[0]) == n}
        if not consts or n < 2:
            return None
        example = dict.fromkeys(self.keys, 0.0)  # the map's head is the same whatever the values
        return _Layout(self.keys, self.step, self.code, _ENCODE(example), {**self.consts, **consts})


def _array_len(data: Any) -> tuple[int, int]:
    """(items, head size) of the msgpack array `data` starts with; (0, 0) if none."""
    first = data[0] if len(data) else 0
    if 0x90 <= first <= 0x9F:
        return first & 0x0F, 1
    if first == 0xDC and len(data) >= 3:
        return int.from_bytes(data[1:3], "big"), 3
    if first == 0xDD and len(data) >= 5:
        return int.from_bytes(data[1:5], "big"), 5
    return 0, 0


def _learn(row: tuple[str, int, float, dict[str, Any]]) -> _Layout | None:
    """The layout of frames of rows shaped like `row`, if its values are all floats (and msgpack
    writes it as this module reads: checked by writing it)."""
    _tag, step, time, values = row
    if not values or set(map(type, values.values())) != {float} or not 0 <= step < 1 << 64:
        return None
    encoded = _ENCODE(step)
    code = "" if step < 0x80 else _STEP_CODES.get(encoded[0], "?")
    if code == "?":
        return None
    layout = _Layout(tuple(values), encoded, code, _ENCODE(values))
    fields = list(layout.parts)
    for hole, value in zip(layout.holes, [step, time, *values.values()]):
        fields[hole] = value
    if struct.pack(">" + layout.write_row, *fields) != _ENCODE([row])[1:]:
        return None
    return layout


def event_count(chunk: list[Any]) -> int:
    """How many events a chunk of FrameDecoder's stands for (FloatRows: one a row)."""
    kinds = list(map(type, chunk))
    if FloatRows not in kinds:
        return len(chunk)
    return len(chunk) + sum(len(e.steps) - 1 for e in chunk if type(e) is FloatRows)


def log_tuples(payload: Any) -> list[Any] | None:
    """A frame's events as ("log", step, time, values) tuples; None where one is anything
    else (a config, a nested value), for the general decoder to take the frame whole."""
    try:
        return _DECODE_TUPLES(payload)
    except msgspec.ValidationError:
        return None


class FrameDecoder:
    """A segment's frame decoder for tail (one per segment read): [FloatRows] for a frame of
    float rows laid out as the last ones were, ("log", step, time, values) tuples for any other
    frame of flat Log rows (whose first row is then the layout tried next), else what
    `general` decodes."""

    def __init__(self, general: Any) -> None:
        self.general = general
        self.tight: _Layout | None = None  # the last frames' layout, their constants as skeleton
        self.loose: _Layout | None = None  # the same without constants
        self.retry = 0  # frames to go before looking for constants again, after a frame had none

    def __call__(self, payload: Any) -> list[Any]:
        if self.tight is not None:
            rows = self.tight.read(payload)
            if rows is not None:
                return [rows]
            self.tight = None
        if self.loose is not None:
            rows = self.loose.read(payload)
            if rows is not None:
                self.retry -= 1
                if self.retry <= 0:
                    self.tight = self.loose.holding(rows)
                    self.retry = 0 if self.tight is not None else 16
                return [rows]
        logs = log_tuples(payload)
        if logs is None:
            return self.general(payload)
        if logs:
            self.tight, self.loose = None, _learn(logs[0])
        return logs
