"""From run histories to Plots: incremental decimation per (run, metric, x axis), smoothing,
overlays of several runs, and a group's mean with a ±std (or min-max) band.

`SeriesCache.collect()` reads RunData and must run with the follower's lock held (in a worker
thread); `build_plots()` works on what it returned, without the lock.
"""

from __future__ import annotations

import fnmatch
import importlib
import math
from dataclasses import dataclass
from typing import Any

from logger.rundata import RunData
from logger.textsafe import one_line

from . import smooth as sm
from .decimate import points
from .palette import DIM, run_color
from .plot import Line, Plot
from .stats import Decimator, band, rebucket
from .zoom import View, clip, x_range, y_range

AUTO = "auto"  # each metric on its define_metric(step_metric=...) axis, else on _step
X_AXES = (AUTO, "_runtime", "_timestamp", "_step")  # what `x` cycles through
BUILTIN_X = ("_step", "_runtime", "_timestamp")
X_NAMES = {AUTO: "per metric", "_step": "step", "_runtime": "relative time",
           "_timestamp": "wall time"}
SMOOTHING = sm.LEVELS["twema"]
MARK_BELOW = 25  # a line with at most this many visible points (and room) has them marked
DECIMATOR_CAP = 2048  # buckets per series: a million points redraw from 2k buckets
GROUP_CAP = 256  # per run in a group band: the band's grid is coarser than one run's line


@dataclass(frozen=True)
class ChartOptions:
    metrics: tuple[str, ...]
    smoothing: float = 0.0
    smoother: str = "twema"  # see smooth.KINDS; W&B's default
    log_y: bool = False
    x_axis: str = AUTO  # AUTO, a BUILTIN_X or any logged metric
    band: str = "std"  # "std" or "minmax", for groups
    group: bool = False
    columns: int = 160  # x resolution to draw at (braille: two per terminal cell)
    view: View = View()  # the visible x window (zoom and pan)
    robust: bool = True  # y ignores far outliers (the top and bottom 1 %)
    highlight: int = -1  # the run drawn bright while the others dim; -1: none


Points = tuple[list[float], list[float], list[float], list[float], list[int]]


class SeriesCache:
    """Decimators kept between redraws, so following a live run costs O(new points)."""

    def __init__(self) -> None:
        self._dec: dict[tuple[str, str, str, int], tuple[Decimator, int]] = {}

    def collect(self, runs: list[RunData], opts: ChartOptions,
                axes: dict[str, str] | None = None) -> dict[str, list[Points]]:
        """metric -> one Points per run (empty where the run lacks it), on `axes[metric]`
        (pass x_axes(runs, opts) here and to build_plots(); default: resolved here). Hold
        the lock."""
        out: dict[str, list[Points]] = {}
        for key in opts.metrics:
            cap = GROUP_CAP if opts.group else DECIMATOR_CAP
            x = axes[key] if axes is not None else x_axis_of(runs, key, opts.x_axis)
            out[key] = [self._points(run, key, x, cap) for run in runs]
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
        if x not in BUILTIN_X:  # another metric of the same rows (define_metric's step_metric)
            return by_metric(self._dec, run, key, x, cap)
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




def by_metric(cache: dict[Any, tuple[Decimator, int]], run: RunData, key: str, x: str,
              cap: int) -> Points:
    """`key` against metric `x` of the same rows, decimated as the run grows while x keeps
    increasing (HF's global_step, Keras' epoch): O(new values log n) a redraw. Rebuilt from
    History.series() (sorted by x) when x steps back or steps were rewritten."""
    history = run.history
    n = history.numeric_count(key)
    if not n:
        return [], [], [], [], []
    ident = (run.path, key, x, cap)
    dec, fed = cache.get(ident, (None, 0))
    if dec is not None and fed < n and history.in_step_order(key):
        xs, ys = history.values_since(key, fed, x)
        last = dec.x1[-1] if len(dec) else -math.inf
        if all(a <= b for a, b in zip([last, *xs], xs)):
            dec.extend(xs, ys)
            cache[ident] = (dec, n)
            return dec.points_counted()
    if dec is None or fed != n:
        dec = Decimator(cap)
        dec.extend(*history.series(key, x))
        cache[ident] = (dec, n)
    return dec.points_counted()


