"""Which rows history(samples=N) keeps, for the logged metrics (logger/history_table.py) and the
system stream (logger/streams.py) alike: one rule, in a module neither's imports reach back to."""

from __future__ import annotations

__all__ = ["positions"]


def positions(n: int, samples: int) -> list[int]:
    """Which of `n` rows (more than `samples`) history(samples=N) keeps: the first and the
    last, and N-2 at random positions between, as W&B's server samples (its picks are not
    evenly spaced: wandb/wandb#5994), seeded so that a run read twice gives the same rows;
    for N=1, the first."""
    if samples < 2:
        return [0]
    import random  # only when a history is sampled: `ls` and `show` load this module, not it

    return [0, *sorted(random.Random(0).sample(range(1, n - 1), samples - 2)), n - 1]
