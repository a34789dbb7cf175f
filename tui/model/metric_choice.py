"""Which metrics the run table shows: a default that follows the keys runs log, until the
user picks (then their choice stays, whatever new keys appear)."""

from __future__ import annotations

from collections.abc import Iterable

from .runview import RunView

DEFAULT_METRICS = 3
_PREFERRED = ("loss", "acc", "reward", "score", "f1", "error", "perplexity")


def default_metrics(keys_by_count: dict[str, int]) -> tuple[str, ...]:
    """The metric columns to start with: common keys, losses and accuracies first."""
    def rank(key: str) -> tuple[int, int, str]:
        hits = [i for i, p in enumerate(_PREFERRED) if p in key.lower()]
        return (hits[0] if hits else len(_PREFERRED), -keys_by_count[key], key)

    keys = [k for k in keys_by_count if not k.startswith("_")]
    return tuple(sorted(keys, key=rank)[:DEFAULT_METRICS])


class MetricChoice:
    def __init__(self) -> None:
        self.auto = True  # False once the user picked
        self._seen: set[str] = set()

    def follow(self, changed: Iterable[RunView], every: Iterable[RunView],
               current: tuple[str, ...]) -> tuple[str, ...] | None:
        """The metrics to show now that `changed` arrived, or None to keep `current`."""
        if not self.auto:
            return None
        new_keys = {k for v in changed for k in v.numeric_keys} - self._seen
        if not new_keys:
            return None
        self._seen |= new_keys
        counts: dict[str, int] = {}
        for view in every:
            for key in view.numeric_keys:
                counts[key] = counts.get(key, 0) + 1
        metrics = default_metrics(counts)
        return metrics if metrics and metrics != current else None

    def picked(self) -> None:
        self.auto = False
