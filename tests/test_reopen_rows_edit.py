"""An edit of a run shown from its cached row (a "ghost": tui/model/ghosts.py, no RunData
read yet) lands in the run's files and on screen, with the rest of the run as it was."""

from __future__ import annotations

from pathlib import Path

from logger.reader import RootReader
from tests.test_reopen_rows_cache import RUNS, _first_open, _until, root  # noqa: F401 - the fixture
from tui.app import RunwatchApp
from tui.screens.edit import NotesScreen, TagsScreen
from tui.screens.main import MainScreen


async def test_tags_and_notes_of_a_run_shown_from_its_row_are_written_and_shown(
        root: Path) -> None:  # noqa: F811
    await _first_open(root)
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        store = app.store
        await _until(lambda: store.loaded and isinstance(app.screen, MainScreen)
                     and len(app.screen.model.views) == RUNS)
        screen = app.screen
        # The rows under the cursor and in the chart are read at once; the others stay rows
        # until a screen asks: every run marked, the edit reaches them all.
        ghosts = {p: store.views[p] for p in store.ghosts}
        assert len(ghosts) >= RUNS // 2
        await pilot.press("a", "t")
        assert isinstance(app.screen, TagsScreen)
        await pilot.press("ctrl+u", *"ghost, edited", "enter")
        await _until(lambda: all(v.tags == ("ghost", "edited")
                                 for v in screen.model.views.values()))
        await pilot.press("n")
        assert isinstance(app.screen, NotesScreen)
        await pilot.press("ctrl+u", *"from a row", "ctrl+s")
        await _until(lambda: all(v.notes == "from a row" for v in screen.model.views.values()))
        for path, before in ghosts.items():
            shown = screen.model.views[path]
            assert path not in store.ghosts and shown.version > before.version
            # The rest of the run as the row showed it: read whole, not just the edit.
            for field in ("name", "config", "summary", "state", "step", "created_at"):
                assert getattr(shown, field) == getattr(before, field), field
    back = RootReader(root)
    back.scan()
    for path, before in ghosts.items():
        stored = back.get(path)
        assert stored.tags == ("ghost", "edited") and stored.notes == "from a row"
        assert stored.summary_flat() == before.summary
