"""The main screen tells the store which runs it shows (issue 14): the chart panel's runs
and the rows on screen, each time the cursor or the rows change, so those fill in first."""

from __future__ import annotations

from tests.test_tui_support import sweep, wait_for
from tui.app import RunwatchApp
from tui.screens.main import MainScreen


async def test_the_cursor_run_and_the_rows_on_screen_are_wanted(tmp_path):
    sweep(tmp_path / "runs", 6)
    app = RunwatchApp(tmp_path / "runs")
    wants: list[tuple[str, tuple[str, ...]]] = []
    want = app.store.want
    app.store.want = lambda paths, who="rows": (wants.append((who, tuple(paths))),  # type: ignore[method-assign]
                                                want(paths, who))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen) and app.store.filled
                       and len(app.screen.model.rows) == 6)
        screen = app.screen
        await pilot.press("down", "down")
        await wait_for(pilot, lambda: screen.current_row().key == screen.model.rows[2].key)
        await pilot.pause(0.1)
        panel = [paths for who, paths in wants if who == "panel"]
        assert panel[-1] == (screen.model.rows[2].key,)  # the run under the cursor
        rows = [paths for who, paths in wants if who == "rows"]
        assert rows[-1] == tuple(r.key for r in screen.model.rows)  # all 6 are on screen
