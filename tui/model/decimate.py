"""What charts draw from the runs the app keeps (tui/model/run_series.py): decimated points.

Charts and zoom call, with the store's lock held (inside `store.with_runs`):

    points(run, key, x_axis="_step", x_lo=None, x_hi=None, cap=FINE) -> Points

(xs, means, mins, maxs, counts) of `key` at most `cap` buckets, x in [x_lo, x_hi] (None:
open). The whole range comes from what is kept; a range, another x axis or a key past the
budget is read back from the run's segments at the byte offsets that cover it (a zoom
reads that stretch only), at full resolution when it holds <= `cap` points. A whole-range
decimation read from disk is kept (EXTRA_PER_RUN per run) and fed as new rows arrive.
"""

from __future__ import annotations

from operator import mul

from logger.history import History
from logger.rundata import RunData

from .disk_rows import MetricAxis, disk_history, nested, segment_logs
from .run_series import (
    _BUILTIN_X,
    _NUMERIC,
    COARSE,
    COARSE_ENOUGH,
    EMPTY,
    EXTRA_PER_RUN,
    FINE,
    FINE_BUDGET,
    RAW,
    RECENT,
    SPAN_BYTES,
    Decimator,
    KeySeries,
    Points,
    RunSeries,
    SeriesBook,
)

__all__ = ["COARSE", "COARSE_ENOUGH", "EMPTY", "EXTRA_PER_RUN", "FINE", "FINE_BUDGET", "RAW",
           "RECENT", "SPAN_BYTES", "Decimator", "KeySeries", "Points", "RunSeries", "SeriesBook",
           "media_history", "points", "shrink"]


def points(run: RunData, key: str, x_axis: str = "_step", x_lo: float | None = None,
           x_hi: float | None = None, cap: int = FINE) -> Points:
    """(xs, means, mins, maxs, counts) of `key` on `x_axis`, x in [x_lo, x_hi], at most
    `cap` buckets; exact points where the range holds <= cap. Hold the store's lock."""
    rs = run.sink
    if not isinstance(rs, RunSeries):  # a reader that keeps whole histories
        xs, ys = run.history.series(key, x_axis)
        return _decimate(xs, ys, x_lo, x_hi, cap)
    rs.zero_at(run.created_at)
    ks = rs.keys.get(key)
    if ks is None or not ks.count:
        return EMPTY
    whole = x_lo is None and x_hi is None
    if whole:
        dec = rs.kept(key, x_axis, cap, run.version)
        if dec is not None:
            return shrink(dec.points_counted(), cap)
    writers = [name for name in rs.spans if name in run.segments]
    if whole and len(writers) == 1 and x_axis not in _BUILTIN_X:  # pairs sorted by x: any steps
        return _metric_axis(run, rs, writers[0], key, x_axis, cap).points_counted()
    if ks.ordered and len(writers) == 1 and x_axis in _BUILTIN_X:
        dec = _stream(run, rs, writers[0], key, x_axis, x_lo, x_hi, cap)
    else:
        xs, ys = disk_history(run, [key, x_axis]).series(key, x_axis)
        dec = _decimator(xs, ys, x_lo, x_hi, cap)
    if whole:
        rs.keep(key, x_axis, cap, dec, run.version)
    return dec.points_counted()


def _metric_axis(run: RunData, rs: RunSeries, name: str, key: str, x: str, cap: int) -> Decimator:
    """`key` against metric `x`, kept per run (with the other decimations read from disk) and
    fed what the run's segment grew by since the last redraw."""
    entry = rs.extra.pop((key, x, cap), None)
    axis = entry[2] if entry is not None and len(entry) == 3 else MetricAxis()
    dec = axis.update(run, name, key, x, rs._paths, lambda: Decimator(cap))
    rs.extra[(key, x, cap)] = [dec, run.version, axis]  # rs.kept() answers while unchanged
    while len(rs.extra) > EXTRA_PER_RUN:
        del rs.extra[next(iter(rs.extra))]
    return dec


def _stream(run: RunData, rs: RunSeries, name: str, key: str, x: str, x_lo: float | None,
            x_hi: float | None, cap: int) -> Decimator:
    """Decimate `key` from one writer's segment, reading only the spans that meet the range."""
    lo = -float("inf") if x_lo is None else x_lo
    hi = float("inf") if x_hi is None else x_hi
    base = run.created_at if x == "_runtime" else 0.0
    path = rs._paths.get(key)
    spans = rs.spans[name]
    col = 2 if x == "_step" else 4
    ranges: list[list[int]] = []
    for i in range(0, len(spans), 6):
        if spans[i + col + 1] - base >= lo and spans[i + col] - base <= hi:
            begin, end = int(spans[i]), int(spans[i + 1])
            if ranges and ranges[-1][1] >= begin:
                ranges[-1][1] = end
            else:
                ranges.append([begin, end])
    xs: list[float] = []
    ys: list[float] = []
    for begin, end in ranges:
        for logs in segment_logs(run.segments[name].path, begin, end):
            for log in logs:
                v = log.values.get(key) if path is None else nested(log.values, path)
                if type(v) in _NUMERIC:
                    xv = log.step if x == "_step" else log.time - base
                    if lo <= xv <= hi:
                        xs.append(xv)
                        ys.append(v)
    dec = Decimator(cap)
    dec.extend(xs, ys)
    return dec


def _decimator(xs: list[float], ys: list[float], x_lo: float | None, x_hi: float | None,
               cap: int) -> Decimator:
    if x_lo is not None or x_hi is not None:
        lo = -float("inf") if x_lo is None else x_lo
        hi = float("inf") if x_hi is None else x_hi
        pairs = [(x, y) for x, y in zip(xs, ys) if lo <= x <= hi]
        xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    dec = Decimator(cap)
    dec.extend(xs, ys)
    return dec


def _decimate(xs: list[float], ys: list[float], x_lo: float | None, x_hi: float | None,
              cap: int) -> Points:
    return _decimator(xs, ys, x_lo, x_hi, cap).points_counted()


def shrink(pts: Points, cap: int) -> Points:
    """Merge neighbouring buckets so that at most `cap` remain (means weighted by count)."""
    xs, mean, lo, hi, n = pts
    if len(xs) <= cap:
        return pts
    k = -(-len(xs) // cap)
    out: Points = ([], [], [], [], [])
    for i in range(0, len(xs), k):
        counts = n[i : i + k]
        total = sum(counts)
        out[0].append(sum(xs[i : i + k]) / len(counts))
        out[1].append(sum(map(mul, mean[i : i + k], counts)) / total)
        out[2].append(min(lo[i : i + k]))
        out[3].append(max(hi[i : i + k]))
        out[4].append(total)
    return out


def media_history(run: RunData) -> History:
    """The history holding `run`'s media references: whole, whatever the reader keeps."""
    return run.sink.objects if isinstance(run.sink, RunSeries) else run.history
