"""Comparing runs against a pinned baseline, the palette's run search, yanking ids and
paths, and stopping a run of this host (a real training subprocess, SIGTERM)."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from logger.host import boot_id, pid_namespace, process_start_ticks
from tests.conftest import palette_settled, script_env
from tests.test_tui_support import sweep, wait_for, write_run
from tui.app import RunwatchApp
from tui.model.compare import compare, fmt_delta, lower_is_better
from tui.model.runview import RunView
from tui.model.writers import Writer, refusal
from tui.screens.compare import CompareScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.main import MainScreen
from tui.widgets.run_table import RunTable
from tui.widgets.status_line import StatusLine


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 6)
    return root


def view(path: str, config: dict, summary: dict) -> RunView:
    return RunView(path=path, id=path, project="p", dir=None, name=path, notes="", tags=(),
                   group=None, job_type=None, config=config, config_flat=config,
                   summary=summary, state="finished", exit_code=0, error=None, step=1,
                   created_at=0.0, updated_at=0.0, finished_at=0.0, version=1, numeric_keys=())


def test_config_diff_shows_only_keys_that_differ_and_deltas_against_the_baseline():
    base = view("a", {"lr": 0.1, "bs": 32, "opt": "adam"},
                {"loss": 0.5, "acc": 0.8, "_step": 9, "val/loss": {"min": 0.4}})
    other = view("b", {"lr": 0.2, "bs": 32, "opt": "adam", "seed": 1},
                 {"loss": 0.25, "acc": 0.8, "_step": 9, "val/loss": {"min": 0.6}})
    nan = view("c", {"lr": 0.1, "bs": 32, "opt": "sgd"}, {"loss": math.nan})
    result = compare([other, nan, base], base)
    assert result.names == ("a", "b", "c")  # the baseline first
    assert {r.key: r.values for r in result.config} == {
        "lr": ("0.1", "0.2", "0.1"), "opt": ("adam", "adam", "sgd"), "seed": ("", "1", "")}
    assert result.same_keys == 1  # bs
    rows = {r.key: r for r in result.metrics}
    assert set(rows) == {"loss", "acc", "val/loss.min"}  # no _step; define_metric's name
    assert rows["loss"].deltas == ("-0.25 (-50%)", "nan")
    assert rows["loss"].better == (True, None)
    assert rows["acc"].deltas == ("±0", "")  # c never logged acc: blank, not nan
    assert rows["acc"].values == ("0.8", "0.8", "")
    assert rows["val/loss.min"].better == (False, None)
    assert lower_is_better("val/acc.max") is False and lower_is_better("lr") is None
    assert fmt_delta(0.0, 2.0) == "+2" and fmt_delta(0.01, 1.0) == "+0.99 (×100)"


async def started(pilot) -> MainScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen)
                   and len(pilot.app.screen.model.visible_runs) == 6)
    return pilot.app.screen


async def test_compare_marked_runs_against_a_pinned_baseline(root):
    async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
        screen = await started(pilot)
        table = screen.query_one(RunTable)
        rows = [r.key for r in screen.model.rows]
        table.move_to(3)
        await pilot.press("B")  # pin rows[3]
        status = screen.query_one(StatusLine)
        await wait_for(pilot, lambda: "baseline: " + screen.model.views[rows[3]].name in status._shown)
        table.move_to(0)
        await pilot.press("space", "space", "C")  # mark rows 0 and 1, compare
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CompareScreen))
        cmp = pilot.app.screen
        await wait_for(pilot, lambda: cmp.comparison is not None)
        assert cmp.comparison.paths == (rows[3], *sorted(rows[:2]))
        keys = [r.key for r in cmp.comparison.config]
        assert keys == ["lr", "seed"] or keys == ["lr"]  # bs is 32 everywhere
        loss = next(r for r in cmp.comparison.metrics if r.key == "loss")
        assert all(d for d in loss.deltas)
        await pilot.press("right", "right", "right", "B")  # the last run becomes the baseline
        await wait_for(pilot, lambda: cmp.comparison.paths[0] == sorted(rows[:2])[1])
        await pilot.press("escape")
        assert pilot.app.screen is screen
        assert screen.baseline == rows[3]


async def test_the_palette_finds_a_run_by_name_tag_or_id_and_jumps_to_it(root):
    async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("slash", *"state:failed", "enter")  # hides run-4
        await wait_for(pilot, lambda: len(screen.model.visible_runs) == 1)
        for query, want in (("run-4", "proj/run004"), ("run005", "proj/run005"),
                            ("#baseline", "proj/run000")):
            await pilot.press("ctrl+p", *query)
            await palette_settled(pilot, query)
            await pilot.press("enter")
            await wait_for(pilot, lambda w=want: pilot.app.screen is screen
                           and screen.current_row() is not None
                           and screen.current_row().key == w)
        assert screen.model.filter_text == ""  # cleared, since it hid the run


async def test_yank_copies_ids_and_paths_and_says_what(root):
    async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
        screen = await started(pilot)
        run = screen.current_row().run
        await pilot.press("y")
        assert pilot.app.clipboard == run.id
        await pilot.press("Y")
        assert pilot.app.clipboard == str(run.dir)
        said = [str(n.message) for n in pilot.app._notifications]
        assert run.id in said[0] and str(run.dir) in said[1]


def here(pid: int, ticks: int | None = None, host: str | None = None) -> Writer:
    return Writer("script", host or socket.gethostname(), pid,
                  process_start_ticks(pid) if ticks is None else ticks, boot_id(),
                  pid_namespace(), 0.0)


def test_only_a_live_writer_of_this_host_is_ours_to_stop():
    assert refusal(here(os.getpid())) is None
    assert "another process" in refusal(here(os.getpid(), ticks=12345))  # a reused pid
    assert "on host gpu-7" in refusal(here(os.getpid(), host="gpu-7"))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    ticks = process_start_ticks(dead.pid)
    dead.wait()
    assert "no longer its writer" in refusal(here(dead.pid, ticks=ticks))
    other_ns = Writer("script", socket.gethostname(), os.getpid(), process_start_ticks(
        os.getpid()), boot_id(), "pid:[1]", 0.0)
    assert "PID namespace" in refusal(other_ns)


TRAIN = """
    import sys, time
    import logger
    run = logger.init(project="proj", name="victim", dir=sys.argv[1])
    i = 0
    while True:
        run.log({"loss": 1 / (i + 1)})
        i += 1
        time.sleep(0.05)
