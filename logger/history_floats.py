"""scan_history's frames of float rows whose values are mostly held (an lr, an epoch: the
same on every row of the frame), read from their bytes (logger/float_frames.py) and built as
W&B's rows (the logged keys, then `_step`, `_timestamp`, `_runtime`) by a list comprehension
made for the frame's shape: a dict display is built presized for its keys, where
`dict(zip(keys, row))` grows the dict twice and makes a pair per item (1M rows of 11 keys:
0.29 s against 0.41 s).

Only there does it pay: each value that varies costs an unpack and a pack (the byte-exact
check) and a name in the display. Measured on frames of 200 rows, against the floor (a plain
msgspec decode): 8 keys, decoded and the three keys put in, 1.24x whatever varies; from the
bytes 0.99x with none varying, +0.09x for each that does (1.32x at 4); 3 keys 1.45x against
1.36x with none varying; 20 keys 1.14x against 1.18x with none. So: at most a quarter of a
row's keys varying, 16 keys at most (HeldFrameDecoder); any other frame is decoded.

The source compiled holds only names made from positions (k0, v1, c2): the keys and the
values every row holds come in as arguments, so nothing read from a file is compiled.
"""

from __future__ import annotations

from typing import Any

from .float_frames import FloatRows, FrameDecoder, _Layout, _learn, log_tuples

__all__ = ["HeldFrameDecoder", "LogRows", "history_rows"]

MAX_KEYS = 16  # past this, msgspec's decode builds the rows faster (above)
_BASE = ("_step", "_timestamp", "_runtime")
_MAKERS: dict[tuple[bool, ...], Any] = {}  # by shape: each key varying (True) or held (False)


def history_rows(rows: FloatRows, start: float) -> list[dict[str, Any]]:
    """Each row as scan_history gives it: its values in the order logged, then `_step`,
    `_timestamp` and `_runtime` (its time less `start`), as HistoryScan.build puts them (a
    logged "_step" keeps its place and takes the step, as build's setitem does)."""
    keys, consts = rows.keys, rows.consts
    if len(keys) > MAX_KEYS:  # a frame read loose (HeldFrameDecoder looking for held values)
        out = rows.dicts()
        for row, step, time in zip(out, rows.steps, rows.times):
            row["_step"], row["_timestamp"], row["_runtime"] = step, time, time - start
        return out
    shape = tuple(k not in consts for k in keys)
    make = _MAKERS.get(shape)
    if make is None:
        if len(_MAKERS) > 64:  # shapes a run cycles through are few: bound what a file can add
            _MAKERS.clear()
        make = _MAKERS[shape] = _compile(shape)
    held = [consts[k] for k in keys if k in consts]
    return make(*keys, *held, *_BASE)(rows.table, rows.width, start)


def _compile(shape: tuple[bool, ...]) -> Any:
    """make(k0.., c.., step_key, time_key, runtime_key) -> build(table, width, start): the
    rows of a flat table of (step, time, varying values...) rows."""
    items = [f"k{i}: {'v' if varies else 'c'}{i}" for i, varies in enumerate(shape)]
    items += ["step_key: s", "time_key: t", "runtime_key: t - start"]
    params = [f"k{i}" for i in range(len(shape))] + [f"c{i}" for i, varies in enumerate(shape) if not varies]
    names = ["s", "t"] + [f"v{i}" for i, varies in enumerate(shape) if varies]
    source = (f"def make({', '.join(params)}, step_key, time_key, runtime_key):\n"
              f"    def build(table, width, start):\n"
              f"        return [{{{', '.join(items)}}} for {', '.join(names)} in zip(*[iter(table)] * width)]\n"
              f"    return build\n")
    scope: dict[str, Any] = {}
    exec(compile(source, "<runwatch row builder>", "exec"), scope)  # noqa: S102 - positions only, see above
    return scope["make"]


class LogRows:
    """A frame's flat Log rows as msgspec decoded them, ("log", step, time, values) tuples, as
    one object (FloatRows is one too): a piece's kinds are then a pass over its frames, not
    over its rows (a set of 200 types a frame was ~15 ns a row, ~0.03x of the floor)."""

    __slots__ = ("logs",)

    def __init__(self, logs: list[Any]) -> None:
        self.logs = logs

    def events(self) -> list[Any]:
        return self.logs


class HeldFrameDecoder(FrameDecoder):
    """FrameDecoder for scan_history: [FloatRows] only while a layout with held values fits
    (`_mostly_held`); other frames of flat Log rows as [LogRows], read from their bytes first only when the last
    frame decoded looked mostly held (`_looks_held`: its first and last rows), so that a run
    whose values all vary pays no read of its frames as float rows."""

    def __init__(self, general: Any) -> None:
        super().__init__(general)
        self.extra = 0  # rows past one a FloatRows since the last `count`
        self.probe = False  # read the next frame as float rows (loose) first

    def count(self, chunk: list[Any]) -> int:
        """How many events the chunk of the frames decoded since the last call stands for
        (event_count's figure, kept as they were decoded: no pass over the chunk's types)."""
        n, self.extra = len(chunk) + self.extra, 0
        return n

    def __call__(self, payload: Any) -> list[Any]:
        if self.tight is not None:
            rows = self.tight.read(payload)
            if rows is not None:
                self.extra += len(rows.steps) - 1
                return [rows]
            self.tight, self.probe = None, True  # a held value changed: look for the new ones now
        tried = self.probe and self.loose is not None
        if tried:
            rows = self.loose.read(payload)  # type: ignore[union-attr]
            if rows is not None:
                self.tight = _mostly_held(self.loose.holding(rows))  # type: ignore[union-attr]
                self.probe = self.tight is not None
                self.extra += len(rows.steps) - 1
                return [rows]
        logs = log_tuples(payload)
        if logs is None:
            return self.general(payload)
        if logs:
            if tried or self.loose is None:
                self.loose = _learn(logs[0])
            self.probe = _looks_held(logs)
            self.extra += len(logs) - 1
            return [LogRows(logs)]
        return logs


def _looks_held(logs: list[Any]) -> bool:
    """Whether a frame's ("log", step, time, values) first and last rows have one key set, of MAX_KEYS at most, and
    hold at most a quarter of its values different (as `_mostly_held` takes a layout)."""
    first, last = logs[0][3], logs[-1][3]
    if len(logs) < 2 or len(first) > MAX_KEYS or first.keys() != last.keys():
        return False
    room = len(first) // 4  # values that may differ; the first past it ends the look (~0.5 us a frame less)
    for k, v in first.items():
        if last[k] != v:  # NaN: differs, as holding() finds it
            if not room:
                return False
            room -= 1
    return True


def _mostly_held(layout: _Layout | None) -> _Layout | None:
    """`layout` if reading its frames from their bytes is the cheaper way (above)."""
    if layout is None or len(layout.keys) > MAX_KEYS or 4 * len(layout.varying) > len(layout.keys):
        return None
    return layout
