"""The importance screen's parallel coordinates keep a number key's axis numeric when some
runs lack the key: one run without `seed` had turned the axis into categories in string
order (0, 1, 10, 100, 1000, 2), each line placed by the text of its seed."""

from __future__ import annotations

import math

from tests.test_tui_main import started
from tests.test_tui_support import wait_for, write_run
from tui.app import RunwatchApp
from tui.model.parallel import axis
from tui.screens.importance import ImportanceScreen
from tui.widgets.chart import Chart

SEEDS = (0, 1, 2, 10, 100, 1000)


def loss_of(seed: float) -> float:
    return 1.0 / (seed + 2)


async def test_a_number_axis_stays_in_number_order_when_a_run_lacks_the_key(tmp_path):
    root = tmp_path / "runs"
    for i, seed in enumerate(SEEDS):
        write_run(root, f"run{i:03d}", steps=2, config={"seed": seed},
                  metrics=lambda _s, seed=seed: {"loss": loss_of(seed)})
    write_run(root, "run999", steps=2, config={"other": 1}, metrics=lambda _s: {"loss": 0.9})
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        await started(pilot, runs=len(SEEDS) + 1)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ImportanceScreen))
        screen = pilot.app.screen
        plot = screen.query_one("#imp-parallel", Chart).plot
        await wait_for(pilot, lambda: plot is not None and plot.lines)
        legend = str(screen.query_one("#imp-axes").render())
        at = next(int(part.split(":")[0]) - 1 for part in legend.split() if part.endswith(":seed"))
        assert "0 … 1000, - at the bottom" in legend
        by_loss = {round(line.ys[-1], 9): line.ys[at] for line in plot.lines}
        metric_axis, _ = axis([loss_of(s) for s in SEEDS] + [0.9])
        placed = [by_loss[round(y, 9)] for y in metric_axis[:-1]]
        assert placed == sorted(placed) and len(set(placed)) == len(SEEDS)  # seed order
        assert by_loss[round(metric_axis[-1], 9)] == 0.0  # the run without a seed: the bottom


def test_categories_are_placed_in_the_order_the_legend_reads():
    placed, reads = axis([10, 9, "x", None])
    assert reads == "- | 9 | 10 | x"
    assert placed == [2 / 3, 1 / 3, 1.0, 0.0]


def test_a_nan_or_inf_does_not_make_every_line_nan():
    placed, reads = axis([math.nan, 1.0, 2.0, math.inf])
    assert placed == [0.0, 0.0, 1.0, 1.0] and reads == "1 … 2"
