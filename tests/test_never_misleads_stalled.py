""""updated" is the last logged event, and a running run that stopped logging reads as
stalled (issue 13): heartbeats, system stats and edits do not make a hung run look healthy."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from logger import events as ev
from tests.test_tui_support import append_events, wait_for, write_run
from tui.app import RunwatchApp
from tui.cli import main
from tui.model.columns import ColumnKey
from tui.screens.main import MainScreen


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A running run (this process) that logged every second until 5 minutes ago and still
    sends heartbeats and system stats; a healthy running one; then someone tagged the hung one."""
    root = tmp_path / "runs"
    now = time.time()
    hung = write_run(root, "hung0001", name="hung", state=None, steps=20, t0=now - 320)
    append_events(hung, [ev.Heartbeat(time=now - 1)])
    write_run(root, "live0001", name="live", state=None, steps=20, t0=now - 19)
    assert main(["tag", "--root", str(root), "proj/hung0001", "+looked-at"]) == 0
    return root


async def test_a_hung_run_reads_stalled_and_its_updated_is_its_last_log(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.model.visible_runs) == 2)
        await wait_for(pilot, lambda: all(v.tags for v in screen.model.views.values()
                                          if v.name == "hung"))
        model = screen.model
        now = time.time()
        cells = {v.name: dict(zip((c.key for c in model.cols), model.run_cells(v, now)))
                 for v in model.views.values()}
        state, updated = ColumnKey.field("state"), ColumnKey.field("updated")
        assert cells["hung"][state] == ("⧖ stalled", "state-stalled")
        assert cells["live"][state][0] == "▶ running"
        assert cells["hung"][updated][0].startswith("5m")  # not the heartbeat's or edit's 1s
        live = cells["live"][updated][0]
        assert live.endswith("s") and live[:-1].isdigit() and int(live[:-1]) < 60, live


def test_ls_says_stalled_and_json_updated_is_the_last_log(root, capsys):
    assert main(["ls", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert next(ln for ln in lines if "/hung" in ln).split()[0] == "stalled"
    assert next(ln for ln in lines if "/live" in ln).split()[0] == "running"
    assert main(["ls", str(root), "--json"]) == 0
    rec = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rec["hung"]["stalled"] is True and rec["live"]["stalled"] is False
    from datetime import datetime

    updated = datetime.fromisoformat(rec["hung"]["updated"]).timestamp()
    assert time.time() - updated > 290
