"""Pilot tests of the System tab and the run table's GPU column, over runs written by real
subprocess scripts: psutil for real, GPUs through logger's own NVML fake (tests/test_system.py)
put in place of pynvml inside the script."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_script
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp
from tui.model.columns import run_cell
from tui.model.system_plots import EMPTY, gpu_cell
from tui.screens.detail import DetailScreen
from tui.screens.logs import SystemPanel
from tui.screens.main import MainScreen
from tui.widgets.chart import Chart

GPU_RUN = """
    import sys, time
    from types import SimpleNamespace
    from tests.test_system import fake_nvml, h100
    busy = h100(71 * 2**30, [])
    idle = h100(2**30, [])
    idle["nvmlDeviceGetUtilizationRates"] = SimpleNamespace(gpu=3, memory=0)
    sys.modules["pynvml"] = fake_nvml([busy, idle])
    import logger
    logger.init(project="p", name="gpu-run")
    for step in range(3):
        logger.log({"loss": 1.0 / (step + 1)})
    time.sleep(1.0)
    logger.finish()
"""


async def open_system(pilot) -> SystemPanel:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.store.views, 10)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
    await pilot.press("7")
    return app.screen.query_one(SystemPanel)


async def test_system_tab_charts_each_gpu_and_the_host(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, GPU_RUN, RUNWATCH_SYSTEM_INTERVAL="0.1")
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        panel = await open_system(pilot)
        await wait_for(pilot, lambda: panel.done and panel.samples >= 3, 10)
        charts = [c for c in panel.query(Chart) if c.display]
        titles = [c.plot.title for c in charts if c.plot is not None]
        assert titles == ["GPU util %", "GPU memory %", "GPU temperature °C", "GPU power W",
                          "CPU % (process tree)", "system memory %"]
        util, memory, temp, power, cpu, mem = (c.plot for c in charts)
        assert {line.label: set(line.ys) for line in util.lines} == {"gpu 0": {97.0}, "gpu 1": {3.0}}
        assert memory.lines[0].ys == pytest.approx([100 * 71 / 80] * len(memory.lines[0].ys))
        assert set(temp.lines[0].ys) == {71.0} and set(power.lines[0].ys) == {350.0}
        assert cpu.lines and mem.lines and all(0 <= y <= 100 for y in mem.lines[0].ys)
        assert all(x >= 0 for x in util.lines[0].xs)  # seconds since the run started
        await wait_for(pilot, lambda: charts[0].builds >= 1)


async def test_a_run_without_samples_says_so(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, """
        import logger
        logger.init(project="p")
        logger.log({"loss": 1.0})
        logger.finish()
    """, RUNWATCH_SYSTEM_INTERVAL="0")
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        panel = await open_system(pilot)
        await wait_for(pilot, lambda: panel.done, 10)
        await pilot.pause()
        assert EMPTY in str(panel.query_one("#system-status").render())
        assert not any(c.display for c in panel.query(Chart))


def test_gpu_cell_is_compact_and_blank_without_gpus() -> None:
    g = 2**30
    sample = {"gpu.0.gpu": 97.0, "gpu.0.memoryAllocatedBytes": 71.0 * g,
              "gpu.0.memoryTotalBytes": 80.0 * g, "cpu": 5.0}
    assert gpu_cell(sample) == "GPU 97% 71/80G"
    two = {**sample, "gpu.1.gpu": 3.0, "gpu.1.memoryAllocatedBytes": 1.0 * g,
           "gpu.1.memoryTotalBytes": 80.0 * g}
    assert gpu_cell(two) == "GPU 50% 72/160G"
    assert gpu_cell({"cpu": 5.0}) == gpu_cell(None) == gpu_cell({}) == ""
    assert "nan" not in gpu_cell({"gpu.0.gpu": float("nan")})


async def test_gpu_column_from_the_column_picker(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, GPU_RUN, RUNWATCH_SYSTEM_INTERVAL="0.1")
    run_script(tmp_path, """
        import logger
        logger.init(project="p", name="cpu-run")
        logger.log({"loss": 1.0})
        logger.finish()
    """, RUNWATCH_SYSTEM_INTERVAL="0")
    async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen)
                       and len(app.screen.model.visible_runs) == 2, 10)
        screen = app.screen
        await pilot.press("m", *"GPU", "enter", "enter")  # find the GPU column, toggle, accept
        await wait_for(pilot, lambda: any(c.label == "GPU" for c in screen.model.columns()))
        (col,) = [c for c in screen.model.columns() if c.label == "GPU"]
        cells = {v.name: run_cell(v, col, 0.0)[0] for v in screen.model.visible_runs}
        assert cells == {"gpu-run": "GPU 50% 72/160G", "cpu-run": ""}
        await pilot.pause()
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "GPU 50% 72/160G" in shown and "nan" not in shown
