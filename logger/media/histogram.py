"""`Histogram`: W&B's histogram, kept inline in the history row as `{"_type": "histogram",
"values": counts, "bins": edges}` (no file, as in W&B).

Binning follows `numpy.histogram` (equal-width bins over [min, max], the last bin closed);
NumPy does it when the sequence is a NumPy array or torch tensor, pure Python otherwise.
Values that are NaN or infinite are left out and counted in `dropped` (numpy.histogram, and so
W&B, raises on them: a NaN gradient would end the run).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from .base import Context, Media, module_of, to_numpy

MAX_LENGTH = 512


class Histogram(Media):
    """Counts of a sequence in `num_bins` equal bins (default 64), or a precomputed
    `np_histogram=(counts, edges)`."""

    _log_type = "histogram"
    MAX_LENGTH = MAX_LENGTH

    def __init__(self, sequence: Sequence[Any] | Any = None, np_histogram: Any = None,
                 num_bins: int = 64) -> None:
        self.dropped = 0
        if np_histogram is not None:
            if len(np_histogram) != 2:
                raise ValueError("np_histogram must be a (counts, bin_edges) pair, as numpy.histogram returns")
            self.histogram = _as_list(np_histogram[0])
            self.bins = _as_list(np_histogram[1])
        elif sequence is None:
            raise ValueError("Histogram needs a sequence of values or np_histogram=(counts, edges)")
        else:
            if not isinstance(num_bins, int) or isinstance(num_bins, bool) or num_bins < 1:
                raise ValueError(f"num_bins must be a positive int, not {num_bins!r}")
            self.histogram, self.bins, self.dropped = _bin(sequence, num_bins)
        if len(self.histogram) > MAX_LENGTH:
            raise ValueError(f"The maximum length of a histogram is {MAX_LENGTH}")
        if len(self.histogram) + 1 != len(self.bins):
            raise ValueError("len(bins) must be len(histogram) + 1")

    def to_ref(self, ctx: Context) -> dict[str, Any]:
        return {"_type": self._log_type, "values": self.histogram, "bins": self.bins}

    def __repr__(self) -> str:
        return f"<Histogram {len(self.histogram)} bins>"


def _as_list(values: Any) -> list[Any]:
    tolist = getattr(values, "tolist", None)
    out = tolist() if callable(tolist) else list(values)
    return [v.item() if hasattr(v, "item") else v for v in out]


def _bin(sequence: Any, num_bins: int) -> tuple[list[int], list[float], int]:
    if module_of(sequence) in ("numpy", "torch", "jax", "jaxlib") and "numpy" in sys.modules:
        np = sys.modules["numpy"]
        a = np.asarray(to_numpy(sequence), dtype=np.float64).ravel()
        finite = a[np.isfinite(a)]
        counts, edges = np.histogram(finite, bins=num_bins)
        return counts.tolist(), edges.tolist(), int(a.size - finite.size)
    values = [float(v) for v in _flatten(sequence)]
    finite = [v for v in values if math.isfinite(v)]
    return (*bin_values(finite, num_bins), len(values) - len(finite))


def _flatten(seq: Any) -> list[Any]:
    tolist = getattr(seq, "tolist", None)
    if callable(tolist):
        seq = tolist()
    out: list[Any] = []
    stack = [iter(seq)] if isinstance(seq, (list, tuple, range)) else [iter(list(seq))]
    while stack:
        for item in stack[-1]:
            if isinstance(item, (list, tuple)):
                stack.append(iter(item))
                break
            out.append(item)
        else:
            stack.pop()
    return out


def bin_values(values: list[float], num_bins: int) -> tuple[list[int], list[float]]:
    """numpy.histogram(values, bins=num_bins) in pure Python: (counts, edges)."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    step, norm = (hi - lo) / num_bins, num_bins / (hi - lo)  # as numpy.linspace and histogram
    edges = [i * step + lo for i in range(num_bins + 1)]
    edges[-1] = hi
    counts = [0] * num_bins
    for v in values:
        i = min(int((v - lo) * norm), num_bins - 1)
        if v < edges[i]:  # rounding put it one bin too high or low: the edges decide
            i -= 1
        elif i + 1 < num_bins and v >= edges[i + 1]:
            i += 1
        counts[i] += 1
    return counts, edges