"""


async def test_stop_sends_sigterm_to_a_running_script_after_confirming(tmp_path):
    root = tmp_path / "runs"
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(TRAIN))
    proc = subprocess.Popen([sys.executable, str(script), str(root)], env=script_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen)
                           and any(v.state == "running" for v in pilot.app.screen.model.views.values()),
                           timeout=20)
            screen = pilot.app.screen
            await pilot.press("X")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
            await pilot.press("n")  # no: nothing happens
            await pilot.pause(0.3)
            assert proc.poll() is None
            await pilot.press("X")
            await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
            await pilot.press("y")
            code = proc.wait(timeout=20)
            assert code in (-signal.SIGTERM, 128 + signal.SIGTERM), proc.stderr.read()
            await wait_for(pilot, lambda: next(iter(screen.model.views.values())).state
                           == "killed", timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()


async def test_stop_refuses_a_run_of_another_host(tmp_path):
    root = tmp_path / "runs"
    write_run(root, "far001", name="far", state=None, host="gpu-7")  # fresh file: running
    async with RunwatchApp(root).run_test(size=(140, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen)
                       and pilot.app.screen.model.views)
        screen = pilot.app.screen
        assert screen.current_row().run.state == "running"
        await pilot.press("X")
        await wait_for(pilot, lambda: any("cannot stop far" in str(n.message)
                                          for n in pilot.app._notifications))
        assert pilot.app.screen is screen  # no confirmation asked
        said = next(str(n.message) for n in pilot.app._notifications)
        assert "gpu-7" in said
