"""A malformed comparison in the filter (issue 14) says what is wrong and what it expects, in
the app's filter box and in `runwatch ls -f` (exit 2), instead of searching names for the text
and showing nothing: a doubled or swapped operator, a missing value or key, spaces around the
operator, a word where a number or time goes, a bad regular expression, an unclosed quote.
Free-text search is untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import script_env
from tests.test_tui_support import sweep, wait_for
from tui.app import RunwatchApp
from tui.screens.main import MainScreen

MALFORMED = [
    ("lr<<x", "'lr<<x': expected a number after '<', found '<x' (one operator: lr<0.5)"),
    ("lr>>0.01", "expected a number after '>', found '>0.01' (one operator: lr>0.01)"),
    ("lr=<0.05", "found '<0.05' (did you mean lr<=0.05?)"),
    ("lr<", "'lr<': no value after '<'"),
    ("lr>=abc", "'abc' is not a number; >= compares numbers"),
    ("lr < 0.05", "'lr < 0.05': no spaces around '<' (write lr<0.05)"),
    ("lr <0.05", "no spaces around '<' (write lr<0.05)"),
    (">=0.05", "'>=0.05': no key before '>='"),
    ("name~run-(", "'run-(' is not a regular expression"),
    ("name<3", "name is text; < compares numbers"),
    ("created_at<yesterday", "'yesterday' is not a time; use ISO 8601"),
    ('notes:"note 1', "a quote is not closed"),
]
# Searches and comparisons that are fine, with how many of the sweep's 6 runs they keep.
GOOD = [("baseline", 1), ("run-1", 1), ("lr<0.05 tag:sweep name~run", 4),
        ("created_at>=2023-11-14T22:15:00", 5), ("name~<3", 0)]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    sweep(root, 6)  # created 1_700_000_000 (2023-11-14T22:13:20Z) + 100 s a run
    return root


async def _main_screen(pilot) -> MainScreen:
    """The main screen once its six runs are listed."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen), 30)
    screen = pilot.app.screen
    await wait_for(pilot, lambda: len(screen.model.visible_runs) == 6, 30)
    return screen


async def test_the_filter_box_says_what_is_wrong_and_keeps_the_last_good_filter(root):
    async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
        screen = await _main_screen(pilot)
        await pilot.press("slash", *"baseline")
        await wait_for(pilot, lambda: len(screen.model.visible_runs) == 1, 30)
        box = screen.query_one("#filter")
        for text, said in MALFORMED:
            box.value = "baseline"  # good again: the message goes, so the next one is new
            await wait_for(pilot, lambda: not box.problem, 30)
            box.value = text  # as pasted
            await wait_for(pilot, lambda: box.problem, 30)
            assert said in str(box.border_subtitle), text
            assert len(screen.model.visible_runs) == 1, text  # "baseline" still applies
        for text, kept in GOOD:
            box.value = text
            await wait_for(pilot, lambda t=text: screen.model.filter_text == t and not box.problem, 30)
            assert not box.border_subtitle, text
            assert len(screen.model.visible_runs) == kept, text


async def test_enter_on_a_malformed_filter_says_it_and_leaves_the_box_open(root):
    async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
        app = pilot.app
        screen = await _main_screen(pilot)
        await pilot.press("slash", *"lr<<x", "enter")  # typed, as a person does
        box = screen.query_one("#filter")
        said = "'lr<<x': expected a number after '<'"
        await wait_for(pilot, lambda: any(said in str(n.message) for n in app._notifications), 30)
        assert box.display and screen.focused is box and said in str(box.border_subtitle)
        assert screen.model.filter_text == "lr"  # the last text typed that parsed, a word
        # the table is filtered by that prefix: the message says so, not just "not applied"
        assert any("the table shows 'lr'" in str(n.message) for n in app._notifications)
        await pilot.press("backspace", "backspace", *"0.05", "enter")  # fixed: lr<0.05
        await wait_for(pilot, lambda: not box.display and len(screen.model.visible_runs) == 4, 30)
        assert screen.model.filter_text == "lr<0.05"


async def test_enter_in_the_same_tick_as_the_text_judges_the_text_as_typed(root):
    # The box's problem is said on Input.Changed, which reaches the screen after the key that
    # changed the text; enter right behind it (a burst, a paste) judged the text before it.
    async with RunwatchApp(root).run_test(size=(160, 30)) as pilot:
        screen = await _main_screen(pilot)
        await pilot.press("slash")
        box = screen.query_one("#filter")
        box.value = "lr<<x"  # and enter before Changed arrives
        box.submit()
        assert box.display and "expected a number" in box.problem  # said, the box kept open
        await wait_for(pilot, lambda: "expected a number" in str(box.border_subtitle), 30)
        box.value = "lr<0.05"  # fixed, and enter at once: taken, not the stale problem
        box.submit()
        assert not box.display and not box.problem
        await wait_for(pilot, lambda: len(screen.model.visible_runs) == 4, 30)
        assert screen.model.filter_text == "lr<0.05"


def _ls(root: Path, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "ls", str(root), "-f", text],
                          capture_output=True, text=True, env=script_env(), timeout=120)


@pytest.mark.parametrize(("text", "said"), MALFORMED)
def test_ls_says_the_same_on_stderr_with_exit_2(root, text, said):
    done = _ls(root, text)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("runwatch: --filter: ") and said in done.stderr


def test_ls_keeps_free_text_and_time_comparisons(root):
    for text, kept in GOOD:
        done = _ls(root, text)
        assert done.returncode == 0, (text, done.stderr)
        assert len(done.stdout.splitlines()) == (kept + 1 if kept else 0), text  # + the header
