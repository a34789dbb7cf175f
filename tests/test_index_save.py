"""The index cache's save (logger/index_save.py) costs what changed, not the whole root, and
writes without the follower's lock: and what it writes still reads back exactly as the files
do (a reader with the cache lists what one without it lists)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import logger
from logger import index, index_save
from logger.reader import RootReader
from logger.rundata import RunData
from tui.follow import Follower

from .test_index_cache import _cold, _listing, _run


def _calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Each call of RunData.<name> from now on, by run id."""
    seen: list[str] = []
    real = getattr(RunData, name)

    def counted(self: RunData, *a: Any) -> Any:
        seen.append(self.id)
        return real(self, *a)

    monkeypatch.setattr(RunData, name, counted)
    return seen


def _root(tmp_path: Path, finished: int) -> tuple[Path, logger.Run]:
    root = tmp_path / "runs"
    for i in range(finished):
        _run(root, f"r{i}", [1.0, 0.5 + i])
    return root, _run(root, "live", [3.0], finish=False)


def test_a_save_after_one_run_changed_makes_that_runs_entry_and_listing_only(tmp_path, monkeypatch):
    root, live = _root(tmp_path, 12)
    reader = RootReader(root, meta=True)
    reader.scan()  # no cache yet: every run read, all saved
    for i in range(3):  # each later save, the same: what changed since the last one
        live.log({"loss": 2.0, "acc": 4.0})
        live._writer.flush()
        _run(root, f"new{i}", [7.0], reinit="create_new")  # a new run: the index is due (appends alone leave it be)
        listings, states = _calls(monkeypatch, "listing"), _calls(monkeypatch, "segment_state")
        reader._index_saved = float("-inf")  # due now, not in 5 s
        assert sorted(u.run.id for u in reader.scan_dirs(None)) == ["live", f"new{i}"]
        assert (sorted(listings), sorted(states)) == (["live", f"new{i}"], ["live", f"new{i}"])
        monkeypatch.undo()
    live.finish()
    reader.scan_dirs(None)
    reader._save_index(now=True)
    assert _listing(root) == _cold(root, monkeypatch)


class _Lock:
    """A lock that says whether anyone holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.held = 0

    def __enter__(self) -> None:
        self._lock.acquire()
        self.held += 1

    def __exit__(self, *exc: Any) -> None:
        self.held -= 1
        self._lock.release()


def test_a_followers_save_writes_without_the_lock_taking_the_runs_a_part_at_a_time(tmp_path, monkeypatch):
    root, live = _root(tmp_path, 7)
    follower = Follower(root, force_polling=True, meta=True)
    lock = follower.lock = _Lock()  # type: ignore[assignment]
    follower.initial()
    parts: list[int] = []
    real_take, real_save = index_save._take, index.save

    def take(reader: RootReader, taken: Any, runs: list[Any]) -> None:
        assert lock.held == 1
        parts.append(len(runs))
        real_take(reader, taken, runs)

    def save(*a: Any) -> None:
        assert lock.held == 0, "the cache written under the reader's lock"
        # meanwhile the live run goes on, and the reader reads it: what was taken is written
        live.log({"loss": 9.0, "acc": 8.0})
        live._writer.flush()
        with lock:
            follower.reader.read_paths([str(p) for p in (root / "p" / "live").glob("*.rws")])
        real_save(*a)

    monkeypatch.setattr(index_save, "RUN_PART", 3)
    monkeypatch.setattr(index_save, "_take", take)
    monkeypatch.setattr(index, "save", save)
    live.log({"loss": 2.5, "acc": 5.0})
    live._writer.flush()
    _run(root, "new", [7.0], reinit="create_new")  # the index due
    follower.reader._index_saved = float("-inf")
    follower.refresh()
    assert parts == [3, 3, 3]
    monkeypatch.undo()
    live.finish()
    assert _listing(root) == _cold(root, monkeypatch)  # the cache as written, then the rest read
