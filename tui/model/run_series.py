"""What the app keeps of run histories: decimations and last values, not every point.

The RunStore's reader keeps no full history (RunData with keep_history=False keeps each
key's last value: summaries, the table). Each batch of Log events a segment yields goes to
the run's RunSeries (its `RunData.sink`), which keeps, per numeric key,
- its first RAW points as they are (16 B a point: short runs are exact and cheap);
- past that, a fine Decimator (FINE buckets, x = step) while the process's FINE_BUDGET
  lasts (charts; 20 runs x 8 keys fit), else a coarse one (COARSE buckets: sparklines,
  group bands; a chart of such a key reads the finer one back from disk once);
and per run the non-numeric values whole (media references: `objects`, a History), the
last row times (the stall detector's log interval) and where each stretch of rows lies on
disk (segment, byte range, step and time range). Memory is bounded by the screen: <= 0.1 MB
per charted key, <= 4 KB per other key, however long the runs. What charts draw from it:
tui/model/decimate.py.
"""

from __future__ import annotations

import math
from array import array
from operator import add, attrgetter
from typing import Any

from logger import events as ev
from logger.flat import flatten_into
from logger.history import History, increasing
from logger.rundata import RunData

from .stats import Decimator as _Decimator

RAW = 256  # points of a key kept as they are (16 B a point) before it is decimated
COARSE = 64  # buckets kept for every numeric key of every run past RAW
FINE = 2048  # buckets at chart resolution
FINE_BUDGET = 1 << 19  # fine buckets in all, ~25 MB: 20 runs x 8 keys fit; 10,000 runs do not
COARSE_ENOUGH = 256  # a caller asking for at most this many buckets may get the coarse ones
EXTRA_PER_RUN = 8  # decimations read from disk kept per run (other x axes, past the budget)
SPAN_BYTES = 256 * 1024  # disk index granularity: a zoom reads at most this much outside
RECENT = 65  # row times kept for the median log interval

Points = tuple[list[float], list[float], list[float], list[float], list[int]]
EMPTY: Points = ([], [], [], [], [])
_NUMERIC = frozenset((int, float))
_BUILTIN_X = ("_step", "_timestamp", "_runtime")
_step, _time, _values = attrgetter("step"), attrgetter("time"), attrgetter("values")


def _float(v: float) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.copysign(math.inf, v)


class Decimator(_Decimator):
    """stats.Decimator with a halving in C-level loops: the reader feeds it ~100 rows at a
    time, so a key of 100k points halves its 2,048 buckets six times."""

    __slots__ = ()

    def _halve(self) -> None:
        x0, x1 = self.x0, self.x1
        if any(map(math.isnan, x0)) or any(map(math.isnan, x1)):
            super()._halve()  # a bucket that saw only NaNs: the careful loop
            return
        odd = len(x0) % 2
        size = self.size

        def pair(col: Any, fn: Any, typecode: str = "d") -> array[Any]:
            out = array(typecode, map(fn, col[0::2], col[1::2]))
            if odd:
                out.append(col[-1])
            return out

        self.x0 = array("d", x0[0::2])
        self.x1 = array("d", x1[1::2])  # each pair's second (the last bucket alone: its own)
        if odd:
            self.x1.append(x1[-1])
        self.lo, self.hi = pair(self.lo, min), pair(self.hi, max)
        self.sum, self.n = pair(self.sum, add), pair(self.n, add, "q")
        self._open = self._open + (0 if odd else size)
        self.size = size * 2


def _groups(logs: list[Any]) -> Any:
    """(keys, rows, steps, a column per key) of each key set among `logs`, in row order
    within each: the common batch (every row the same keys) in C-level passes only."""
    vals = list(map(_values, logs))
    keysets = set(map(tuple, vals))
    if len(keysets) == 1:
        (keys,) = keysets
        return [(keys, logs, list(map(_step, logs)), list(zip(*map(dict.values, vals))))]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for log in logs:
        keys = tuple(log.values)
        group = groups.get(keys)
        if group is None:
            group = groups[keys] = []
        group.append(log)
    return [(keys, group, list(map(_step, group)), list(zip(*[tuple(g.values.values()) for g in group])))
            for keys, group in groups.items()]


class SeriesBook:
    """The reader's sink factory (`RootReader(sink=book)`): a RunSeries per run, and the
    fine-bucket budget all runs share."""

    def __init__(self, fine_budget: int = FINE_BUDGET) -> None:
        self.fine_left = fine_budget

    def __call__(self, run: RunData) -> RunSeries:
        return RunSeries(self)


