"""Parameter importance: which config keys explain a metric, across runs (pure Python).

Per key: a rank correlation with the metric, and the adjusted share of the metric's variance
its values explain, normalised into an importance ranking: simple and explainable, where
W&B fits a random forest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .stats import hashable

_isfinite = math.isfinite


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2
        i = j + 1
    return ranks


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    n = len(xs)
    if n < 2:
        return math.nan
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return math.nan
    return sxy / math.sqrt(sxx * syy)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Rank correlation: learning rates spread over decades correlate as well as linear ones."""
    return pearson(_ranks(xs), _ranks(ys))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and _isfinite(v)


def eta_squared(groups: list[Any], ys: Sequence[float]) -> float:
    """Share of the metric's variance explained by `groups`, adjusted for the number of groups.

    Adjusted like R² (1 - (1-η²)(n-1)/(n-k)) so a key with one value per run is not "important".
    """
    n = len(ys)
    by: dict[Any, list[float]] = {}
    for g, y in zip(groups, ys):
        by.setdefault(g, []).append(y)
    k = len(by)
    if n < 3 or k < 2 or k >= n:
        return 0.0
    m = sum(ys) / n
    total = sum((y - m) ** 2 for y in ys)
    if total <= 0:
        return 0.0
    between = sum(len(v) * (sum(v) / len(v) - m) ** 2 for v in by.values())
    eta2 = between / total
    return max(0.0, 1 - (1 - eta2) * (n - 1) / (n - k))


def _bins(values: list[float], count: int) -> list[int]:
    """Quantile bin of each value (values with few distinct levels keep one bin each)."""
    distinct = sorted(set(values))
    if len(distinct) <= count:
        index = {v: i for i, v in enumerate(distinct)}
        return [index[v] for v in values]
    ranks = _ranks(values)
    n = len(values)
    return [min(count - 1, int(r * count / n)) for r in ranks]


def importance(
    configs: list[dict[str, Any]], metric: list[float]
) -> list[tuple[str, float, float, int]]:
    """Per config key: (key, importance share, rank correlation or NaN, runs), most important first.

    `configs` are flat config dicts, `metric` the metric of each run (NaN where missing).
    Importance is the adjusted η² of the metric over the key's values (quantile bins for
    numbers), normalised to sum to 1: a simple, explainable stand-in for W&B's forest.
    """
    rows = [(c, y) for c, y in zip(configs, metric) if _isfinite(y)]
    keys: list[str] = []
    for c, _ in rows:
        keys.extend(k for k in c if k not in keys)
    out: list[tuple[str, float, float, int]] = []
    for key in keys:
        pairs = [(c[key], y) for c, y in rows if key in c]
        values = [p[0] for p in pairs]
        ys = [p[1] for p in pairs]
        try:
            if len(set(map(hashable, values))) < 2:
                continue
        except TypeError:
            continue
        if all(_is_number(v) for v in values):
            xs = [float(v) for v in values]
            corr = spearman(xs, ys)
            groups: list[Any] = _bins(xs, max(2, min(8, len(xs) // 3)))
        else:
            corr = math.nan
            groups = [hashable(v) for v in values]
        out.append((key, eta_squared(groups, ys), corr, len(pairs)))
    total = sum(r[1] for r in out)
    if total > 0:
        out = [(k, v / total, c, n) for k, v, c, n in out]
    out.sort(key=lambda r: (-r[1], -abs(r[2]) if _isfinite(r[2]) else 0.0, r[0]))
    return out
