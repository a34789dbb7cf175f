"""A writer's record steps (rows whose step was past every earlier row's) as a few arithmetic
runs, so a listing counts the rows a later writer logged at or below an earlier writer's
steps (a resume from an older checkpoint, DDP ranks sharing steps) without reading rows.

A run is [first, stride, count]: steps first, first + stride, ... (stride 0 when count is 1).
A writer logging every step, or every Nth, is one run; None means unknown (more than
MAX_RUNS runs, or an old snapshot that does not say): the reader then counts from the rows.
"""

from __future__ import annotations

from itertools import groupby, islice
from operator import sub
from typing import Any

MAX_RUNS = 64

Runs = list[list[int]]


def add(runs: Runs | None, steps: list[int]) -> Runs | None:
    """`runs` with more record steps (strictly increasing, past every step of `runs`): O(1)
    for consecutive steps, else C-level passes and a step of Python per change of stride;
    None past MAX_RUNS."""
    if runs is None or not steps:
        return runs
    _point(runs, steps[0])
    if steps[-1] - steps[0] == len(steps) - 1:  # increasing by at least 1 each: by exactly 1
        if len(steps) > 1:
            _extend(runs, 1, len(steps) - 1)
        return runs
    for stride, group in groupby(map(sub, islice(steps, 1, None), steps)):
        _extend(runs, stride, len(list(group)))
    return runs if len(runs) <= MAX_RUNS else None


def _extend(runs: Runs, stride: int, k: int) -> None:
    """k more steps after the last of `runs`, each `stride` past the one before."""
    last = runs[-1]
    first, was, n = last
    if n == 1:
        last[1], last[2] = stride, 1 + k
    elif was == stride:
        last[2] = n + k
    else:
        runs.append([first + was * (n - 1) + stride, stride, k])


def _point(runs: Runs, step: int) -> None:
    if not runs:
        runs.append([step, 0, 1])
        return
    last = runs[-1]
    first, stride, n = last
    if n == 1:
        last[1], last[2] = step - first, 2
    elif step == first + stride * n:
        last[2] = n + 1
    else:
        runs.append([step, 0, 1])


def at_or_below(runs: Runs, top: int) -> int:
    """How many of the steps in `runs` are <= top."""
    count = 0
    for first, stride, n in runs:
        if top < first:
            break
        count += 1 if n == 1 else min(n, (top - first) // stride + 1)
    return count


def checked(value: Any, rows: int, first_step: int) -> Runs | None:
    """Runs read from a file, or None where they do not describe at most `rows` increasing
    steps from `first_step` (a damaged or foreign snapshot costs a read of its rows, never
    a wrong count)."""
    if type(value) is not list or len(value) > MAX_RUNS:
        return None
    out: Runs = []
    end: int | None = None
    total = 0
    for run in value:
        if type(run) is not list or len(run) != 3 or not all(type(x) is int for x in run):
            return None
        first, stride, n = run
        if n < 1 or stride < 0 or (n > 1 and stride == 0) or (end is not None and first <= end):
            return None
        end, total = first + stride * (n - 1), total + n
        out.append([first, stride, n])
    return out if total <= rows and (not out or out[0][0] == first_step) else None


def rewritten(digests: list[Any]) -> int | None:
    """Rows not past every earlier row's step across writers in the merged history's order
    (logger/multiwriter.py): each writer's own, and its record steps at or below the highest
    step of the writers before it. None when a writer that needs it has no runs."""
    total, top = 0, None
    for d in digests:
        total += d.rewritten
        if top is not None and (d.first_step is None or d.first_step <= top):
            if d.runs is None:
                return None
            total += at_or_below(d.runs, top)
        if d.max_step is not None:
            top = d.max_step if top is None else max(top, d.max_step)
    return total
