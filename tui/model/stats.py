"""Numbers for the screens, in pure Python: decimation, smoothing, sparklines, group bands.

Nothing here imports Textual; everything is sized so that a redraw costs tens of ms with a
million points (STACK.md: plotext takes ~170 ms for 2x10k raw points, 8-12 ms decimated).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from operator import truediv
from typing import Any

_isfinite = math.isfinite


class Decimator:
    """An incremental summary of a series: consecutive points folded into at most `cap` buckets.

    Each bucket keeps its first/last x, min/max/sum/count of y and its last y. Appending is
    O(new points); past `cap` buckets, neighbours merge and the bucket size doubles, so a
    million points cost ~2,000 buckets and re-bucketing to a chart's width is cheap.
    """

    __slots__ = ("cap", "size", "x0", "x1", "lo", "hi", "sum", "n", "fed", "_open")

    def __init__(self, cap: int = 2048) -> None:
        self.cap = max(8, cap)
        self.size = 1
        # Arrays, not lists: 8 bytes a bucket field instead of ~32 (a group of 1,000 runs
        # keeps 3 metrics x 1,000 decimators alive).
        self.x0 = array("d")
        self.x1 = array("d")
        self.lo = array("d")
        self.hi = array("d")
        self.sum = array("d")
        self.n = array("q")
        self.fed = 0  # points consumed so far (non-finite ones included)
        self._open = 0  # points in the last bucket, which is still filling

    def __len__(self) -> int:
        return len(self.x0)

    def extend(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        """Append points in x order. Non-finite y values are counted but not drawn."""
        self.fed += len(ys)
        i, total = 0, len(ys)
        if not self.x0:
            # A first batch larger than cap buckets: start with the bucket size it needs,
            # rather than folding one point per bucket and halving repeatedly.
            while total > self.cap * self.size:
                self.size *= 2
        if self.size == 1 and total:
            # One point per bucket: append whole columns at once (C loops, not per point).
            xs_f = [float(x) for x in xs]
            ys_l = list(ys)
            if not _isfinite(sum(ys_l)):
                keep = [j for j, y in enumerate(ys_l) if _isfinite(y)]
                xs_f = [xs_f[j] for j in keep]
                ys_l = [ys_l[j] for j in keep]
            room = self.cap - len(self.x0)
            head = min(room, len(ys_l))
            self._append_singles(xs_f[:head], ys_l[:head])
            if head == len(ys_l):
                return
            self._halve()
            xs, ys, total = xs_f[head:], ys_l[head:], len(ys_l) - head
        while i < total:
            size = self.size
            if (not self.x0 or self._open >= size) and total - i >= size:
                room = self.cap - len(self.x0)
                if room <= 0:
                    self._halve()
                    continue
                count = min((total - i) // size, room)
                end = i + count * size
                if self._bulk(xs[i:end], ys[i:end], count):
                    i = end
                    continue
            if not self.x0 or self._open >= self.size:
                self.x0.append(math.nan)
                self.x1.append(math.nan)
                self.lo.append(math.inf)
                self.hi.append(-math.inf)
                self.sum.append(0.0)
                self.n.append(0)
                self._open = 0
            take = min(self.size - self._open, total - i)
            self._fold(xs[i : i + take], ys[i : i + take])
            self._open += take
            i += take
            if len(self.x0) > self.cap:
                self._halve()

    def _bulk(self, xs: Sequence[float], ys: Sequence[float], count: int) -> bool:
        """Fold `count` whole buckets at once with C-level loops; False if a value is not
        finite (the caller then folds bucket by bucket, skipping it)."""
        size = self.size
        if size == 1:
            sums = lo = hi = list(ys)
        elif size <= 32:  # each bucket's points as one tuple, reused by sum, min and max
            groups = list(zip(*[iter(ys)] * size))
            sums, lo, hi = list(map(sum, groups)), list(map(min, groups)), list(map(max, groups))
        else:
            starts = range(0, count * size, size)
            sums = [sum(ys[a : a + size]) for a in starts]
            lo = [min(ys[a : a + size]) for a in starts]
            hi = [max(ys[a : a + size]) for a in starts]
        if not _isfinite(sum(sums)):
            return False
        self.x0.extend(list(xs[0::size]))  # a list: array.extend wants the same typecode
        self.x1.extend(list(xs[size - 1 :: size]))
        self.lo.extend(lo)
        self.hi.extend(hi)
        self.sum.extend(sums)
        self.n.extend([size] * count)
        self._open = size
        return True

    def _append_singles(self, xs: list[float], ys: list[Any]) -> None:
        self.x0.extend(xs)
        self.x1.extend(xs)
        self.lo.extend(ys)
        self.hi.extend(ys)
        self.sum.extend(ys)
        self.n.extend([1] * len(ys))
        self._open = 1

    def _fold(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        total = sum(ys)
        if _isfinite(total):
            lo, hi, count = min(ys), max(ys), len(ys)
        else:  # a NaN or inf somewhere in the chunk: take the slow path
            ys = [y for y in ys if _isfinite(y)]
            if not ys:
                if math.isnan(self.x0[-1]):
                    self.x0[-1] = float(xs[0])
                self.x1[-1] = float(xs[-1])
                return
            total, lo, hi, count = sum(ys), min(ys), max(ys), len(ys)
        if math.isnan(self.x0[-1]):
            self.x0[-1] = float(xs[0])
        self.x1[-1] = float(xs[-1])
        if lo < self.lo[-1]:
            self.lo[-1] = lo
        if hi > self.hi[-1]:
            self.hi[-1] = hi
        self.sum[-1] += total
        self.n[-1] += count

    def _halve(self) -> None:
        m = len(self.x0)
        x0, x1, lo, hi, sm, n = [], [], [], [], [], []
        for a in range(0, m, 2):
            b = a + 1 if a + 1 < m else a
            x0.append(self.x0[a] if not math.isnan(self.x0[a]) else self.x0[b])
            x1.append(self.x1[b] if not math.isnan(self.x1[b]) else self.x1[a])
            lo.append(min(self.lo[a], self.lo[b]))
            hi.append(max(self.hi[a], self.hi[b]))
            sm.append(self.sum[a] + (self.sum[b] if b != a else 0.0))
            n.append(self.n[a] + (self.n[b] if b != a else 0))
        last_full = m % 2 == 0
        self.x0, self.x1 = array("d", x0), array("d", x1)
        self.lo, self.hi, self.sum = array("d", lo), array("d", hi), array("d", sm)
        self.n = array("q", n)
        self._open = (self._open + (self.size if last_full else 0))
        self.size *= 2

    def points(self) -> tuple[list[float], list[float], list[float], list[float]]:
        """(x, mean, min, max) of every bucket that holds a finite value."""
        xs, mean, lo, hi, _n = self.points_counted()
        return xs, mean, lo, hi

    def points_counted(
        self,
    ) -> tuple[list[float], list[float], list[float], list[float], list[int]]:
        """points() plus how many values each bucket holds (for count-aware smoothing)."""
        cols: list[Sequence[Any]] = [self.x0, self.x1, self.lo, self.hi, self.sum, self.n]
        if 0 in self.n:  # buckets that only saw NaNs: leave them out
            keep = [i for i, n in enumerate(self.n) if n]
            cols = [[col[i] for i in keep] for col in cols]
        x0, x1, lo, hi, sm, n = cols
        xs = [(a + b) / 2 for a, b in zip(x0, x1)]
        return xs, list(map(truediv, sm, n)), list(lo), list(hi), list(n)

    def means(self) -> list[float]:
        """The mean of every bucket that holds a finite value (what a sparkline draws)."""
        if 0 in self.n:
            return [s / n for s, n in zip(self.sum, self.n) if n]
        return list(map(truediv, self.sum, self.n))


def rebucket(
    xs: Sequence[float], mean: Sequence[float], lo: Sequence[float], hi: Sequence[float],
    columns: int, log_x: bool = False,
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Merge buckets into at most `columns` equal-width x columns (mean weighted equally)."""
    if len(xs) <= columns or columns <= 0:
        return list(xs), list(mean), list(lo), list(hi)
    x_lo, x_hi = xs[0], xs[-1]
    span = (x_hi - x_lo) or 1.0
    out: dict[int, list[float]] = {}
    for x, m, a, b in zip(xs, mean, lo, hi):
        c = min(columns - 1, int((x - x_lo) / span * columns))
        acc = out.get(c)
        if acc is None:
            out[c] = [x, m, a, b, 1.0]
        else:
            acc[0] += x
            acc[1] += m
            acc[4] += 1
            if a < acc[2]:
                acc[2] = a
            if b > acc[3]:
                acc[3] = b
    rx, rm, rl, rh = [], [], [], []
    for c in sorted(out):
        x, m, a, b, k = out[c]
        rx.append(x / k)
        rm.append(m / k)
        rl.append(a)
        rh.append(b)
    return rx, rm, rl, rh