def step_metric(metrics: dict[str, Any], key: str) -> str | None:
    """The x axis `key` declared with define_metric(step_metric=...) in one run's metrics
    (RunData.metrics: name or glob -> DefineMetric), exact name first, then "prefix/*" globs."""
    metric = metrics.get(key)
    if metric is None and not key.startswith("_"):
        for pattern in sorted(metrics, key=len, reverse=True):
            if "*" in pattern and fnmatch.fnmatchcase(key, pattern):
                metric = metrics[pattern]
                if getattr(metric, "step_metric", None):
                    break
    found = getattr(metric, "step_metric", None)
    return found if isinstance(found, str) and found and found != key else None


def x_axis_of(runs: list[RunData], key: str, chosen: str) -> str:
    """The x axis `key` is drawn on: `chosen`, or for AUTO the first step_metric a run
    declares for it (HF's train/global_step, Keras' epoch/epoch), else _step. Hold the lock."""
    if chosen != AUTO:
        return chosen
    for run in runs:
        found = step_metric(run.metrics, key)
        if found:
            return found
    return "_step"


def x_axes(runs: list[RunData], opts: ChartOptions) -> dict[str, str]:
    """x_axis_of() for every charted metric."""
    return {key: x_axis_of(runs, key, opts.x_axis) for key in opts.metrics}


def refine(runs: list[RunData], collected: dict[str, list[Points]], opts: ChartOptions,
           axes: dict[str, str]) -> None:
    """Zoomed in past the decimation: swap in full-resolution points of the window, from
    tui.model.decimate.points(run, key, x_axis, x_lo, x_hi, cap) where that exists (the one
    call site). Without it, the zoom works within the points collected. Hold the lock."""
    if opts.view.whole:
        return
    try:
        points = getattr(importlib.import_module(f"{__package__}.decimate"), "points", None)
    except ImportError:
        return
    if points is None:
        return
    for key, per_run in collected.items():
        lo, hi = opts.view.window(*_x_extent(per_run))
        for i, (run, pts) in enumerate(zip(runs, per_run)):
            visible = sum(1 for x in pts[0] if lo <= x <= hi)
            if visible < opts.columns and any(c > 1 for c in pts[4]):
                try:
                    per_run[i] = points(run, key, axes.get(key, "_step"), lo, hi, DECIMATOR_CAP)
                except TypeError:  # another signature: keep what was collected
                    return


def _x_extent(per_run: list[Points]) -> tuple[float, float]:
    starts = [p[0][0] for p in per_run if p[0]]
    ends = [p[0][-1] for p in per_run if p[0]]
    return (min(starts), max(ends)) if starts else (0.0, 0.0)


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


