"""Work that comes due while the app closes: a timer set on the App before its screens went
(a loaded machine stretches the close) must find nothing to do, not raise."""

from __future__ import annotations

from textual._context import active_app

from tests.test_tui_support import sweep, wait_for
from tui.app import RunwatchApp
from tui.screens.main import MainScreen


async def test_a_table_update_due_as_the_app_closes_is_skipped(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 3)
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen)
                       and len(app.screen.model.visible_runs) == 3, 10)
        screen = app.screen
    assert not app._screen_stack
    # The rate-limited table update (`app.set_timer(wait, screen._apply)`) fired after the
    # screen stack emptied: ScreenStackError failed test_never_misleads in a loaded suite.
    token = active_app.set(app)  # as when the App's timer runs it, during the close
    try:
        screen._apply()
        screen._tick()
    finally:
        active_app.reset(token)
