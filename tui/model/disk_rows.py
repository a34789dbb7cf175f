"""Reading rows back from segment files by byte offset, for charts that need more than the
app keeps (tui/model/decimate.py): a zoom's stretch of one segment, a run's whole merged
history of a few keys, or one key against another metric as a live run grows (MetricAxis).
Bounded reads (READ_CHUNK at a time); damaged frames are skipped."""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable, Iterator
from typing import Any

from logger import events as ev
from logger.history import History
from logger.rundata import RunData

READ_CHUNK = 1024 * 1024


def nested(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        if type(values) is not dict:
            return None
        values = values.get(part)  # type: ignore[assignment]
    return values


def segment_logs(path: Any, begin: int, end: int) -> Iterator[list[Any]]:
    """The Log events of the frames in bytes [begin, end) of a segment, a chunk at a time."""
    log = ev.Log
    for events in segment_events(path, begin, end):
        yield [e for e in events if type(e) is log]


def segment_events(path: Any, begin: int, end: int) -> Iterator[list[Any]]:
    """The events of the frames in bytes [begin, end) of a segment, a chunk at a time.
    `begin` is a frame boundary (0 or where an earlier read stopped); damage is skipped."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        offset, want = max(begin, ev.HEADER_SIZE), READ_CHUNK
        resync, credit = False, ev.RESYNC_CREDIT
        while offset < end:
            data = os.pread(fd, min(want, end - offset), offset)
            if not data:
                return
            at_eof = offset + len(data) >= end
            found = ev.scan(data, 0, at_eof, resync, credit)
            resync = found.resync
            credit = min(ev.RESYNC_CREDIT, found.credit + ev.RESYNC_WORK * found.consumed)
            offset += found.consumed
            yield found.events
            if at_eof:
                return
            if found.need > len(data) - found.consumed:
                want = min(found.need, ev.MAX_FRAME + ev.FRAME_HEAD_SIZE + len(ev.MARKER))
            elif found.consumed == 0:
                return
            else:
                want = READ_CHUNK
    finally:
        os.close(fd)


def disk_history(run: RunData, keys: list[str]) -> History:
    """The merged history of `keys` of `run` read back from its segments up to where the
    reader is: every writer, resumes ordered as the reader orders them. Hold the lock."""
    wanted = set(keys)
    tmp = RunData(run.dir, run.project, run.id)
    log = ev.Log
    for seg in run.segments.values():
        for events in segment_events(seg.path, 0, seg.offset):
            events = [e if type(e) is not log else log(
                step=e.step, time=e.time,
                values={k: v for k, v in e.values.items() if k in wanted or type(v) is dict})
                for e in events]
            tmp.apply(seg, events)
    return tmp.history


_NUMERIC = frozenset((int, float))


def metric_pairs(path: Any, begin: int, end: int, key: str, x: str,
                 paths: dict[str, tuple[str, ...]]) -> tuple[list[float], list[float]]:
    """(x, key) of the rows in bytes [begin, end) of one segment that hold both, in write
    order: History.series' pairs (a value that is not a number is NaN)."""
    kpath, xpath = paths.get(key), paths.get(x)
    xs: list[float] = []
    ys: list[float] = []
    nan = math.nan
    for logs in segment_logs(path, begin, end):
        for log in logs:
            values = log.values
            xv = values.get(x) if xpath is None else nested(values, xpath)
            yv = values.get(key) if kpath is None else nested(values, kpath)
            if xv is None or yv is None or type(xv) is dict or type(yv) is dict:
                continue
            xs.append(float(xv) if type(xv) in _NUMERIC else nan)
            ys.append(float(yv) if type(yv) in _NUMERIC else nan)
    return xs, ys


class MetricAxis:
    """`key` against another metric `x` (W&B's step_metric) of one writer, as a decimation
    fed only the rows written since the last redraw: the offset read up to is kept, so a live
    run's chart reads each byte once, and memory is the decimation's. Read whole again,
    sorted by x as History.series sorts, when x steps back or the writer changed."""

    __slots__ = ("dec", "segment", "end", "last", "reads")

    def __init__(self) -> None:
        self.dec: Any = None
        self.segment = ""
        self.end = 0  # bytes of `segment` fed so far
        self.last = -math.inf  # the highest x fed
        self.reads: list[tuple[int, int]] = []  # byte ranges read (the last few; tests look)

    def update(self, run: RunData, name: str, key: str, x: str, paths: dict[str, tuple[str, ...]],
               make: Callable[[], Any]) -> Any:
        """The decimation of everything `run`'s reader has read of segment `name`."""
        seg = run.segments[name]
        end = seg.offset
        if self.dec is not None and name == self.segment and self.end <= end:
            xs, ys = self._read(seg.path, self.end, end, key, x, paths)
            if all(a <= b for a, b in zip([self.last, *xs], xs)):
                self.dec.extend(xs, ys)
                self.end, self.last = end, (xs[-1] if xs else self.last)
                return self.dec
        xs, ys = self._read(seg.path, 0, end, key, x, paths)
        order = sorted(range(len(xs)), key=xs.__getitem__)
        xs, ys = [xs[i] for i in order], [ys[i] for i in order]
        self.dec = make()
        self.dec.extend(xs, ys)
        self.segment, self.end, self.last = name, end, (xs[-1] if xs else -math.inf)
        return self.dec

    def _read(self, path: Any, begin: int, end: int, key: str, x: str,
              paths: dict[str, tuple[str, ...]]) -> tuple[list[float], list[float]]:
        self.reads = [*self.reads[-7:], (begin, end)]
        return metric_pairs(path, begin, end, key, x, paths) if end > begin else ([], [])