class KeySeries:
    """One numeric key of one run: its points as they are while few (RAW), then their
    decimation; whether its steps only grew. (define_metric summaries come from the
    reader's own per-key digests: logger/snapshot.py.)"""

    __slots__ = ("xs", "ys", "coarse", "fine", "count", "last_step", "ordered")

    def __init__(self) -> None:
        self.xs: array[float] | None = array("d")  # raw steps and values, until RAW of them
        self.ys: array[float] | None = array("d")
        self.coarse: Decimator | None = None  # with a fine one, sparklines shrink the fine
        self.fine: Decimator | None = None
        self.count = 0
        self.last_step = -(2**63)
        self.ordered = True

    def feed(self, book: SeriesBook, steps: Any, values: Any, scale: float = 1.0) -> None:
        """Append points; `scale` (segment size / bytes read) sizes the first buckets so that
        a run read from disk decimates without halving its buckets again and again."""
        xs, ys = self.xs, self.ys
        if xs is not None and ys is not None:
            n = len(ys)
            try:
                xs.extend(steps)
                ys.extend(values)
            except OverflowError:  # an int past a double's range: drawn as +-inf
                del xs[n:], ys[n:]
                xs.extend(map(_float, steps))
                ys.extend(map(_float, values))
            if len(ys) <= RAW:
                return
            steps, values, self.xs, self.ys = xs, ys, None, None
            if book.fine_left >= FINE:
                book.fine_left -= FINE
                dec = self.fine = Decimator(FINE)
            else:
                dec = self.coarse = Decimator(COARSE)
            expected = len(ys) * scale / dec.cap  # points per bucket once all is read
            while dec.size < expected:  # the size halving would reach, if the guess holds: each
                dec.size *= 2  # bucket made costs ~1 us (its sum, min, max), whatever its size
        else:
            kept = self.fine if self.fine is not None else self.coarse
            assert kept is not None
            dec = kept
        try:
            dec.extend(steps, values)
        except OverflowError:
            dec.extend(steps, [_float(v) for v in values])

    def decimation(self, cap: int) -> Decimator:
        """The kept decimation; while the points are raw, one of them made now."""
        kept = self.fine if self.fine is not None else self.coarse
        if kept is not None:
            return kept
        dec = Decimator(cap)
        dec.extend(self.xs or (), self.ys or ())
        return dec


