"""Pilot tests of the detail screen's Logs tab, over runs written by real subprocess scripts:
the console as the terminal showed it, escaped, followed live, searched, wrapped, and the jump
to the first traceback line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import run_script, script_env
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp
from tui.screens.detail import DetailScreen
from tui.screens.logs import NO_CONSOLE, LogsPanel
from tui.screens.main import MainScreen
from tui.widgets.log_lines import LogLines

PRINTS = r"""
    import os, subprocess, sys
    import logger
    logger.init(project="p", name="printer")
    print("from python", flush=True)
    os.write(1, b"from os.write\n")
    subprocess.run([sys.executable, "-c", "print('from a child')"])
    for i in range(5):
        sys.stderr.write(f"\r{i * 25:3d}%|{'#' * i:<4}|"); sys.stderr.flush()
    sys.stderr.write("\n")
    print("\x1b]52;c;cm0gLXJmIH4=\x07 \x1b[31mred\x1b[0m", flush=True)
    for i in range(60):
        print(f"filler line {i}", flush=True)
    try:
        1 / 0
    except ZeroDivisionError:
        import traceback; traceback.print_exc(file=sys.stdout); sys.stdout.flush()
    print("x" * 300, flush=True)
    for i in range(60):
        print(f"after {i}", flush=True)
    logger.finish()
