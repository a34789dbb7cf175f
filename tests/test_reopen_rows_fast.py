"""A reopen from the rows cache does no work twice (issue 14, tui/model/row_cache.py): the
metric columns it restored are not re-snapshotted, and an open that changed nothing does
not rewrite the rows file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_reopen_rows_cache import RUNS, _first_open, _until, root  # noqa: F401 - the fixture
from tui.app import RunwatchApp
from tui.model import row_cache
from tui.model import store as store_module
from tui.model.store import RunStore


async def test_the_restored_metric_columns_are_not_snapshotted_again(root: Path) -> None:  # noqa: F811
    await _first_open(root)
    posts: list[dict] = []  # type: ignore[type-arg]
    store = RunStore(root, post=posts.append)
    views = store.restore_newest()
    assert len(views) == RUNS and store.ghosts
    restored = store._snapshots.metrics  # the columns the first open chose, when it saved
    store.snapshot_metrics(restored)  # what the screen chooses again on a reopen
    assert posts == []  # nothing re-made: every snapshot carries these sparklines
    store.snapshot_metrics(("acc",) if restored != ("acc",) else ())  # others: every run again
    assert len(posts) == 1 and len(posts[0]) == RUNS


async def test_a_reopen_from_rows_reads_on_without_waiting_for_the_first_draw(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """All but a screenful of runs from cached rows: what is left is read at once (the wait
    for the first draw held every row of 10k runs back by FIRST_WAIT, 0.2 s)."""
    await _first_open(root)
    monkeypatch.setattr(store_module, "FIRST_WAIT", 60.0)
    waited: list[float | None] = []
    app = RunwatchApp(root)
    drawn = app.store.drawn
    wait = drawn.wait

    def watched(timeout: float | None = None) -> bool:
        waited.append(timeout)
        return wait(timeout)

    monkeypatch.setattr(drawn, "wait", watched)
    async with app.run_test(size=(120, 40)):
        await _until(lambda: app.store.loaded)
        assert app.store.ghosts and waited == []


async def test_a_reopen_that_changed_nothing_leaves_the_rows_file_as_it_was(root: Path) -> None:  # noqa: F811
    """(10k runs: ~7 MB written again on every open, once histories were in.)"""
    await _first_open(root)
    path = row_cache.rows_path(root.absolute())
    assert path is not None
    for _ in range(2):  # the first reopen too: the same runs in the same order, the same bytes
        before = path.stat()
        app = RunwatchApp(root)
        async with app.run_test(size=(120, 40)):
            await _until(lambda store=app.store: store._ghosts.saved)
            assert len(app.store.views) == RUNS
        after = path.stat()
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


async def test_a_quick_reopen_lists_the_root_once_before_every_row_is_in(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The second listing (run directories that appeared during a long first pass) is left
    to the follower's first rescan after a pass from cached rows (10k runs: ~30 ms)."""
    await _first_open(root)
    listed: list[bool] = []
    listing = store_module.run_dirs

    def run_dirs(where: Path) -> list[str]:
        listed.append(app.store.loaded)
        return listing(where)

    monkeypatch.setattr(store_module, "run_dirs", run_dirs)
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)):
        await _until(lambda: app.store.loaded)
        assert app.store.ghosts and listed == [False]
