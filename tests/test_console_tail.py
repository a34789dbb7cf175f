"""The run table's console column: the last line each running run printed (a progress bar at
its last redraw), escaped and on one line; blank for finished runs unless the user picks the
column that shows them. Real scripts, their console captured at the fd level."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from logger.streams import last_line
from tests.conftest import run_script, script_env
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp
from tui.model.columns import run_cell
from tui.screens.main import MainScreen

LIVE = r"""
import os, sys, time
import logger
logger.init(project="p", name="live")
print("epoch 1 loss 0.5", flush=True)
sys.stdout.write("\x1b]52;c;SGVsbG8=\x07\x1b[31mred\x1b[0m 10%|#\r")
sys.stdout.write("\x1b]52;c;SGVsbG8=\x07\x1b[31mred\x1b[0m 50%|#####\r")
sys.stdout.flush()
open("ready", "w").close()
while not os.path.exists("stop"):
    time.sleep(0.05)
logger.finish()
"""


def test_last_line_is_what_the_terminal_shows_last() -> None:
    assert last_line("a\nb\n\n") == "b"
    assert last_line("\r 10%|#\r 50%|#####\r", "old") == " 50%|#####"
    assert last_line("   \n\n", "kept") == "kept"  # nothing visible: the previous line stays
    assert last_line("x" * 5000) == "x" * 1024  # bounded per run


async def test_console_column_shows_running_runs_last_line_escaped(root: Path,
                                                                   tmp_path: Path) -> None:
    run_script(tmp_path, """
        import logger
        logger.init(project="p", name="done")
        print("finished output line")
        logger.finish()
    """)
    live_dir = tmp_path / "live"
    live_dir.mkdir()
    (live_dir / "train.py").write_text(LIVE)
    proc = subprocess.Popen([sys.executable, "train.py"], cwd=live_dir, env=script_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not (live_dir / "ready").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
            app = pilot.app
            await wait_for(pilot, lambda: isinstance(app.screen, MainScreen)
                           and len(app.screen.model.visible_runs) == 2, 10)
            screen = app.screen
            # Both console columns: the picker's search finds each, enter toggles it.
            await pilot.press("m", *"each running", "enter", *"finished ones", "enter", "enter")
            await wait_for(pilot, lambda: sum(c.label.startswith("console")
                                              for c in screen.model.columns()) == 2)
            running, every = [c for c in screen.model.columns() if c.label.startswith("console")]
            assert (running.label, every.label) == ("console", "console (all)")

            def cells(col: object) -> dict[str, str]:
                return {v.name: run_cell(v, col, 0.0)[0] for v in screen.app.store.current(
                    [v.path for v in screen.model.visible_runs])}

            # The bar's partial line is stored within a second (PARTIAL_INTERVAL).
            await wait_for(pilot, lambda: "50%" in cells(running)["live"], 10)
            shown = cells(running)["live"]
            assert shown == "\\x1b]52;c;SGVsbG8=\\x07red 50%|#####"  # colours dropped, OSC escaped
            assert cells(running)["done"] == ""  # finished: blank in the running-only column
            assert cells(every) == {"live": shown, "done": "finished output line"}
            await pilot.pause()
            screenshot = app.export_screenshot()
            assert "\x1b]52" not in screenshot and "50%|#####" in screenshot
    finally:
        (live_dir / "stop").touch()
        proc.wait(30)
