"""What the idle tests share (tests/test_idle_app.py, tests/test_idle_wakeups.py): the main
screen once every run is read, filled and charted; a root with a silent running run; a real
writer process that logs once and then only heartbeats."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import script_env
from tests.test_tui_support import sweep, wait_for, write_run
from tui.screens.main import MainScreen
from tui.widgets.chart_panel import ChartPanel

__all__ = ["live_root", "loaded", "silent_writer"]

# logs once, then sleeps; its writer heartbeats every `sys.argv[2]` seconds meanwhile
# (HEARTBEAT_INTERVAL, 10 s in a real run: shortened so a test sees several)
WRITER = """
import sys, time, logger
import logger.writer
logger.writer.HEARTBEAT_INTERVAL = float(sys.argv[2])
run = logger.init(project="proj", id="live01", name="live", dir=sys.argv[1])
run.log({"loss": 1.0})
time.sleep(300)
"""


async def loaded(pilot: Any, runs: int, settle: float = 0.5) -> MainScreen:
    """The main screen once its `runs` are in, every history filled and the charts drawn,
    then `settle` seconds more (what the load left to do: timers, the cache's save)."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    screen = app.screen
    panel = screen.query_one(ChartPanel)
    await wait_for(pilot, lambda: len(screen.model.views) == runs and app.store.filled
                   and panel.up_to_date(), timeout=10)
    await pilot.pause(settle)
    return screen


def live_root(tmp_path: Path, finished: int = 6) -> tuple[Path, Path]:
    """A sweep of `finished` ended runs, and a running (this process writes it) silent run
    whose "updated" age ticks every second: (root, the live run's directory)."""
    root = tmp_path / "runs"
    sweep(root, finished)
    live = write_run(root, "live01", name="live", state=None, steps=3, t0=time.time() - 3)
    return root, live


@contextmanager
def silent_writer(tmp_path: Path, root: Path, heartbeat: float = 10.0,
                  **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real training script (proj/live01, `env` added to its environment) that logs once,
    then heartbeats every `heartbeat` seconds until killed; killed on the way out."""
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(WRITER))
    proc = subprocess.Popen([sys.executable, str(script), str(root), str(heartbeat)],
                            env=script_env(**env))
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