def ema(ys: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average with TensorBoard's debiasing (weight 0 = raw, 0.99 = heavy)."""
    if weight <= 0:
        return list(ys)
    out: list[float] = []
    last, debias = 0.0, 0.0
    for y in ys:
        last = last * weight + (1 - weight) * y
        debias = debias * weight + (1 - weight)
        out.append(last / debias)
    return out


def ema_counted(ys: Sequence[float], counts: Sequence[int], weight: float) -> list[float]:
    """ema() over bucket means, a bucket of k values counting as k steps, so the smoothing of
    a decimated series matches the raw one's however many points each bucket holds."""
    if weight <= 0:
        return list(ys)
    out: list[float] = []
    last, debias = 0.0, 0.0
    for y, k in zip(ys, counts):
        w = weight**k
        last = last * w + (1 - w) * y
        debias = debias * w + (1 - w)
        out.append(last / debias)
    return out


def spark_levels(values: Sequence[float], width: int) -> list[float]:
    """`values` resampled to `width` points (means of equal slices), for a sparkline."""
    n = len(values)
    if n <= width:
        return list(values)
    out = []
    for c in range(width):
        a, b = c * n // width, (c + 1) * n // width
        chunk = values[a:b]
        out.append(sum(chunk) / len(chunk))
    return out


_BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int) -> str:
    """A text sparkline of `values` in `width` cells (blocks; blank for no data)."""
    finite = [v for v in values if _isfinite(v)]
    if width <= 0 or not finite:
        return " " * max(0, width)
    levels = spark_levels(finite, width)
    lo, hi = min(levels), max(levels)
    span = hi - lo
    if span <= 0:
        text = "▄" * len(levels)
    else:
        text = "".join(_BLOCKS[1 + round((v - lo) / span * 7)] for v in levels)
    return text.rjust(width)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and (population) standard deviation of the finite values; NaN when there are none."""
    vs = [v for v in values if isinstance(v, (int, float)) and _isfinite(v)]
    if not vs:
        return math.nan, math.nan
    m = sum(vs) / len(vs)
    return m, math.sqrt(sum((v - m) ** 2 for v in vs) / len(vs))


def interpolate(xs: Sequence[float], ys: Sequence[float], grid: Sequence[float]) -> list[float]:
    """ys at each grid x by linear interpolation, NaN outside [xs[0], xs[-1]]. xs ascending."""
    n = len(xs)
    if not n:
        return [math.nan] * len(grid)
    first, last = xs[0], xs[-1]
    out: list[float] = []
    for g in grid:
        if g < first or g > last:
            out.append(math.nan)
            continue
        j = bisect_left(xs, g)  # xs[j-1] < g <= xs[j]
        if j == 0 or xs[j] == g:
            out.append(ys[j])
            continue
        x0, x1 = xs[j - 1], xs[j]
        out.append(ys[j - 1] + (ys[j] - ys[j - 1]) * (g - x0) / (x1 - x0))
    return out


def band(
    series: list[tuple[list[float], list[float]]], points: int
) -> tuple[list[float], list[float], list[float], list[float], list[float]]:
    """Mean, std, min and max of several series on a common x grid of `points` points.

    Returns (grid, mean, std, min, max); a grid point that no series covers is dropped.
    """
    ranges = [(xs[0], xs[-1]) for xs, _ in series if xs]
    if not ranges:
        return [], [], [], [], []
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    points = max(2, points)
    grid = [lo + (hi - lo) * i / (points - 1) for i in range(points)] if hi > lo else [lo]
    columns = [interpolate(xs, ys, grid) for xs, ys in series if xs]
    gx, gm, gs, gl, gh = [], [], [], [], []
    for i, g in enumerate(grid):
        vals = [c[i] for c in columns if _isfinite(c[i])]
        if not vals:
            continue
        m = sum(vals) / len(vals)
        gx.append(g)
        gm.append(m)
        gs.append(math.sqrt(sum((v - m) ** 2 for v in vals) / len(vals)))
        gl.append(min(vals))
        gh.append(max(vals))
    return gx, gm, gs, gl, gh


def hashable(v: Any) -> Any:
    """A config value as something a dict or set can hold (lists become tuples)."""
    if isinstance(v, list):
        return tuple(hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, hashable(x)) for k, x in v.items()))
    return v
