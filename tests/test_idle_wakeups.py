"""The app idle wakes for nothing (issue 14: <= 0.5 % of a core): no timer fires while no text
on screen changes; a killed run still reads crashed on time; rows the wheel scrolls into view
are wanted at once. Counted on the real app under Pilot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest
from textual import events
from textual.timer import Timer

from tests.conftest import script_env
from tests.test_tui_support import sweep, wait_for, write_run
from tui.app import RunwatchApp
from tui.screens.main import MainScreen
from tui.widgets.chart_panel import ChartPanel

IDLE = 3.0  # seconds watched idle
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a real writer process, SIGKILL")

WRITER = """
import sys, time, logger
run = logger.init(project="proj", id="live01", name="live", dir=sys.argv[1])
run.log({"loss": 1.0})
time.sleep(300)
"""


async def _loaded(pilot: Any, runs: int) -> MainScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    screen = app.screen
    panel = screen.query_one(ChartPanel)
    await wait_for(pilot, lambda: len(screen.model.views) == runs and app.store.filled
                   and panel.up_to_date(), timeout=10)
    await pilot.pause(0.5)
    return screen


async def test_an_idle_app_of_finished_runs_fires_no_timer(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    sweep(root, 6)  # finished, failed and crashed runs of 2023: their ages are dates
    fired: list[Any] = []
    tick = Timer._tick

    async def counted(self: Timer, *, next_timer: float, count: int) -> None:
        fired.append(self.name)
        await tick(self, next_timer=next_timer, count=count)

    monkeypatch.setattr(Timer, "_tick", counted)
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        await _loaded(pilot, 6)
        fired.clear()
        await pilot.pause(IDLE)
        # main: MainScreen's 1 s tick fired 3 times
        assert fired == [], f"timers fired with nothing to change: {fired}"


async def test_a_running_run_with_no_screen_tick_still_turns_crashed_on_time(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 3)
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(WRITER))
    proc = subprocess.Popen([sys.executable, str(script), str(root)], env=script_env())
    try:
        async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
            screen = await _loaded(pilot, 4)
            await wait_for(pilot, lambda: screen.model.views["proj/live01"].state == "running",
                           timeout=10)
            await pilot.pause(IDLE)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed = time.monotonic()
            await wait_for(pilot, lambda: screen.model.views["proj/live01"].state == "crashed",
                           timeout=5)
            assert time.monotonic() - killed < 2.5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_rows_scrolled_into_view_by_the_wheel_are_wanted_at_once(tmp_path):
    root = tmp_path / "runs"
    for i in range(60):
        write_run(root, f"r{i:03d}", name=f"run-{i}", steps=5, t0=1_700_000_000.0 + i)
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await _loaded(pilot, 60)
        store = pilot.app.store
        table = screen.query_one("#runs")
        first = set(store._wants["rows"])
        assert first and table.cursor == 0
        for _ in range(10):
            await pilot._post_mouse_events([events.MouseScrollDown],
                                           table, offset=(5, 5))
        await wait_for(pilot, lambda: int(table.scroll_y) >= 10, timeout=3)
        await pilot.pause(0.2)
        top = int(table.scroll_y)
        shown = {r.key for r in screen.model.rows[top : top + table.size.height - 1] if r.run}
        assert table.cursor == 0  # the wheel moved the view, not the cursor
        wanted = set(store._wants["rows"])
        assert shown <= wanted, f"rows on screen not wanted: {sorted(shown - wanted)[:5]}"
        assert wanted != first
