"""From run histories to Plots: incremental decimation per (run, metric, x axis), smoothing,
overlays of several runs, and a group's mean with a ±std (or min-max) band.

`SeriesCache.collect()` reads RunData and must run with the follower's lock held (in a worker
thread); `build_plots()` works on what it returned, without the lock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from logger.rundata import RunData
from logger.textsafe import one_line

from .decimate import points
from .plot import DIM, PALETTE, Line, Plot
from .stats import Decimator, band, ema_counted, rebucket

X_AXES = ("_step", "_runtime", "_timestamp")
X_NAMES = {"_step": "step", "_runtime": "relative time", "_timestamp": "wall time"}
SMOOTHING = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
DECIMATOR_CAP = 2048  # buckets per series: a million points redraw from 2k buckets
GROUP_CAP = 256  # per run in a group band: the band's grid is coarser than one run's line


@dataclass(frozen=True)
class ChartOptions:
    metrics: tuple[str, ...]
    smoothing: float = 0.0
    log_y: bool = False
    x_axis: str = "_step"
    band: str = "std"  # "std" or "minmax", for groups
    group: bool = False
    columns: int = 160  # x resolution to draw at (braille: two per terminal cell)


Points = tuple[list[float], list[float], list[float], list[float], list[int]]


class SeriesCache:
    """Decimators kept between redraws, so following a live run costs O(new points)."""

    def __init__(self) -> None:
        self._dec: dict[tuple[str, str, str, int], tuple[Decimator, int]] = {}

    def collect(self, runs: list[RunData], opts: ChartOptions) -> dict[str, list[Points]]:
        """metric -> one Points per run (empty where the run lacks it). Hold the lock."""
        out: dict[str, list[Points]] = {}
        for key in opts.metrics:
            cap = GROUP_CAP if opts.group else DECIMATOR_CAP
            out[key] = [self._points(run, key, opts.x_axis, cap) for run in runs]
        return out

    def _points(self, run: RunData, key: str, x: str, cap: int) -> Points:
        if run.sink is not None:  # the app's reader keeps decimations, not histories
            return points(run, key, x, None, None, cap)
        history = run.history
        count = history.numeric_count(key)
        if not count:
            return [], [], [], [], []
        ident = (run.path, key, x, cap)
        cached = self._dec.get(ident)
        if not history.in_step_order(key):
            # Steps were rewritten (a resumed run): rebuild from the reader's merged series.
            if cached is None or cached[1] != run.version:
                dec = Decimator(cap)
                dec.extend(*history.series(key, x))
                self._dec[ident] = cached = (dec, run.version)
            return cached[0].points_counted()
        if cached is None or cached[0].fed > count:
            cached = self._dec[ident] = (Decimator(cap), 0)
        dec = cached[0]
        if dec.fed < count:
            dec.extend(*history.values_since(key, dec.fed, x))
        return dec.points_counted()


def _envelope(xs: list[float], lo: list[float], hi: list[float]) -> tuple[list[float], list[float]]:
    """Min/max of each column as one zigzag line, so spikes survive decimation."""
    px: list[float] = []
    py: list[float] = []
    prev = None
    for x, a, b in zip(xs, lo, hi):
        first, second = (a, b) if prev is None or abs(prev - a) <= abs(prev - b) else (b, a)
        px += [x, x]
        py += [first, second]
        prev = second
    return px, py


def _run_lines(pts: Points, color: int, label: str, opts: ChartOptions) -> list[Line]:
    xs, mean, lo, hi, counts = pts
    if not xs:
        return []
    columns = max(8, opts.columns)
    raw_x, _m, raw_lo, raw_hi = rebucket(xs, mean, lo, hi, columns)
    dense = any(c > 1 for c in counts) or len(xs) > columns
    if opts.smoothing <= 0:
        if not dense:
            return [Line(xs, mean, color, label)]
        ex, ey = _envelope(raw_x, raw_lo, raw_hi)
        return [Line(ex, ey, color, label)]
    smooth = ema_counted(mean, counts, opts.smoothing)
    sx, sm, _l, _h = rebucket(xs, smooth, smooth, smooth, columns)
    ex, ey = _envelope(raw_x, raw_lo, raw_hi) if dense else (xs, mean)
    return [Line(ex, ey, DIM), Line(sx, sm, color, label)]


def _note(opts: ChartOptions, extra: str = "") -> str:
    parts = [f"x: {X_NAMES.get(opts.x_axis, opts.x_axis)}"]
    if opts.smoothing > 0:
        parts.append(f"smoothing {opts.smoothing:g}")
    if opts.log_y:
        parts.append("log y")
    if extra:
        parts.append(extra)
    return " · ".join(parts)


def build_plots(collected: dict[str, list[Points]], names: list[str], opts: ChartOptions) -> list[Plot]:
    """One Plot per metric: the runs overlaid, or (opts.group) their mean with a band."""
    plots = []
    for key in opts.metrics:
        per_run = collected.get(key, [])
        have = sum(1 for p in per_run if p[0])
        if not have:
            plots.append(Plot(key, (), message=f"no numeric values of {one_line(key)} logged yet",
                              x_axis=opts.x_axis))
            continue
        if opts.group:
            plots.append(_group_plot(key, per_run, opts))
            continue
        lines: list[Line] = []
        for i, (pts, name) in enumerate(zip(per_run, names)):
            lines += _run_lines(pts, PALETTE[i % len(PALETTE)], name, opts)
        # Draw the smoothed/raw coloured lines after every dim one, so none hides behind grey.
        lines.sort(key=lambda line: line.color != DIM)
        plots.append(Plot(key, tuple(lines), opts.log_y, opts.x_axis, _note(opts)))
    return plots


def _group_plot(key: str, per_run: list[Points], opts: ChartOptions) -> Plot:
    series = []
    for xs, mean, _lo, _hi, counts in per_run:
        if xs:
            series.append((xs, ema_counted(mean, counts, opts.smoothing)))
    grid, mean, std, lo, hi = band(series, max(16, opts.columns // 2))
    if opts.band == "minmax":
        low, high, what = lo, hi, "min-max"
    else:
        low = [m - s for m, s in zip(mean, std)]
        high = [m + s for m, s in zip(mean, std)]
        what = "±std"
    n = len(series)
    lines: tuple[Line, ...] = (
        Line(grid, low, DIM, what),
        Line(grid, high, DIM),
        Line(grid, mean, PALETTE[0], f"mean of {n} run{'s' if n != 1 else ''}"),
    )
    if opts.log_y:
        lines = tuple(Line(ln.xs, [v if v > 0 else math.nan for v in ln.ys], ln.color, ln.label)
                      for ln in lines)
    return Plot(key, lines, opts.log_y, opts.x_axis, _note(opts, f"mean {what} of {n} runs"))
