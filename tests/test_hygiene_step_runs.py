"""A writer's record steps as arithmetic runs (logger/step_runs.py) count the steps at or below
any top exactly as the steps themselves do, however the steps arrive in batches."""

from __future__ import annotations

import random

from logger import step_runs


def test_runs_count_as_the_steps_do():
    rng = random.Random(1)
    for _ in range(2000):
        pool = [rng.randrange(0, 60), rng.randrange(0, 10) * 7, rng.randrange(0, 4) * 100]
        steps = sorted({rng.choice(pool) + rng.randrange(0, 2) for _ in range(rng.randrange(1, 30))})
        runs: step_runs.Runs | None = []
        cuts = sorted(rng.sample(range(len(steps) + 1), 2))
        for lo, hi in zip([0, *cuts], [*cuts, len(steps)]):
            runs = step_runs.add(runs, steps[lo:hi])
        assert runs is not None
        assert step_runs.checked([list(r) for r in runs], len(steps), steps[0]) == runs
        for top in range(-2, 410):
            assert step_runs.at_or_below(runs, top) == sum(1 for s in steps if s <= top), (steps, top)


def test_many_strides_give_up_and_a_forged_run_is_refused():
    steps = [i * i for i in range(200)]  # every gap a new stride
    assert step_runs.add([], steps) is None
    assert step_runs.add([], list(range(0, 10_000, 3))) == [[0, 3, 3334]]
    for forged in ([[5, 0, 2]], [[0, 1, 10], [5, 1, 2]], [[0, -1, 3]], [[0, 1, 99]], [["0", 1, 2]], "x"):
        assert step_runs.checked(forged, 10, 0) is None, forged
    assert step_runs.checked([[1, 1, 3]], 10, 0) is None  # not from the first step
