"""Comparing runs against a baseline: the config keys that differ, and each summary metric's
value and its change from the baseline's.

Pure Python over RunView snapshots (no Textual); the compare screen draws what `compare()`
returns. Every string from a file goes through `logger.textsafe` here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from logger.query import shown_summary
from logger.textsafe import one_line

from ..fmt import fmt_exact, fmt_number
from .runview import RunView
from .stats import hashable

_MISSING = object()
LOWER_IS_BETTER = ("loss", "error", "err", "perplexity", "ppl", "mse", "mae", "rmse", "wer")


@dataclass(frozen=True)
class ConfigRow:
    key: str
    values: tuple[str, ...]  # per run, baseline first; "" where the run lacks the key


@dataclass(frozen=True)
class MetricRow:
    key: str
    values: tuple[str, ...]  # per run, baseline first; "" where not logged
    deltas: tuple[str, ...]  # per run after the baseline: "+0.012 (+4.1%)", "" when unknown
    better: tuple[bool | None, ...]  # per run after the baseline: an improvement? None: can't say


@dataclass(frozen=True)
class Comparison:
    names: tuple[str, ...]  # baseline first
    paths: tuple[str, ...]
    config: tuple[ConfigRow, ...]
    same_keys: int  # config keys with one value in every run (not shown)
    metrics: tuple[MetricRow, ...]


def _config_value(value: Any) -> str:
    return "" if value is _MISSING else fmt_exact(value) if value is not None else "None"


def config_diff(runs: list[RunView]) -> tuple[tuple[ConfigRow, ...], int]:
    """The flat config keys whose value differs between `runs` (or that some lack), in
    first-seen order, and how many keys are the same everywhere."""
    keys: dict[str, None] = {}
    for run in runs:
        keys.update(dict.fromkeys(run.config_flat))
    rows: list[ConfigRow] = []
    same = 0
    for key in keys:
        values = [run.config_flat.get(key, _MISSING) for run in runs]
        seen = {repr(hashable(v)) if v is not _MISSING else "<missing>" for v in values}
        if len(seen) == 1:
            same += 1
            continue
        rows.append(ConfigRow(one_line(key), tuple(_config_value(v) for v in values)))
    return tuple(rows), same


def metric_keys(runs: list[RunView]) -> list[str]:
    """Summary keys with a number in some run, under the names the table uses
    (`val/loss.min`); W&B's internal `_step`, `_runtime`, `_timestamp` left out."""
    keys: dict[str, None] = {}
    for run in runs:
        for key, value in shown_summary(run.summary).items():
            if key.startswith("_") or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                keys[key] = None
    return sorted(keys)


def _number(run: RunView, key: str) -> float | None:
    value = shown_summary(run.summary).get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def lower_is_better(key: str) -> bool | None:
    """Which way is good for `key`: its define_metric aggregate says (`.min`: lower,
    `.max`: higher), else its name (loss, error: lower; acc, f1, reward: higher), else None."""
    low = key.lower()
    if low.endswith(".min"):
        return True
    if low.endswith(".max"):
        return False
    last = low.rsplit("/", 1)[-1]
    if any(word in last for word in LOWER_IS_BETTER):
        return True
    if any(word in last for word in ("acc", "f1", "reward", "score", "auc", "precision",
                                     "recall", "bleu", "map", "iou")):
        return False
    return None


def fmt_delta(base: float | None, value: float | None) -> str:
    """"+0.012 (+4.1%)": the change from the baseline; "" when either is not logged."""
    if base is None or value is None:
        return ""
    if math.isnan(base) or math.isnan(value):
        return "nan"
    if math.isinf(base) or math.isinf(value):
        return "inf" if value != base else "±0"
    delta = value - base
    if delta == 0:
        return "±0"
    text = f"{delta:+.4g}"
    if base != 0:
        percent = 100 * delta / abs(base)
        # Beyond ±1000 % a ratio reads better: "×100", not "+9.9e+03%".
        text += f" ({percent:+.3g}%)" if abs(percent) < 1000 else f" (×{value / base:.3g})"
    return text


def _better(key: str, base: float | None, value: float | None) -> bool | None:
    lower = lower_is_better(key)
    if lower is None or base is None or value is None or not (
            math.isfinite(base) and math.isfinite(value)) or value == base:
        return None
    return (value < base) == lower


def compare(runs: list[RunView], baseline: RunView | None = None) -> Comparison:
    """`runs` against `baseline` (the first run when None); the baseline comes first."""
    if baseline is None:
        baseline = runs[0]
    ordered = [baseline] + [r for r in runs if r.path != baseline.path]
    config, same = config_diff(ordered)
    rows: list[MetricRow] = []
    for key in metric_keys(ordered):
        nums = [_number(r, key) for r in ordered]
        base = nums[0]
        rows.append(MetricRow(
            one_line(key),
            tuple("" if n is None else fmt_number(n) for n in nums),
            tuple(fmt_delta(base, n) for n in nums[1:]),
            tuple(_better(key, base, n) for n in nums[1:]),
        ))
    return Comparison(tuple(one_line(r.name) for r in ordered), tuple(r.path for r in ordered),
                      config, same, tuple(rows))
