"""The best trial's parameters, where `runwatch sweep --status` and the sweeps screen show
them, keep every digit: it is the line someone copies to rerun the best trial, and four
decimals had turned a random search's lr 0.0644289101483281 into 0.0644."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from textual.widgets import Static

from logger import Api
from tests.test_tui_support import wait_for
from tui.app import RunwatchApp
from tui.screens.main import MainScreen
from tui.screens.sweeps import SweepsScreen

REPO = Path(__file__).parent.parent
SWEEP = """
import sys
import logger

def train():
    run = logger.init()
    run.log({"loss": run.config["lr"]})
    run.finish()

config = {"method": "random", "metric": {"name": "loss", "goal": "minimize"},
          "parameters": {"lr": {"min": 0.0001, "max": 0.1}}}
sweep_id = logger.sweep(config, project="proj", dir=sys.argv[1])
logger.agent(sweep_id, function=train, count=3, dir=sys.argv[1])
print(sweep_id)
"""


@pytest.fixture
def swept(tmp_path: Path) -> tuple[Path, str, float]:
    root = tmp_path / "runs"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWATCH_", "WANDB_"))}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(SWEEP), str(root)], env=env,
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    best = min(r.config["lr"] for r in Api(root).runs("proj"))
    return root, out.stdout.split()[-1], best


def test_sweep_status_prints_the_best_parameters_whole(swept):
    root, sweep_id, best = swept
    out = subprocess.run([sys.executable, "-m", "tui", "sweep", "--status", f"proj/{sweep_id}",
                          "--root", str(root)], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert out.returncode == 0, out.stderr
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("best"))
    assert f"lr={best!r}" in line, line


async def test_the_sweeps_screen_shows_the_best_parameters_whole(swept):
    root, _sweep_id, best = swept
    async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen)
                       and len(pilot.app.screen.model.visible_runs) == 3)
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, SweepsScreen))
        shown = pilot.app.screen.query_one("#sweeps-best", Static)
        await wait_for(pilot, lambda: "best loss" in str(shown.render()))
        assert f"lr={best!r}" in str(shown.render())
