"""Snapshots that arrive while the main screen is torn down (the app quitting) find part of it
gone: the table update must not raise for a widget already removed (CI met it: `#empty`
removed before the table and workspace, then a RunsChanged applied)."""

from __future__ import annotations

from tests.test_tui_support import sweep, wait_for
from tui.app import RunwatchApp
from tui.screens.main import MainScreen
from tui.widgets.workspace import Workspace


async def test_a_table_update_with_the_empty_note_already_removed_does_not_raise(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 3)
    async with RunwatchApp(root).run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
        screen = pilot.app.screen
        await wait_for(pilot, lambda: len(screen.model.views) == 3, timeout=10)
        await screen.query_one("#empty").remove()  # as teardown removes children, in some order
        screen.query_one(Workspace).display = False  # the branch that shows or hides the note
        screen.refresh_table()
        assert screen.query_one(Workspace).display
