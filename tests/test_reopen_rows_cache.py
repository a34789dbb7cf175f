"""A reopen's rows straight from the cache (issue 14, tui/model/row_cache.py): every finished
run whose files are unchanged is listed from its cached row with no RunData built, and read
only when a screen asks for it or its files change; anything else is read as now."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from logger import events as ev
from tests.test_decim_cache import T0, _finish, _rows, _segment, _start
from tui.app import RunwatchApp
from tui.model import decim_cache, row_cache
from tui.screens.main import MainScreen

RUNS = 8
NEWEST = 2  # runs the app's cache restores whole before the first screen (decim_cache.NEWEST)
SHOWN = ("name", "state", "summary", "config", "tags", "step", "numeric_keys", "created_at")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(decim_cache, "NEWEST", NEWEST)
    root = tmp_path / "runs"
    for i in range(RUNS):
        path = _segment(root, f"r{i}")
        path.parent.mkdir(parents=True)
        path.write_bytes(_start(f"r{i}", T0 + i) + _rows(0, 50, i) + _finish(50))
    past = T0  # settled directories (a change in the same clock tick would not show)
    for run_dir in (root / "p").iterdir():
        os.utime(run_dir, (past, past))
    return root


async def _until(check, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def _shown(views: dict) -> dict:  # type: ignore[type-arg]
    return {p: tuple(getattr(v, f) for f in SHOWN) for p, v in views.items()}


async def _first_open(root: Path) -> dict:  # type: ignore[type-arg]
    """Open the root once, until every history is in and both caches are written."""
    app = RunwatchApp(root)
    path = row_cache.rows_path(app.store._follower.reader.root)
    assert path is not None
    async with app.run_test(size=(120, 40)):
        store = app.store
        await _until(lambda: store.filled and path.exists())
        return _shown(store.views)


async def test_a_reopen_lists_every_finished_run_from_its_row_with_no_rundata(root: Path) -> None:
    before = await _first_open(root)
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)):
        store = app.store
        await _until(lambda: store.loaded and isinstance(app.screen, MainScreen)
                     and len(app.screen.model.views) == RUNS)
        assert _shown(store.views) == _shown(app.screen.model.views) == before
        runs = store._follower.reader.runs
        assert len(runs) == NEWEST and len(store.ghosts) == RUNS - NEWEST
        # A screen that asks for a run gets it, read as it was: the same row, no older version.
        ghost = sorted(store.ghosts)[0]
        shown = store.views[ghost]
        summary = await asyncio.to_thread(
            store.with_runs, [ghost], lambda found: [r.summary_flat() for r in found])
        assert summary == [shown.summary] and runs[ghost].version >= shown.version
        assert ghost not in store.ghosts and len(runs) == NEWEST + 1


async def test_a_run_that_grew_since_the_cache_shows_its_new_value(root: Path) -> None:
    await _first_open(root)
    grown = _segment(root, "r0")
    with open(grown, "ab") as f:
        f.write(ev.frame([ev.encode_event(ev.Log(step=60, time=T0 + 60, values={"loss": 42.0})),
                          ev.encode_event(ev.Log(step=61, time=T0 + 61, values={"acc": 0.5}))]))
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)):
        store = app.store
        await _until(lambda: store.loaded and "p/r0" in store.views)
        assert store.views["p/r0"].summary["loss"] == 42.0 and store.views["p/r0"].step == 61
        assert "p/r0" not in store.ghosts and len(store.ghosts) == RUNS - NEWEST - 1


async def test_a_run_that_grows_while_shown_from_its_row_is_followed(root: Path) -> None:
    await _first_open(root)
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)):
        store = app.store
        await _until(lambda: store.loaded and "p/r1" in store.ghosts)
        await asyncio.sleep(0.5)  # the watcher in place
        with open(_segment(root, "r1"), "ab") as f:
            f.write(ev.frame([ev.encode_event(ev.Log(step=70, time=T0 + 70,
                                                     values={"loss": 7.0}))]))
        await _until(lambda: store.views["p/r1"].summary.get("loss") == 7.0, 10.0)
        view = store.views["p/r1"]
        assert view.name == "name-r1" and view.config == {"lr": 0.1, "seed": 2}  # all of it


async def test_a_deleted_run_disappears_and_a_new_one_appears(root: Path) -> None:
    await _first_open(root)
    for path in (root / "p" / "r3").iterdir():
        path.unlink()
    (root / "p" / "r3").rmdir()
    new = _segment(root, "fresh")
    new.parent.mkdir()
    new.write_bytes(_start("fresh", T0 + 100) + _rows(0, 10, 9) + _finish(10))
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)):
        store = app.store
        await _until(lambda: store.loaded and "p/fresh" in store.views)
        assert "p/r3" not in store.views and "p/r3" not in store._follower.reader.runs
        assert len(store.views) == RUNS and len(store.ghosts) == RUNS - 1 - NEWEST


async def test_a_damaged_rows_file_is_ignored_and_written_again(root: Path) -> None:
    before = await _first_open(root)
    path = row_cache.rows_path(root.absolute())
    assert path is not None
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)):
        store = app.store
        await _until(lambda: store.loaded and len(store.views) == RUNS)
        assert not store.ghosts and len(store._follower.reader.runs) == RUNS  # read as now
        assert _shown(store.views) == before
        await _until(lambda: store.filled and path.read_bytes() != bytes(data))
    metrics, rows = row_cache.load(root.absolute(), decim_cache.code_stamp(),
                                   store.cache._root_text())
    assert len(rows) == RUNS
