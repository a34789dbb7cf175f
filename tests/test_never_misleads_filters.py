"""A filter that cannot match says why (issue 13): an unknown key, an unknown state or a
value that is not a number is an error in the app's filter box and in `ls -f` (exit 2), and
an empty result says "no run matches" and how to clear the filter."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_tui_support import sweep, wait_for
from tui.app import RunwatchApp
from tui.cli import main
from tui.screens.main import MainScreen
from tui.widgets.run_table import RunTable

BAD = [
    ("lr_typo<=1e-2", "no run has 'lr_typo'"),
    ("config.nope=3", "no run has 'nope'"),
    ("summary.val/acc>0.5", "no run has 'val/acc'"),
    ("state:runing", "no state 'runing'"),
    ("lr<abc", "'abc' is not a number"),
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    sweep(root, 6)
    return root


async def started(pilot) -> MainScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
    screen = app.screen
    await wait_for(pilot, lambda: len(screen.model.visible_runs) == 6)
    return screen


async def test_bad_filters_say_what_is_wrong_and_keep_the_table(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("slash", *"baseline")
        await wait_for(pilot, lambda: len(screen.model.visible_runs) == 1)
        box = screen.query_one("#filter")
        for text, said in BAD:
            box.value = text  # as pasted
            await pilot.pause()
            assert said in str(box.border_subtitle), text
            assert len(screen.model.visible_runs) == 1, text  # the last good filter stays
        await pilot.press("escape")


async def test_an_empty_result_says_no_run_matches_and_how_to_clear(root):
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        screen = await started(pilot)
        await pilot.press("slash", *"lr>5", "enter")
        await wait_for(pilot, lambda: not screen.model.visible_runs)
        table = screen.query_one(RunTable)
        assert "no run matches" in table.render_line(1).text
        status = str(screen.query_one("#status").render())
        assert "no run matches" in status and "ctrl+u" in status
        await pilot.press("slash", "ctrl+u", "enter")
        await wait_for(pilot, lambda: len(screen.model.visible_runs) == 6)


@pytest.mark.parametrize(("text", "said"), BAD)
def test_ls_rejects_a_bad_filter_with_exit_2(root, capsys, text, said):
    assert main(["ls", str(root), "-f", text]) == 2
    captured = capsys.readouterr()
    assert said in captured.err and captured.out == ""


def test_ls_says_no_run_matches_and_how_to_clear(root, capsys):
    assert main(["ls", str(root), "-f", "lr>5"]) == 0
    err = capsys.readouterr().err
    assert "no run matches" in err and "drop -f" in err

