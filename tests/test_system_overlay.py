"""The System tab over several runs: marked runs overlaid (a line per run, the legend names
them) and a group's mean ±std band, as the Charts tab draws them. Two real runs, written by
subprocess scripts: psutil for real, GPUs through the NVML fake of tests/test_system.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_script
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp
from tui.model.plot import DIM
from tui.model.system_plots import overlay_plots
from tui.screens.detail import DetailScreen
from tui.screens.logs import SystemPanel
from tui.screens.main import MainScreen
from tui.widgets.chart import Chart
from tui.widgets.run_table import RunTable

RUN = """
    import sys, time
    from types import SimpleNamespace
    from tests.test_system import fake_nvml, h100
    gpus = [h100({used} * 2**30, []) for _ in range({gpus})]
    for gpu in gpus:
        gpu["nvmlDeviceGetUtilizationRates"] = SimpleNamespace(gpu={util}, memory=0)
    sys.modules["pynvml"] = fake_nvml(gpus)
    import logger
    logger.init(project="p", name="{name}", config={{"lr": {lr}, "seed": {seed}}})
    logger.log({{"loss": 1.0}})
    time.sleep(0.8)
    logger.finish()
"""


def two_runs(tmp_path: Path) -> None:
    run_script(tmp_path, RUN.format(name="busy", gpus=2, used=71, util=90, lr=0.1, seed=1),
               RUNWATCH_SYSTEM_INTERVAL="0.1")
    run_script(tmp_path, RUN.format(name="idle", gpus=1, used=1, util=10, lr=0.1, seed=2),
               RUNWATCH_SYSTEM_INTERVAL="0.1")


def shown_plots(panel: SystemPanel) -> dict[str, object]:
    return {c.plot.title: c.plot for c in panel.query(Chart) if c.display and c.plot is not None}


async def test_marked_runs_overlay_each_system_metric_one_line_per_run(root: Path,
                                                                      tmp_path: Path) -> None:
    two_runs(tmp_path)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen)
                       and len(app.screen.model.visible_runs) == 2, 10)
        await pilot.press("space", "enter")  # mark the first run, open the second with it
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("7")
        panel = app.screen.query_one(SystemPanel)
        await wait_for(pilot, lambda: panel.done and panel.samples >= 6, 10)
        plots = shown_plots(panel)
        title = "GPU util % (mean of GPUs)"  # the busy run has two GPUs
        assert list(plots) == [title, "GPU memory % (mean of GPUs)",
                               "GPU temperature °C (mean of GPUs)",
                               "GPU power W (mean of GPUs)",
                               "CPU % (process tree)", "system memory %"]
        util = {line.label: set(line.ys) for line in plots[title].lines}
        assert util == {"busy": {90.0}, "idle": {10.0}}  # one line per run, named
        cpu = plots["CPU % (process tree)"]
        assert sorted(line.label for line in cpu.lines) == ["busy", "idle"]
        assert len({line.color for line in cpu.lines}) == 2
        status = str(panel.query_one("#system-status").render())
        assert "of 2 runs overlaid" in status
        await pilot.pause()
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "busy" in shown and "idle" in shown and "nan" not in shown


async def test_a_group_shows_the_mean_and_std_band_of_each_system_metric(root: Path,
                                                                        tmp_path: Path) -> None:
    two_runs(tmp_path)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen)
                       and len(app.screen.model.visible_runs) == 2, 10)
        screen = app.screen
        screen.model.group_keys = ("lr",)
        screen.refresh_table()
        await pilot.pause()
        screen.query_one(RunTable).move_to(0)  # the cursor keeps its run: up to the group row
        await pilot.pause()
        assert screen.current_row().kind == "group"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.group)
        await pilot.press("7")
        panel = app.screen.query_one(SystemPanel)
        await wait_for(pilot, lambda: panel.done and panel.samples >= 6, 10)
        util = shown_plots(panel)["GPU util % (mean of GPUs)"]
        low, high, mean = util.lines
        assert low.color == high.color == DIM and mean.label == "mean of 2 runs"
        # Busy at 90 %, idle at 10 %: where both were sampled, the mean is 50 and the band
        # spans 10..90; at the ends only one run was (their start offsets differ).
        both = [i for i, y in enumerate(mean.ys) if y == pytest.approx(50.0)]
        assert len(both) > len(mean.ys) // 2
        assert all(high.ys[i] == pytest.approx(90.0) and low.ys[i] == pytest.approx(10.0)
                   for i in both)
        assert "mean ±std" in str(panel.query_one("#system-status").render())


def test_overlay_of_runs_where_one_has_no_gpu_and_one_no_samples() -> None:
    gpu_run = [(t, {"gpu.0.gpu": 80.0, "cpu": 50.0, "memory_percent": 40.0}) for t in (1.0, 2.0)]
    cpu_run = [(t, {"cpu": 10.0, "memory": 30.0}) for t in (5.0, 6.0)]  # W&B's old memory key
    plots = overlay_plots([("a", gpu_run, 0.5), ("b", cpu_run, 4.0), ("c", [], 0.0)])
    by_title = {p.title: p for p in plots}
    assert [ln.label for ln in by_title["GPU util %"].lines] == ["a"]  # one GPU: no "mean of"
    mem = by_title["system memory %"]
    assert {ln.label: list(ln.ys) for ln in mem.lines} == {"a": [40.0, 40.0], "b": [30.0, 30.0]}
    assert {ln.label: list(ln.xs) for ln in mem.lines} == {"a": [0.5, 1.5], "b": [1.0, 2.0]}
    assert overlay_plots([("c", [], 0.0)])[0].message  # nothing sampled: said, not drawn
