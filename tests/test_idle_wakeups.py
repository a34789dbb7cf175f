"""The app idle wakes for nothing (issue 14: <= 0.5 % of a core): no timer fires while no text
on screen changes; a silent run's heartbeats and system samples make no table update and no
alerts pass, while it still turns stalled and, killed, crashed on time; rows the wheel
scrolls into view are wanted at once. Counted on the real app under Pilot."""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

import pytest
from textual import events
from textual.timer import Timer

from logger import events as ev
from logger.reader import RootReader
from logger.segment import SegmentReader
from tests.idle_support import loaded, silent_writer
from tests.test_tui_support import append_events, sweep, wait_for, write_run
from tui.app import RunwatchApp
from tui.model import runview, stall
from tui.model.alerts import AlertTracker
from tui.model.columns import ColumnKey
from tui.model.quiet import Quiet
from tui.model.system_plots import GPU_COLUMN
from tui.widgets.chart_panel import ChartPanel
from tui.widgets.run_table import RunTable

IDLE = 3.0  # seconds watched idle
BEAT = 0.2  # the writer's heartbeat here, and (SAMPLES) its system samples: 10 s in a real run
SAMPLES = 0.5
STALL = 8.0  # seconds without a log before the silent run reads stalled (60 in the app)
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a real writer process, SIGKILL")

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
        await loaded(pilot, 6)
        fired.clear()
        await pilot.pause(IDLE)
        # main: MainScreen's 1 s tick fired 3 times
        assert fired == [], f"timers fired with nothing to change: {fired}"


async def test_a_running_run_with_no_screen_tick_still_turns_crashed_on_time(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 3)
    with silent_writer(tmp_path, root) as proc:
        async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
            screen = await loaded(pilot, 4)
            await wait_for(pilot, lambda: screen.model.views["proj/live01"].state == "running",
                           timeout=10)
            await pilot.pause(IDLE)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed = time.monotonic()
            await wait_for(pilot, lambda: screen.model.views["proj/live01"].state == "crashed",
                           timeout=5)
            assert time.monotonic() - killed < 2.5


def _kinds_since(segment, offset: int) -> set[str]:
    """The kinds of event a segment holds past `offset` (a whole frame there)."""
    reader = SegmentReader(segment)
    return {type(e).__name__ for e in reader.read_new() if reader.offset > offset}


async def test_a_silent_runs_heartbeats_make_no_table_update_yet_it_stalls_and_crashes_on_time(
        tmp_path, monkeypatch):
    root = tmp_path / "runs"
    sweep(root, 3)
    for module in (stall, runview):  # is_stalled's, and the table clock's (runview's) deadline
        monkeypatch.setattr(module, "STALL_AFTER", STALL)
    passes: list[list[str]] = []
    push = AlertTracker.push

    def counted(self: AlertTracker, paths: Any, loaded_: bool) -> None:
        passes.append(list(paths))
        push(self, paths, loaded_)

    monkeypatch.setattr(AlertTracker, "push", counted)
    live = "proj/live01"
    with silent_writer(tmp_path, root, heartbeat=BEAT, RUNWATCH_SYSTEM_INTERVAL=str(SAMPLES)) as proc:
        async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
            screen = await loaded(pilot, 4)
            await wait_for(pilot, lambda: screen.model.views[live].logged, timeout=10)
            await pilot.pause(1.0)  # its first system sample, console note
            segment = next((root / live).glob("*" + ev.SEGMENT_SUFFIX))
            panel = screen.query_one(ChartPanel)
            size, applied, pushed, looks = (segment.stat().st_size, screen.applied, len(passes),
                                            panel.looks)
            await pilot.pause(IDLE)
            # It wrote heartbeats and samples meanwhile (the file moved: it is alive)...
            assert {"Heartbeat", "SystemStats"} <= _kinds_since(segment, size)
            # ...and none of them reached the screen: nothing on it changed.
            assert screen.applied == applied, "a heartbeat made a table update"
            assert passes[pushed:] == [], "a heartbeat made an alerts pass"
            assert panel.looks == looks, "a heartbeat made the chart panel look"
            # The stall marker comes by the screen's clock, from the last log: on time.
            table, state = screen.query_one(RunTable), ColumnKey.field("state")
            column = next(i for i, c in enumerate(screen.model.cols) if c.key == state)
            logged_at = screen.model.views[live].logged_at

            def drawn_state() -> str:
                drawn = table._cache.get(live)
                return drawn.cells[column][0] if drawn is not None else ""

            due = logged_at + STALL
            if time.time() < due - 0.5:  # not before its time (a slow start may have passed it)
                assert drawn_state() == "▶ running"
            await wait_for(pilot, lambda: drawn_state() == "⧖ stalled",
                           timeout=max(0.0, due - time.time()) + 2.5)
            assert time.time() - due < 2.0
            # Killed: crashed within seconds, the heartbeats gone with it.
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            killed = time.monotonic()
            await wait_for(pilot, lambda: drawn_state() == "! crashed", timeout=5)
            assert time.monotonic() - killed < 2.5


async def test_rows_scrolled_into_view_by_the_wheel_are_wanted_at_once(tmp_path):
    root = tmp_path / "runs"
    for i in range(60):
        write_run(root, f"r{i:03d}", name=f"run-{i}", steps=5, t0=1_700_000_000.0 + i)
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await loaded(pilot, 60)
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


def test_only_reads_of_heartbeats_and_unseen_samples_are_left_unposted(tmp_path):
    """The filter itself, over a real reader: whatever else a read brings is posted."""
    root = tmp_path / "runs"
    live = write_run(root, "live01", name="live", state=None, steps=3, t0=time.time() - 3)
    reader, quiet = RootReader(root), Quiet()

    def posted(events: list[ev.Event], columns: tuple[str, ...] = ()) -> int:
        append_events(live, events)
        return len(quiet.news(reader.scan(), columns))

    assert posted([]) == 1  # the run, new
    now = time.time()
    gpu = {"gpu.0.gpu": 50.0, "gpu.0.memoryAllocatedBytes": 1e9}
    assert posted([ev.Heartbeat(time=now)]) == 0
    assert posted([ev.SystemStats(time=now, values={"cpu": 3.0})]) == 0
    assert posted([ev.SystemStats(time=now, values=gpu)]) == 0  # its GPU column not shown
    assert posted([ev.SystemStats(time=now, values={**gpu, "gpu.0.gpu": 60.0})], (GPU_COLUMN,)) == 1
    assert posted([ev.SystemStats(time=now, values={**gpu, "gpu.0.gpu": 60.0})], (GPU_COLUMN,)) == 0
    assert posted([ev.Heartbeat(time=now), ev.Log(step=3, time=now, values={"loss": 0.5})]) == 1
    assert posted([ev.Heartbeat(time=now), ev.SetTags(tags=["x"], add=[], remove=[], time=now)]) == 1
    assert posted([ev.Heartbeat(time=now), ev.Finish(time=now, exit_code=0, state="finished", error=None)]) == 1
