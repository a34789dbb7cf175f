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


def axis(values: list[Any]) -> tuple[list[float], str]:
    """Values placed on [0, 1], and how the axis reads: numbers (log past 100x), or categories."""
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(nums) == len(values) and nums:
        lo, hi = min(nums), max(nums)
        if lo > 0 and hi / lo >= 100:
            llo, lhi = math.log10(lo), math.log10(hi)
            return ([(math.log10(v) - llo) / (lhi - llo) for v in nums],
                    f"{fmt_number(lo)} … {fmt_number(hi)} (log)")
        span = (hi - lo) or 1.0
        return [(v - lo) / span for v in nums], f"{fmt_number(lo)} … {fmt_number(hi)}"
    keys = sorted({repr(hashable(v)) for v in values})
    index = {k: i for i, k in enumerate(keys)}
    top = max(1, len(keys) - 1)
    cats = sorted({"-" if v is None else fmt_number(v) for v in values})
    return [index[repr(hashable(v))] / top for v in values], " | ".join(cats[:6])


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