"""


async def open_logs(pilot) -> LogsPanel:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.store.views, 10)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
    await pilot.press("6")
    panel = app.screen.query_one(LogsPanel)
    return panel


def drawn(panel: LogsPanel) -> list[str]:
    """The rows the Logs view draws now, as text."""
    view = panel.query_one(LogLines)
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def test_logs_tab_shows_the_console_escaped_and_jumps_to_the_traceback(root: Path,
                                                                          tmp_path: Path) -> None:
    run_script(tmp_path, PRINTS, RUNWATCH_SYSTEM_INTERVAL="0")
    async with RunwatchApp(root).run_test(size=(100, 30)) as pilot:
        panel = await open_logs(pilot)
        await wait_for(pilot, lambda: panel.done and len(panel.lines) > 60, 10)
        lines = panel.lines
        assert lines[:3] == ["from python", "from os.write", "from a child"]
        assert "100%|####|" in lines  # the progress bar collapsed to its last redraw
        assert not any("%|" in line and line != "100%|####|" for line in lines)
        assert "\\x1b]52;c;cm0gLXJmIH4=\\x07 red" in lines  # OSC 52 shown as text, colour dropped
        view = panel.query_one(LogLines)
        await pilot.pause()
        view.scroll_home(animate=False)
        await pilot.pause()
        rows = drawn(panel)
        assert rows[:3] == ["from python", "from os.write", "from a child"]
        assert "\\x1b]52;c;cm0gLXJmIH4=\\x07 red" in rows
        assert not any("\x1b" in r or "\x07" in r for r in rows)
        view.scroll_end(animate=False)
        await pilot.pause()
        # e: the first traceback line is scrolled to the top.
        first = next(i for i, line in enumerate(lines) if "Traceback" in line)
        assert first < view.max_scroll_y == view.scroll_y  # it starts at the end (following)
        await pilot.press("e")
        await wait_for(pilot, lambda: view.scroll_y == first)
        assert panel.first_error_line == first
        # w: wrap on: the 300-character line takes several rows.
        rows = view.virtual_size.height
        await pilot.press("w")
        await wait_for(pilot, lambda: view.virtual_size.height > rows)
        width = view.scrollable_content_region.width
        assert panel.wrap and view.virtual_size.height == sum(-(-len(line) // width) or 1
                                                              for line in panel.lines)
        await pilot.press("e")  # the jump counts the wrapped rows above the traceback
        await wait_for(pilot, lambda: drawn(panel)[0].startswith("Traceback"))


async def test_search_filters_and_highlights_and_escape_closes_the_box(root: Path,
                                                                     tmp_path: Path) -> None:
    run_script(tmp_path, PRINTS, RUNWATCH_SYSTEM_INTERVAL="0")
    async with RunwatchApp(root).run_test(size=(100, 30)) as pilot:
        panel = await open_logs(pilot)
        await wait_for(pilot, lambda: panel.done, 10)
        await pilot.press("slash", *"filler line 1[0-9]", "enter")
        await wait_for(pilot, lambda: panel.pattern is not None)
        assert panel.shown() == [f"filler line {i}" for i in range(10, 20)]
        await pilot.pause()
        assert drawn(panel)[:10] == panel.shown()
        await pilot.press("slash", "escape")
        assert isinstance(pilot.app.screen, DetailScreen)  # escape closed the box only
        await pilot.press("slash", "ctrl+a", "ctrl+k", "enter")  # an empty search clears
        await wait_for(pilot, lambda: panel.pattern is None)
        await pilot.pause()
        assert panel.query_one(LogLines).virtual_size.height == len(panel.lines)


async def test_logs_tab_follows_a_live_run(root: Path, tmp_path: Path) -> None:
    script = tmp_path / "live.py"
    script.write_text(textwrap.dedent("""
        import sys, time
        import logger
        logger.init(project="p", name="live")
        for i in range(400):
            print(f"epoch {i}", flush=True)
            if i == 3:
                print("STARTED", flush=True)
            if (Path := __import__("pathlib").Path)(sys.argv[1]).exists():
                break
            time.sleep(0.1)
        print("bye", flush=True)
        logger.finish()
    """))
    stop = tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, str(script), str(stop)], cwd=tmp_path,
                            env=script_env(RUNWATCH_SYSTEM_INTERVAL="0"), stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not list((root / "p").glob("*/*.rws")):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        async with RunwatchApp(root).run_test(size=(100, 30)) as pilot:
            app = pilot.app
            await wait_for(pilot, lambda: any(v.state == "running" for v in app.store.views.values()), 15)
            panel = await open_logs(pilot)
            await wait_for(pilot, lambda: "STARTED" in panel.lines, 15)
            assert not panel.done
            seen = len(panel.lines)
            await wait_for(pilot, lambda: len(panel.lines) > seen + 2, 15)  # new lines keep coming
            stop.touch()
            await wait_for(pilot, lambda: panel.done and panel.lines[-1] == "bye", 30)
            epochs = [line for line in panel.lines if line.startswith("epoch")]
            assert epochs == [f"epoch {i}" for i in range(len(epochs))]  # nothing twice, none lost
    finally:
        stop.touch()
        proc.wait(30)


async def test_a_run_without_console_says_so(root: Path, tmp_path: Path) -> None:
    run_script(tmp_path, """
        import logger
        logger.init(project="p", console="off")
        print("not kept")
        logger.log({"loss": 1.0})
        logger.finish()
    """, RUNWATCH_SYSTEM_INTERVAL="0")
    async with RunwatchApp(root).run_test(size=(100, 30)) as pilot:
        panel = await open_logs(pilot)
        await wait_for(pilot, lambda: panel.done, 10)
        await pilot.pause()
        status = panel.query_one("#logs-status").render()
        assert NO_CONSOLE in str(status)


async def test_the_tab_keeps_the_newest_lines_and_says_how_many_it_let_go(
        root: Path, tmp_path: Path, monkeypatch) -> None:
    import tui.screens.logs as logs

    monkeypatch.setattr(logs, "MAX_LINES", 50)
    # stdout and stderr into one pipe (as `2>&1`, or a terminal): the order written is kept.
    # With two pipes the early stderr bar may be read after every stdout line under load.
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(PRINTS))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, timeout=60,
                          env=script_env(RUNWATCH_SYSTEM_INTERVAL="0"), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    assert done.returncode == 0, done.stdout
    async with RunwatchApp(root).run_test(size=(100, 30)) as pilot:
        panel = await open_logs(pilot)
        await wait_for(pilot, lambda: panel.done, 10)
        assert len(panel.lines) == 50 and panel.lines[-1] == "after 59"
        assert panel.dropped > 60
        await pilot.pause()
        assert f"the first {panel.dropped} not kept" in str(panel.query_one("#logs-status").render())
