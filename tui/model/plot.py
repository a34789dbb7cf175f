"""Plot data: what a chart draws (lines already decimated, ticks, the palette), built without
Textual or Rich. The Chart widget only turns a Plot into terminal cells."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..fmt import duration_label, short_number
from .palette import DIM, PALETTE

__all__ = ["DIM", "PALETTE", "Line", "Plot", "step_ticks", "time_ticks"]
Ticks = tuple[list[float], list[str]]


@dataclass(frozen=True)
class Line:
    xs: Sequence[float]
    ys: Sequence[float]
    color: int
    label: str | None = None  # shown in the legend; None keeps it out
    dim: bool = False  # another run is highlighted: drawn faint, behind it
    marks: bool = False  # few points: each one is marked, not only joined


@dataclass(frozen=True)
class Plot:
    title: str
    lines: tuple[Line, ...]
    log_y: bool = False
    x_axis: str = "_step"  # "_step", "_runtime" (seconds since start) or "_timestamp"
    note: str = ""  # e.g. "smoothing 0.6" or "mean ± std of 12 runs"
    message: str = ""  # shown instead of a plot when there is nothing to draw
    x_ticks: tuple[tuple[float, str], ...] = ()  # fixed ticks (labels already made safe)
    y_ticks: tuple[tuple[float, str], ...] = ()
    x_range: tuple[float, float] | None = None  # the visible x window (None: plotext's)
    y_range: tuple[float, float] | None = None
    zoomed: bool = False  # x_range is part of the data's range

    def x_ticks_between(self, lo: float, hi: float, whole: bool) -> Ticks | None:
        """The x ticks to draw for points spanning [lo, hi] (`whole`: every x is an integer);
        None leaves them to plotext."""
        if self.x_ticks:
            return [t[0] for t in self.x_ticks], [t[1] for t in self.x_ticks]
        if self.x_axis in ("_runtime", "_timestamp"):
            return time_ticks(lo, hi, self.x_axis == "_timestamp")
        # Round numbers, not plotext's 6.8e3 9.1e3 (decimated lines put points between
        # steps: label whole steps on a step axis).
        return step_ticks(lo, hi, integer=self.x_axis == "_step" or whole)


def time_ticks(lo: float, hi: float, wall: bool, count: int = 5) -> Ticks:
    if hi <= lo:
        hi = lo + 1
    pos = [lo + (hi - lo) * i / (count - 1) for i in range(count)]
    if not wall:
        return pos, [duration_label(p) for p in pos]
    fmt = "%H:%M:%S" if hi - lo < 600 else ("%H:%M" if hi - lo < 86400 else "%m-%d %H:%M")
    return pos, [time.strftime(fmt, time.localtime(p)) for p in pos]


def step_ticks(lo: float, hi: float, count: int = 6, integer: bool = True) -> Ticks:
    """Round numbers across [lo, hi] (0, 250, 500, ... or 1.2k, 1.4k): steps are integers, and
    plotext's own ticks (0.5, 26.0, 51.5) read like fractions of a step."""
    span = hi - lo
    if span <= 0:
        return [lo], [short_number(lo)]
    raw = span / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if step < 1 and integer:
        step = 1.0
    first = math.ceil(lo / step)
    digits = max(0, 2 - math.floor(math.log10(step)))
    pos: list[float] = []
    k = 0
    while (first + k) * step <= hi + 1e-9 * step and len(pos) < 2 * count:
        pos.append(round((first + k) * step, digits))  # 0.0, not -3.4e-21
        k += 1
    return pos, distinct_labels(pos)


def distinct_labels(pos: list[float]) -> list[str]:
    """short_number() of each tick, with more digits where two would read the same (1M, 1M)."""
    labels = [short_number(p) for p in pos]
    sig = 4
    while len(set(labels)) < len(labels) and sig <= 15:
        labels = [f"{p:.{sig}g}" for p in pos]
        sig += 1
    return labels
