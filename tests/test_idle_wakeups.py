"""The app idle wakes for nothing (issue 14: <= 0.5 % of a core): no timer fires while no text
on screen changes, and the file watch sleeps until a file changes (tui/inotify.py) or, while
a run is running, once a second to check its writer; a killed run still reads crashed on time.
Counted on the real app under Pilot, and per thread from /proc (the kernel's own count)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
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
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, inotify")

WRITER = """
import sys, time, logger
run = logger.init(project="proj", id="live01", name="live", dir=sys.argv[1])
run.log({"loss": 1.0})
time.sleep(300)
"""


def _reader_thread() -> int:
    """The native id of the thread following the root (its stack is in Follower.follow)."""
    by_ident = {t.ident: t.native_id for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        f: Any = frame
        while f is not None:
            if f.f_code.co_name == "follow" and f.f_code.co_filename.endswith("follow.py"):
                return int(by_ident[ident] or 0)
            f = f.f_back
    raise AssertionError("no thread is following the root")


def _wakeups(native_id: int) -> int:
    """Times the thread went to sleep and woke (voluntary context switches)."""
    with open(f"/proc/self/task/{native_id}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches")


async def _loaded(pilot: Any, runs: int) -> MainScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    screen = app.screen
    panel = screen.query_one(ChartPanel)
    await wait_for(pilot, lambda: len(screen.model.views) == runs and app.store.filled
                   and panel.up_to_date(), timeout=10)
    await pilot.pause(0.5)
    return screen


async def test_an_idle_app_of_finished_runs_fires_no_timer_and_its_watch_sleeps(tmp_path, monkeypatch):
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
        reader = _reader_thread()
        fired.clear()
        before = _wakeups(reader)
        await pilot.pause(IDLE)
        woke = _wakeups(reader) - before
        # main: MainScreen's 1 s tick fired 3 times, the watcher woke 60 times (every 50 ms)
        assert fired == [], f"timers fired with nothing to change: {fired}"
        assert woke <= 2, f"the file watch woke {woke} times in {IDLE:.0f} s idle"


async def test_a_running_run_wakes_the_watch_once_a_second_and_still_turns_crashed(tmp_path):
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
            reader = _reader_thread()
            before = _wakeups(reader)
            await pilot.pause(IDLE)
            woke = _wakeups(reader) - before
            # once a second for the liveness check (the writer's heartbeats may add a few);
            # main: every 50 ms, 60 times
            assert woke <= 3 * IDLE, f"the file watch woke {woke} times in {IDLE:.0f} s"
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


def test_the_watch_sees_a_new_run_directory_and_its_files_made_before_its_watch(tmp_path):
    """inotify watches a directory only once it is there: files made in a new run directory
    in the moment before are found by reading the directory (named in the batch)."""
    from tui.follow import Follower

    root = tmp_path / "runs"
    root.mkdir()
    follower = Follower(root)
    follower.initial()
    stop = threading.Event()
    seen: list[str] = []

    def follow() -> None:
        for batch in follower.follow(stop):
            seen.extend(u.run.path for u in batch)

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while follower._inotify is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert follower._inotify is not None, "no inotify watch on Linux"
        for i in range(5):  # project and run directories, each written at once
            write_run(root, f"n{i:03d}", project=f"p{i}", steps=3)
        deadline = time.monotonic() + 3
        while len(set(seen)) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(set(seen)) == [f"p{i}/n{i:03d}" for i in range(5)]
    finally:
        stop.set()
        follower.wake()
        thread.join(2)
    assert not thread.is_alive(), "wake() did not end the watch's sleep"
