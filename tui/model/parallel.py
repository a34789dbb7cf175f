"""The importance screen's numbers as text and plot data: share bars, correlation bars, and
parallel coordinates of the most important config keys against a metric (no Textual here)."""

from __future__ import annotations

import math
from typing import Any

from logger.textsafe import one_line

from ..fmt import fmt_number
from .plot import Line, Plot
from .stats import hashable

AXES = 5  # config keys in the parallel-coordinates view
SCALE = (21, 33, 45, 226, 208, 196)  # metric low -> high, six bins


def bar(share: float, width: int = 12) -> str:
    full = max(0, min(width, round(share * width)))
    return "█" * full + "·" * (width - full)


def signed_bar(value: float, width: int = 6) -> str:
    if math.isnan(value):
        return " " * width + "│" + " " * width
    n = max(0, min(width, round(abs(value) * width)))
    left = " " * (width - n) + "█" * n if value < 0 else " " * width
    right = "█" * n + " " * (width - n) if value > 0 else " " * width
    return left + "│" + right


MISSING_AT = 0.0  # a run without the key: the bottom of a number axis, under its least value


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def axis(values: list[Any]) -> tuple[list[float], str]:
    """Values placed on [0, 1], and how the axis reads: numbers (log past 100x), or categories.
    Runs that lack a number key keep the axis numeric, their lines at the bottom (one run
    without `seed` had made it categories in string order: 0, 1, 10, 100, 1000, 2)."""
    nums = [v for v in values if _is_number(v)]
    if nums and len(nums) + values.count(None) == len(values):
        placed, reads = _numbers(nums)
        if len(nums) == len(values):
            return placed, reads
        it = iter(placed)  # numbers above the missing: 0.1 .. 1
        return ([MISSING_AT if v is None else 0.1 + 0.9 * next(it) for v in values],
                f"{reads}, - at the bottom")
    ordered = sorted({hashable(v) for v in values}, key=_category_order)
    index = {k: i for i, k in enumerate(ordered)}
    top = max(1, len(ordered) - 1)
    cats = ["-" if v is None else fmt_number(v) for v in ordered]  # the order they are placed in
    return [index[hashable(v)] / top for v in values], " | ".join(cats[:6])


def _numbers(nums: list[Any]) -> tuple[list[float], str]:
    """Numbers on [0, 1] by their finite range; inf and -inf at its ends, nan at the bottom
    (a diverged run, or a logged nan, must not make every other line nan)."""
    finite = [v for v in nums if math.isfinite(v)] or [0.0]
    lo, hi = min(finite), max(finite)
    log = lo > 0 and hi / lo >= 100
    llo, span = (math.log10(lo), (math.log10(hi) - math.log10(lo))) if log else (lo, (hi - lo) or 1.0)

    def place(v: float) -> float:
        if not math.isfinite(v):
            return 1.0 if v == math.inf else 0.0
        return ((math.log10(v) if log else v) - llo) / span

    reads = f"{fmt_number(lo)} … {fmt_number(hi)}" + (" (log)" if log else "")
    return [place(v) for v in nums], reads


def _category_order(v: Any) -> tuple[int, float, str]:
    """Missing first, then numbers by value, then everything else by its text."""
    if v is None:
        return (0, 0.0, "")
    if _is_number(v):
        return (1, float(v), "")
    return (2, 0.0, v if isinstance(v, str) else repr(v))


def parallel_plot(configs: list[dict[str, Any]], metric: list[float], keys: list[str],
                  name: str) -> tuple[Plot, list[tuple[str, str]]]:
    """One line per run across `keys` then the metric `name`, coloured by the metric; and each
    axis's (label, how it reads) for the legend. Needs 2+ runs and a key."""
    if not keys or len(configs) < 2:
        return Plot("parallel coordinates", (), message="needs 2+ runs and a varying key"), []
    columns, legend = [], []
    for i, key in enumerate(keys + [name]):
        values = [c.get(key) for c in configs] if i < len(keys) else list(metric)
        placed, reads = axis(values)
        columns.append(placed)
        legend.append((f"{i + 1}:{one_line(key, 20)}", reads))
    order = sorted(range(len(configs)), key=lambda j: metric[j])
    bins = len(SCALE)
    lines = []
    for rank, j in enumerate(order):
        color = SCALE[min(bins - 1, rank * bins // len(order))]
        lines.append(Line(list(range(len(columns))), [c[j] for c in columns], color))
    ticks = tuple((float(i), str(i + 1)) for i in range(len(columns)))
    plot = Plot(f"parallel coordinates: {len(keys)} keys and {name}",
                tuple(lines), x_ticks=ticks, y_ticks=((0.0, "min"), (1.0, "max")),
                note="colour: blue = low metric, red = high")
    return plot, legend