class RunSeries:
    """The rows of one run as the app keeps them (see the module docstring)."""

    __slots__ = ("book", "keys", "objects", "spans", "_ends", "times", "t0", "extra", "_paths",
                 "_scale")

    def __init__(self, book: SeriesBook) -> None:
        self.book = book
        self.keys: dict[str, KeySeries] = {}
        self._paths: dict[str, tuple[str, ...]] = {}
        self.objects = History(self._paths)  # non-numeric values, whole (media panel)
        self.spans: dict[str, array[float]] = {}  # segment -> [begin, end, step lo/hi, t lo/hi]*
        self._ends: dict[str, int] = {}  # segment -> offset up to which rows were fed
        self.times = array("d")  # the last RECENT row times (a deque of floats: 2.8 KB a run)
        self.t0: float | None = None  # the run's start (zero_at): what "_runtime" counts from
        self.extra: dict[tuple[str, str, int], list[Any]] = {}  # (key, x, cap) -> [dec, version]
        self._scale = 1.0  # the segment being read: its size / bytes read so far

    def __getstate__(self) -> dict[str, Any]:
        """What the reopen cache keeps (tui/model/decim_cache.py): not the book all runs
        share (the store's own is put back), nor decimations read from disk for a redraw."""
        state = {name: getattr(self, name) for name in self.__slots__}
        state["book"], state["extra"] = None, {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def __call__(self, seg: Any, logs: list[Any]) -> None:
        """Take a segment's new Log events (RunData.apply calls this after reading)."""
        self._index(seg.path.name, seg.offset, logs)
        self._scale = max(1.0, seg.size / seg.offset) if seg.offset else 1.0
        times = self.times
        times.extend(map(_time, logs[-RECENT:]))
        if len(times) > RECENT:
            del times[: len(times) - RECENT]
        for keys, group, steps, columns in _groups(logs):
            ordered = increasing(steps)
            for key, values in zip(keys, columns):
                if set(map(type, values)) <= _NUMERIC:
                    name = key if type(key) is str else str(key)
                    self._numeric(name, steps, values, group, ordered)
                else:
                    self._mixed(str(key), group, values)

    def zero_at(self, start: float) -> None:
        """Count "_runtime" from `start`, the run's created_at (as the system charts and W&B
        do); decimations kept on it from another zero are dropped (a segment that started
        earlier read later moves it)."""
        if self.t0 == start:
            return
        self.t0 = start
        for entry in [k for k in self.extra if k[1] == "_runtime"]:
            del self.extra[entry]

    def _index(self, name: str, end: int, logs: list[Any]) -> None:
        begin = self._ends.get(name, 0)
        self._ends[name] = end
        steps, times = list(map(_step, logs)), list(map(_time, logs))
        s_lo, s_hi, t_lo, t_hi = min(steps), max(steps), min(times), max(times)
        spans = self.spans.get(name)
        if spans is None:
            spans = self.spans[name] = array("d")
        if spans and end - spans[-6] <= SPAN_BYTES:  # grow the last span
            spans[-5] = end
            spans[-4], spans[-3] = min(spans[-4], s_lo), max(spans[-3], s_hi)
            spans[-2], spans[-1] = min(spans[-2], t_lo), max(spans[-1], t_hi)
        else:
            spans.extend((begin, end, s_lo, s_hi, t_lo, t_hi))

    def _numeric(self, key: str, steps: list[int], values: Any, logs: list[Any],
                 ordered: bool | None = None) -> None:
        ks = self.keys.get(key)
        if ks is None:
            ks = self.keys[key] = KeySeries()
        if ks.ordered and (steps[0] <= ks.last_step or not (
                increasing(steps) if ordered is None else ordered)):
            ks.ordered = False
        ks.last_step = max(ks.last_step, max(steps))
        ks.count += len(values)
        ks.feed(self.book, steps, values, self._scale)
        for (k, x, _cap), entry in list(self.extra.items()):
            if k != key or entry[1] is not None:
                continue
            if x == "_step":
                entry[0].extend(steps, values)
            elif x in ("_timestamp", "_runtime"):
                base = self.t0 if x == "_runtime" and self.t0 is not None else 0.0
                entry[0].extend([log.time - base for log in logs], values)

    def _mixed(self, key: str, logs: list[Any], values: Any) -> None:
        """A key with non-numeric values: nested dicts flatten ("a.b"), numbers go to the
        decimations, the rest (media, text) is kept whole."""
        numeric: dict[str, tuple[list[int], list[Any], list[Any]]] = {}
        objects = []
        for log, value in zip(logs, values):
            flat: dict[str, Any] = {}
            flatten_into(flat, {key: value}, self._paths)
            for k, v in flat.items():
                if type(v) in _NUMERIC:
                    entry = numeric.setdefault(k, ([], [], []))
                    entry[0].append(log.step)
                    entry[1].append(v)
                    entry[2].append(log)
                else:
                    objects.append(ev.Log(step=log.step, time=log.time, values={k: v}))
        for k, (steps, vals, rows) in numeric.items():
            self._numeric(k, steps, vals, rows)
        if objects:
            self.objects.add_logs(objects)

    def spark(self, key: str) -> tuple[float, ...]:
        """Up to COARSE bucket means of `key` (a sparkline), in write order."""
        ks = self.keys.get(key)
        if ks is None:
            return ()
        if ks.ys is not None:  # raw: means of runs of consecutive values
            ys = ks.ys if math.isfinite(sum(ks.ys)) else [y for y in ks.ys if math.isfinite(y)]
            k = -(-len(ys) // COARSE)
            if k <= 1:
                return tuple(ys)
            return tuple(sum(ys[i : i + k]) / len(ys[i : i + k]) for i in range(0, len(ys), k))
        dec = ks.coarse if ks.coarse is not None else ks.decimation(COARSE)
        if len(dec) <= COARSE:
            return tuple(dec.means())
        k = -(-len(dec) // COARSE)
        sums, counts = dec.sum, dec.n
        spark = []
        for i in range(0, len(counts), k):
            n = sum(counts[i : i + k])
            if n:
                spark.append(sum(sums[i : i + k]) / n)
        return tuple(spark)

    def interval(self) -> float:
        """The median gap between the run's recent rows (0: unknown)."""
        ordered = sorted(self.times)
        gaps = sorted(b - a for a, b in zip(ordered, ordered[1:]) if b > a)
        return gaps[len(gaps) // 2] if gaps else 0.0

    def kept(self, key: str, x: str, cap: int, version: int) -> Decimator | None:
        """A kept decimation of the whole of `key` on `x` fine enough for `cap`, or None."""
        ks = self.keys.get(key)
        if ks is None:
            return None
        if x == "_step" and ks.ordered:
            if ks.fine is not None:
                return ks.fine
            if ks.coarse is None or cap <= COARSE_ENOUGH:
                return ks.decimation(cap)
        entry = self.extra.get((key, x, cap))
        if entry is not None and entry[1] in (None, version):
            self.extra[(key, x, cap)] = self.extra.pop((key, x, cap))  # most recently used
            return entry[0]
        return None

    def keep(self, key: str, x: str, cap: int, dec: Decimator, version: int) -> None:
        """Keep a decimation read from disk; fed live where rows can simply be appended."""
        ks = self.keys[key]
        live = ks.ordered and x in ("_step", "_timestamp", "_runtime")
        self.extra[(key, x, cap)] = [dec, None if live else version]
        while len(self.extra) > EXTRA_PER_RUN:
            del self.extra[next(iter(self.extra))]
