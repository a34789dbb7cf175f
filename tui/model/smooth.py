"""Smoothing as W&B offers it, over decimated buckets (a bucket of k values counts as k points).

- "twema": W&B's default, the time-weighted EMA: weight min(sqrt(param), 0.999), decayed by
  the x distance in thousandths of the x range, debiased (docs.wandb.ai, "Smooth line plots").
- "ema": TensorBoard's debiased EMA (W&B's deprecated "exponential").
- "average": a running average of `param` points centred on each point (a boxcar).
- "gaussian": a Gaussian kernel with a standard deviation of `param` points.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from .stats import ema_counted, interpolate

KINDS = ("twema", "ema", "average", "gaussian")
NAMES = {"twema": "time-weighted EMA", "ema": "EMA", "average": "running average",
         "gaussian": "gaussian"}
LEVELS = {
    "twema": (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99),
    "ema": (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99),
    "average": (0.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0),
    "gaussian": (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0),
}
VIEWPORT_SCALE = 1000  # W&B measures x steps in thousandths of the plotted range
GAUSS_BUCKETS = 256  # a kernel is applied to at most this many merged buckets


def label(kind: str, param: float) -> str:
    """How a chart's note names the smoothing ("smoothing 0.6", "running average 20")."""
    if kind == "twema":
        return f"smoothing {param:g}"
    return f"{NAMES.get(kind, kind)} {param:g}"


def smooth(kind: str, xs: Sequence[float], ys: Sequence[float], counts: Sequence[int],
           param: float, x_range: float) -> list[float]:
    """ys smoothed by `kind` (param 0: unchanged). `x_range`: the chart's whole x span."""
    if param <= 0 or not ys:
        return list(ys)
    if kind == "ema":
        return ema_counted(ys, counts, min(param, 0.999))
    if kind == "average":
        return running_average(ys, counts, param)
    if kind == "gaussian":
        return gaussian(ys, counts, param)
    return twema(xs, ys, counts, param, x_range)


def twema(xs: Sequence[float], ys: Sequence[float], counts: Sequence[int], param: float,
          x_range: float) -> list[float]:
    """W&B's time-weighted EMA; a bucket's k values arrive together (k = 1: W&B's formula)."""
    weight = min(math.sqrt(param), 0.999)
    span = x_range if x_range > 0 else 1.0
    out: list[float] = []
    last = debias = 0.0
    prev = xs[0] if xs else 0.0
    for x, y, k in zip(xs, ys, counts):
        adj = weight ** ((x - prev) / span * VIEWPORT_SCALE)
        last = last * adj + y * k
        debias = debias * adj + k
        out.append(last / debias)
        prev = x
    return out


def _positions(counts: Sequence[int]) -> tuple[list[float], list[float]]:
    """Each bucket's centre on the raw-point axis, and the cumulative counts (from 0)."""
    cum = [0.0]
    pos = []
    for k in counts:
        pos.append(cum[-1] + k / 2)
        cum.append(cum[-1] + k)
    return pos, cum


def running_average(ys: Sequence[float], counts: Sequence[int], window: float) -> list[float]:
    """The mean of the ~`window` points centred on each point (prefix sums: O(n log n))."""
    pos, _cum = _positions(counts)
    sums = [0.0]
    weights = [0.0]
    for y, k in zip(ys, counts):
        sums.append(sums[-1] + y * k)
        weights.append(weights[-1] + k)
    half = window / 2
    out = []
    for p in pos:
        a, b = bisect_left(pos, p - half), bisect_right(pos, p + half)
        out.append((sums[b] - sums[a]) / (weights[b] - weights[a]))
    return out


def gaussian(ys: Sequence[float], counts: Sequence[int], sigma: float) -> list[float]:
    """A Gaussian-weighted mean within 3 sigma (in points) of each point. Past GAUSS_BUCKETS
    buckets the kernel runs on merged buckets, interpolated back, to stay cheap."""
    n = len(ys)
    if n > GAUSS_BUCKETS:
        group = math.ceil(n / GAUSS_BUCKETS)
        gy, gk = [], []
        for a in range(0, n, group):
            k = sum(counts[a:a + group])
            gy.append(sum(y * c for y, c in zip(ys[a:a + group], counts[a:a + group])) / k)
            gk.append(k)
        coarse = gaussian(gy, gk, sigma)
        centres = [(a + min(n, a + group) - 1) / 2 for a in range(0, n, group)]
        fine = interpolate(centres, coarse, range(n))
        return [v if v == v else coarse[0 if i < centres[0] else -1] for i, v in enumerate(fine)]
    pos, _cum = _positions(counts)
    reach = 3 * sigma
    out = []
    for p in pos:
        a, b = bisect_left(pos, p - reach), bisect_right(pos, p + reach)
        num = den = 0.0
        for j in range(a, b):
            w = counts[j] * math.exp(-((pos[j] - p) ** 2) / (2 * sigma * sigma))
            num += w * ys[j]
            den += w
        out.append(num / den)
    return out
