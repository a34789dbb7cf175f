"""tail's Log frames of float rows read from their bytes by `struct`: no dict, no tuple per row.

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

from logger.history_frames import FlatLog, Scalar

_DECODE_TUPLES = msgspec.msgpack.Decoder(list[tuple[Literal["log"], int, float, dict[str, Scalar]]]).decode
_ENCODE = msgspec.msgpack.encode
_STEP_CODES = {0xCC: "B", 0xCD: "H", 0xCE: "I", 0xCF: "Q"}  # msgpack's unsigned ints by width


class FloatRows:
    """Consecutive Log rows of one segment with one key set, every value a float, as one flat
    table: row i is table[i * width : (i + 1) * width], its step, its time, then its values."""

    __slots__ = ("keys", "steps", "times", "table", "width")

    def __init__(self, keys: tuple[str, ...], table: tuple[Any, ...]) -> None:
        self.keys, self.table, self.width = keys, table, len(keys) + 2
        self.steps: list[int] = list(table[0::self.width])
        self.times: list[float] = list(table[1::self.width])

    def column(self, key: str) -> tuple[float, ...]:
        return self.table[2 + self.keys.index(key)::self.width]

    def last(self) -> dict[str, float]:
        """The last row's values as a dict."""
        return dict(zip(self.keys, self.table[len(self.table) - self.width + 2:]))

    def dicts(self) -> list[dict[str, Any]]:
        """Each row's values as a dict (C-level passes: a tuple per row, zipped with the keys)."""
        rows = zip(*[self.table[i::self.width] for i in range(2, self.width)])
        return list(map(dict, map(zip, repeat(self.keys), rows)))

    def events(self) -> list[Any]:
        return list(map(FlatLog, self.steps, self.times, self.dicts()))

    def cut(self, at: int) -> tuple[FloatRows, list[Any]]:
        """The rows before `at`, and those from it on as events."""
        cut = at * self.width
        return FloatRows(self.keys, self.table[:cut]), FloatRows(self.keys, self.table[cut:]).events()

    def since(self, t: float) -> FloatRows:
        """The rows from time `t` on (their times are in order: tail_replay checks)."""
        at = bisect_left(self.times, t)
        return FloatRows(self.keys, self.table[at * self.width:]) if at else self


class _Layout:
    """Where a row's step, time and float values sit in a frame's bytes: the skeleton's fixed
    pieces between them and the `struct` formats that read the holes and write both."""

    __slots__ = ("keys", "size", "pieces", "small", "read_row", "write_row", "reads", "writes")

    def __init__(self, keys: tuple[str, ...], step: bytes, code: str, values: bytes) -> None:
        head = values[:len(values) - sum(len(_ENCODE(k)) + 9 for k in keys)]  # the map's own head
        self.keys, self.small = keys, not code
        self.pieces = [b"\x94" + _ENCODE("log") + step[:0 if self.small else 1], b"\xcb"]
        self.pieces += [(head if i == 0 else b"") + _ENCODE(k) + b"\xcb" for i, k in enumerate(keys)]
        holes = [code or "B", "d", *["d"] * len(keys)]
        self.read_row = "".join(f"{len(p)}x{h}" for p, h in zip(self.pieces, holes))
        self.write_row = "".join(f"{len(p)}s{h}" for p, h in zip(self.pieces, holes))
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
        width = len(self.keys) + 2
        if self.small and max(got[0::width]) > 0x7F:
            return None  # a byte that is no positive fixint
        write, fields = self._writer(n)
        fields[1::2] = got
        if write(*fields) != bytes(payload[off:]):
            return None
        return FloatRows(self.keys, got)

    def _writer(self, n: int) -> tuple[Any, list[Any]]:
        """The `pack` of n rows and its fields, the skeleton's pieces in place (a list reused:
        each frame fills its holes)."""
        found = self.writes.get(n)
        if found is None:
            if len(self.writes) > 64:
                self.writes.clear()
            fields: list[Any] = [None] * (2 * n * (len(self.keys) + 2))
            for i, piece in enumerate(self.pieces):
                fields[2 * i::2 * len(self.pieces)] = [piece] * n
            found = self.writes[n] = (struct.Struct(">" + self.write_row * n).pack, fields)
        return found


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
    fields: list[Any] = [None] * (2 * len(layout.pieces))
    fields[0::2] = layout.pieces
    fields[1::2] = [step, time, *values.values()]
    if struct.pack(">" + layout.write_row, *fields) != _ENCODE([row])[1:]:
        return None
    return layout


_CURRENT: list[_Layout | None] = [None]  # the layout the last frames had


def decode_frame(payload: Any, general: Any) -> list[Any]:
    """A frame's events: [FloatRows] for a frame of float rows laid out as the last ones were,
    ("log", step, time, values) tuples for any other frame of flat Log rows (whose first row
    is then the layout tried next), else what `general` decodes."""
    layout = _CURRENT[0]
    if layout is not None:
        rows = layout.read(payload)
        if rows is not None:
            return [rows]
    try:
        logs = _DECODE_TUPLES(payload)
    except msgspec.ValidationError:
        return general(payload)
    if logs:
        _CURRENT[0] = _learn(logs[0])
    return logs