def _run_lines(pts: Points, color: int, label: str, opts: ChartOptions, window: tuple[float, float],
               span: float, dim: bool) -> list[Line]:
    """One run's lines in the window: raw (min/max envelope where dense), and smoothed."""
    xs, (mean, lo, hi, counts) = clip(pts[0], pts[1:], *window)
    if not xs:
        return []
    counts_i = [int(c) for c in counts]
    columns = max(8, opts.columns)
    raw_x, _m, raw_lo, raw_hi = rebucket(xs, mean, lo, hi, columns)
    dense = any(c > 1 for c in counts_i) or len(xs) > columns
    marks = len(xs) <= min(MARK_BELOW, columns // 6) and not dense
    if opts.smoothing <= 0:
        if not dense:
            return [Line(xs, mean, color, label, dim, marks)]
        ex, ey = _envelope(raw_x, raw_lo, raw_hi)
        return [Line(ex, ey, color, label, dim)]
    # Smooth the whole series (a window's first point keeps its history), then clip.
    smooth = sm.smooth(opts.smoother, pts[0], pts[1], [int(c) for c in pts[4]], opts.smoothing, span)
    sxs, (sys_,) = clip(pts[0], [smooth], *window)
    sx, sy, _l, _h = rebucket(sxs, sys_, sys_, sys_, columns)
    ex, ey = _envelope(raw_x, raw_lo, raw_hi) if dense else (xs, mean)
    return [Line(ex, ey, DIM), Line(sx, sy, color, label, dim, marks)]


def _note(opts: ChartOptions, extra: str = "") -> str:
    parts = [f"x: {X_NAMES.get(opts.x_axis, opts.x_axis)}"]
    if opts.smoothing > 0:
        parts.append(sm.label(opts.smoother, opts.smoothing))
    if opts.log_y:
        parts.append("log y")
    if extra:
        parts.append(extra)
    return " · ".join(parts)


def build_plots(collected: dict[str, list[Points]], names: list[str], opts: ChartOptions,
                axes: dict[str, str] | None = None) -> list[Plot]:
    """One Plot per metric: the runs overlaid, or (opts.group) their mean with a band, in
    the view's x window, on `axes[metric]` (x_axes(); default opts.x_axis)."""
    plots = []
    for key in opts.metrics:
        per_run = collected.get(key, [])
        x = (axes or {}).get(key) or ("_step" if opts.x_axis == AUTO else opts.x_axis)
        x_opts = ChartOptions(**{**opts.__dict__, "x_axis": x})
        if not any(p[0] for p in per_run):
            message = f"no numeric values of {one_line(key)} logged yet"
            if x not in BUILTIN_X:  # not "nothing logged": nothing logged in a row with x
                message = (f"no row logs both {one_line(key)} and {one_line(x)} (the x axis) yet;"
                           " x or X picks another")
            plots.append(Plot(key, (), message=message, x_axis=x))
            continue
        if opts.group:
            plots.append(_group_plot(key, per_run, x_opts))
        else:
            plots.append(_overlay_plot(key, per_run, names, x_opts))
    return plots


def _overlay_plot(key: str, per_run: list[Points], names: list[str], opts: ChartOptions) -> Plot:
    x_min, x_max = _x_extent(per_run)
    window = opts.view.window(x_min, x_max)
    lines: list[Line] = []
    for i, (pts, name) in enumerate(zip(per_run, names)):
        dim = 0 <= opts.highlight < len(names) and i != opts.highlight
        lines += _run_lines(pts, run_color(i), name, opts, window, x_max - x_min, dim)
    return _framed(key, lines, opts, window)


def _framed(key: str, lines: list[Line], opts: ChartOptions, window: tuple[float, float],
            extra: str = "") -> Plot:
    """The Plot, with its x window and an outlier-robust y range of what is visible."""
    ys = [y for ln in lines for y in ln.ys]
    lo, hi, clipped = y_range(ys, opts.log_y, opts.robust)
    notes = [extra] if extra else []
    if not opts.view.whole:
        notes.append(f"zoom {1 / (opts.view.hi - opts.view.lo):.3g}x")
    if clipped:
        notes.append("outliers off-scale")
    return Plot(key, tuple(lines), opts.log_y, opts.x_axis, _note(opts, " · ".join(notes)),
                x_range=x_range(*window), y_range=(lo, hi), zoomed=not opts.view.whole)


def _group_plot(key: str, per_run: list[Points], opts: ChartOptions) -> Plot:
    x_min, x_max = _x_extent(per_run)
    window = opts.view.window(x_min, x_max)
    series = []
    for xs, mean, _lo, _hi, counts in per_run:
        if xs:
            smooth = sm.smooth(opts.smoother, xs, mean, counts, opts.smoothing, x_max - x_min)
            cx, (cy,) = clip(xs, [smooth], *window)
            series.append((cx, cy))
    grid, mean, std, lo, hi = band(series, max(16, opts.columns // 2))
    if opts.band == "minmax":
        low, high, what = lo, hi, "min-max"
    else:
        low = [m - s for m, s in zip(mean, std)]
        high = [m + s for m, s in zip(mean, std)]
        what = "±std"
    n = len(series)
    lines: list[Line] = [
        Line(grid, low, DIM, what),
        Line(grid, high, DIM),
        Line(grid, mean, run_color(0), f"mean of {n} run{'s' if n != 1 else ''}"),
    ]
    if opts.log_y:
        lines = [Line(ln.xs, [v if v > 0 else math.nan for v in ln.ys], ln.color, ln.label)
                 for ln in lines]
    return _framed(key, lines, opts, window, f"mean {what} of {n} runs")
