"""A real sweep (logger.agent with a function, in a subprocess) read back: run.sweep_id in the
events, Api and `show --json`; in the app the sweep column, `sweep:ID`, grouping by sweep and
the sweeps screen (progress, best so far, importance over the sweep's runs)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual.widgets import Static

import logger
from logger.reader import RootReader
from tests.test_tui_support import wait_for, write_run
from tui.app import RunwatchApp
from tui.cli.runs import cmd_show
from tui.screens.help import HelpScreen
from tui.screens.importance import ImportanceScreen
from tui.screens.main import MainScreen
from tui.screens.pick import PickScreen
from tui.screens.sweeps import SweepsScreen
from tui.widgets.run_table import RunTable
from tui.widgets.status_line import StatusLine

SWEEP = """
import sys
import logger

def train():
    run = logger.init()
    lr, opt = run.config["lr"], run.config["opt"]
    for step in range(3):
        run.log({"loss": lr * (2 if opt == "adam" else 1) + 0.1 / (step + 1)})
    if lr == 0.001 and opt == "adam":
        raise RuntimeError("diverged")
    run.summary["loss"] = lr * (2 if opt == "adam" else 1)
    run.finish()

config = {"method": "grid", "metric": {"name": "loss", "goal": "minimize"},
          "parameters": {"lr": {"values": [0.1, 0.01, 0.001]}, "opt": {"values": ["sgd", "adam"]}}}
sweep_id = logger.sweep(config, project="proj", dir=sys.argv[1])
logger.agent(sweep_id, function=train, dir=sys.argv[1])
print(sweep_id)
"""


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A root with a finished grid sweep of 6 trials (one failed) and one run of no sweep."""
    root = tmp_path_factory.mktemp("sweep") / "runs"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWATCH_", "WANDB_"))}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(SWEEP), str(root)], env=env,
                         capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr
    write_run(root, "loner")
    return root, out.stdout.split()[-1]


def test_each_trial_records_its_sweep_in_its_start_and_api_and_show_read_it(swept):
    root, sweep_id = swept
    reader = RootReader(root)
    reader.scan()
    trials = [r for r in reader.runs.values() if r.id != "loner"]
    assert len(trials) == 6
    assert {r.start.sweep_id for r in trials} == {sweep_id}  # in the events, not the claims
    assert {r.sweep_id for r in trials} == {sweep_id} and reader.runs["proj/loner"].sweep_id is None
    runs = logger.Api(root=str(root)).runs("proj")
    assert sorted(r.sweep_id or "-" for r in runs) == ["-"] + [sweep_id] * 6
    out = io.StringIO()
    cmd_show(trials[0].path, str(root), True, out)
    assert json.loads(out.getvalue())["sweep"] == f"proj/{sweep_id}"


async def started(pilot) -> MainScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    screen = app.screen
    await wait_for(pilot, lambda: len(screen.model.visible_runs) == 7, timeout=10)
    return screen


async def test_sweep_column_filter_term_and_grouping(swept):
    root, sweep_id = swept
    async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
        screen = await started(pilot)
        table = screen.query_one(RunTable)
        await wait_for(pilot, lambda: "sweep" in table.render_line(0).text)  # drawn, under load too
        assert any(sweep_id[:8] in table.render_line(y).text for y in range(1, 8))
        await pilot.press("slash", *f"sweep:{sweep_id}", "enter")
        assert len(screen.model.visible_runs) == 6
        assert all(v.sweep_id == sweep_id for v in screen.model.visible_runs)
        await pilot.press("slash", "ctrl+u", *f"sweep:proj/{sweep_id}", "enter")
        assert len(screen.model.visible_runs) == 6
        await pilot.press("slash", "ctrl+u", "enter")
        await pilot.press("g")
        assert isinstance(pilot.app.screen, PickScreen)
        await pilot.press(*"each sweep", "enter", "enter")
        groups = sorted(len(r.group.runs) for r in screen.model.rows if r.group is not None)
        assert groups == [1, 6]
        assert any(f"sweep={sweep_id}" in r.group.label for r in screen.model.rows if r.group)
        status = str(screen.query_one(StatusLine).render())
        assert "group: sweep" in status and "@" not in status


async def test_sweeps_screen_shows_progress_best_and_opens_importance(swept):
    root, sweep_id = swept
    async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("question_mark")
        assert isinstance(pilot.app.screen, HelpScreen)
        assert dict(pilot.app.screen.keys).get("w") == "sweeps"
        await pilot.press("escape", "w")
        sweeps = pilot.app.screen
        assert isinstance(sweeps, SweepsScreen)
        await wait_for(pilot, lambda: len(sweeps.rows) == 1)
        row = sweeps.rows[0]
        assert row.id == sweep_id and row.counts == {"finished": 5, "failed": 1}
        table = sweeps.query_one("#sweeps-table")
        cells = [str(c) for c in table.get_row_at(0)]
        assert cells[1:6] == ["5", "0", "1", "0", "0"]  # done, running, failed, stopped, other
        assert cells[6] == "loss (min)" and cells[7] == "0.001"
        best = str(sweeps.query_one("#sweeps-best", Static).render())
        assert "best loss = 0.001" in best and "lr=0.001 opt=sgd" in best
        await pilot.press("i")
        imp = pilot.app.screen
        assert isinstance(imp, ImportanceScreen)
        assert imp.metric == "loss" and len(imp.runs()) == 6
        assert sorted(imp.paths) == sorted(v.path for v in screen.model.views.values()
                                           if v.sweep_id == sweep_id)
        await pilot.press("escape")
        assert pilot.app.screen is sweeps
        await pilot.press("enter")  # the table's enter opens it too
        assert isinstance(pilot.app.screen, ImportanceScreen)


def test_sweep_rows_escape_what_the_files_say():
    """Names, values and errors from a sweep's files reach the terminal as escaped text."""
    from tui.screens.sweeps import SweepRow, best_line, row_cells

    evil = "\x1b[2J\x1b]0;pwn\x07"
    row = SweepRow("s1" + evil, "proj", "grid" + evil, "stop", "loss" + evil, "minimize",
                   {"finished": 1, evil: 2},
                   [{"trial": "t0", "run_id": "r" + evil, "params": {"lr" + evil: evil},
                     "metric": 0.5}])
    texts = [c.plain for c in row_cells(row, {})] + [best_line(row, {}).plain]
    assert texts[1:6] == ["1", "0", "0", "0", "2"] and texts[7] == "0.5"
    assert all("\x1b" not in t and "\x07" not in t for t in texts)
    broken = SweepRow("s2", "proj", "?", "?", None, "minimize", {}, error="bad" + evil)
    line = best_line(broken, {}).plain
    assert "unreadable" in line and "\x1b" not in line
