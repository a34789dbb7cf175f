"""What part of a chart is shown: the x window (zoom and pan, as fractions of the whole x range
so one window fits charts on different x axes), the y range (outlier-robust, never a -0.4
axis around one point), and the values under an inspect cursor."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from .plot import Line

MIN_SPAN = 1e-6  # the narrowest window, as a fraction of the whole range
QUANTILE = 0.01  # outlier-robust scaling ignores the lowest and highest 1 % of values
ROBUST_MIN_POINTS = 20  # fewer values than this: show them all


@dataclass(frozen=True)
class View:
    """The visible x window as fractions [lo, hi] of the whole x range (0, 1: everything)."""

    lo: float = 0.0
    hi: float = 1.0

    @property
    def whole(self) -> bool:
        return self.lo <= 0.0 and self.hi >= 1.0

    def zoom(self, factor: float, at: float = 0.5) -> View:
        """Scale the width by `factor` (< 1 zooms in) keeping the point at `at` (a fraction of
        the visible window: 0 left edge, 1 right edge) where it is."""
        width = self.hi - self.lo
        new = min(1.0, max(MIN_SPAN, width * factor))
        pivot = self.lo + width * min(1.0, max(0.0, at))
        lo = pivot - (pivot - self.lo) * new / width
        return View(lo, lo + new)._clamped()

    def pan(self, by: float) -> View:
        """Move by `by` visible widths (negative: left), stopping at the ends."""
        shift = (self.hi - self.lo) * by
        return View(self.lo + shift, self.hi + shift)._clamped()

    def _clamped(self) -> View:
        width = self.hi - self.lo
        lo = min(max(0.0, self.lo), 1.0 - width)
        return View(max(0.0, lo), min(1.0, lo + width))

    def window(self, x_min: float, x_max: float) -> tuple[float, float]:
        """The visible [lo, hi] in data units, for data spanning [x_min, x_max]."""
        span = x_max - x_min
        return x_min + span * self.lo, x_min + span * self.hi


def clip(xs: Sequence[float], cols: Sequence[Sequence[float]], lo: float, hi: float,
         ) -> tuple[list[float], list[list[float]]]:
    """Points with lo <= x <= hi plus one neighbour each side (a line leaves the window rather
    than stopping short of its edge). xs ascending; `cols` are parallel columns."""
    a = max(0, bisect_left(xs, lo) - 1)
    b = min(len(xs), bisect_right(xs, hi) + 1)
    return list(xs[a:b]), [list(c[a:b]) for c in cols]


def _quantile(sorted_vals: list[float], q: float) -> float:
    i = q * (len(sorted_vals) - 1)
    a = int(i)
    b = min(a + 1, len(sorted_vals) - 1)
    return sorted_vals[a] + (sorted_vals[b] - sorted_vals[a]) * (i - a)


def y_range(values: Sequence[float], log: bool = False, robust: bool = True,
            ) -> tuple[float, float, bool]:
    """(lo, hi, clipped): a y range that holds the values, padded 5 %; `robust` ignores the
    top and bottom QUANTILE when they lie far outside the rest. One value (or a flat line)
    gets a range around it, not plotext's [-0.4, 0.4] around nothing."""
    vals = sorted(v for v in values if math.isfinite(v) and (v > 0 or not log))
    if not vals:
        return (1.0, 10.0, False) if log else (0.0, 1.0, False)
    if log:
        vals = [math.log10(v) for v in vals]
    lo, hi, clipped = vals[0], vals[-1], False
    if robust and len(vals) >= ROBUST_MIN_POINTS:
        qlo, qhi = _quantile(vals, QUANTILE), _quantile(vals, 1 - QUANTILE)
        fence = (qhi - qlo) * 0.5
        if lo < qlo - fence or hi > qhi + fence:
            lo, hi = max(lo, qlo - fence * 0.2), min(hi, qhi + fence * 0.2)
            clipped = True
    if hi - lo <= 0:
        pad = abs(lo) * 0.1 if lo else 1.0
        lo, hi = lo - pad, hi + pad
    else:
        pad = (hi - lo) * 0.05
        lo, hi = (lo - pad if lo < 0 or lo - pad >= 0 or log else 0.0), hi + pad  # no "-0.00"
    if log:
        return 10**lo, 10**hi, clipped
    return lo, hi, clipped


def x_range(lo: float, hi: float) -> tuple[float, float]:
    """A drawable x range: one x (a single step) gets a unit either side."""
    if hi - lo <= 0:
        pad = abs(lo) * 0.05 if lo and abs(lo) > 20 else 1.0
        return lo - pad, hi + pad
    return lo, hi


def value_at(xs: Sequence[float], ys: Sequence[float], x: float) -> float | None:
    """The series' value at x (linear between neighbours); None outside its x range."""
    if not xs or x < xs[0] or x > xs[-1]:
        return None
    j = bisect_left(xs, x)
    if xs[j] == x or j == 0:
        return ys[j]
    x0, x1 = xs[j - 1], xs[j]
    return ys[j - 1] + (ys[j] - ys[j - 1]) * (x - x0) / (x1 - x0)


def readout(lines: Sequence[Line], x: float) -> list[tuple[str, int, float | None]]:
    """(label, colour, value at x) of every labelled line: what an inspect cursor shows."""
    return [(ln.label, ln.color, value_at(ln.xs, ln.ys, x)) for ln in lines if ln.label]
