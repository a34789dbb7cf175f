"""The follower's rescan lets the screens read meanwhile (issue 14, tui/follow.py): after a
reopen it re-checks every run listed from its cached row (10k runs: 20k stats, ~0.1-0.4 s),
and held the reader's lock for all of it, so a screen's worker (detail, charts, an edit)
waited for the whole rescan. The rows are now checked without the lock, and the directories
under it RESCAN_PART at a time; a run changed meanwhile is still read by that rescan."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from logger import events as ev
from tests.test_decim_cache import T0, _segment
from tests.test_reopen_rows_cache import NEWEST, RUNS, _first_open, root  # noqa: F401 - the fixture
from tui import follow
from tui.model import row_cache
from tui.model.store import RunStore


class CountingLock:
    """The reader's lock, counting its holds and saying whether it is held."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holds = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        self.holds += got
        return got

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


async def _reopened(root: Path,  # noqa: F811
                    monkeypatch: pytest.MonkeyPatch) -> tuple[RunStore, CountingLock]:
    """The root reopened by a store, its first pass done: all but NEWEST runs from rows."""
    await _first_open(root)
    monkeypatch.setattr(follow, "RESCAN_PART", 2, raising=False)  # 8 runs: four parts
    store = RunStore(root)
    store.drawn.set()  # no screen to wait for
    store.first_pass()
    assert len(store.ghosts) == RUNS - NEWEST
    lock = store._follower.lock = CountingLock()  # type: ignore[assignment]
    return store, lock


async def test_a_screen_reads_while_the_rescan_checks_the_cached_rows(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    store, lock = await _reopened(root, monkeypatch)
    checks: list[bool] = []  # whether the lock was held at each check of a row's files
    read_meanwhile = threading.Event()
    unchanged = row_cache.unchanged

    def checking(run_dir: str, row: row_cache.Row) -> bool:
        checks.append(lock.locked())
        if len(checks) == 1:  # a screen's worker asks for the reader now
            asker = threading.Thread(target=store.with_runs, daemon=True,
                                     args=((), lambda runs: read_meanwhile.set()))
            asker.start()
            read_meanwhile.wait(5.0)  # held by the rescan (as it was): only after it
        return unchanged(run_dir, row)

    monkeypatch.setattr(row_cache, "unchanged", checking)
    lock.holds = 0
    assert store._follower.refresh() == []  # nothing changed
    assert read_meanwhile.is_set() and lock.holds > 1 + 1  # the screen's, and the parts
    assert len(checks) == RUNS - NEWEST and not any(checks)  # every row, none under the lock
    assert len(store.ghosts) == RUNS - NEWEST  # and still listed from their rows


async def test_every_rescan_part_holds_the_lock_apart(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """Also the runs read whole (no rows): the rescan stats their segments a part at a time,
    and so does a later pass of the first read (read_rest: segments past FIRST_LIMIT)."""
    store, lock = await _reopened(root, monkeypatch)
    store._ghosts.materialize(list(store.ghosts))  # every run a RunData, as on a cold open
    lock.holds = 0
    assert store._follower.refresh() == []
    assert lock.holds == RUNS // follow.RESCAN_PART + 1  # each part, then the liveness checks
    lock.holds = 0
    assert store._follower.initial(limit=64 * 1024) == []
    assert lock.holds == RUNS // follow.RESCAN_PART  # each part (nothing new: the index cache's save takes none)


async def test_a_run_changed_while_closed_is_read_by_the_rescan(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    store, _lock = await _reopened(root, monkeypatch)
    ghost = sorted(store.ghosts)[0]
    with open(_segment(root, ghost.split("/")[1]), "ab") as f:
        f.write(ev.frame([ev.encode_event(ev.Log(step=90, time=T0 + 90, values={"loss": 9.0}))]))
    updates = store._follower.refresh()
    assert [u.run.path for u in updates] == [ghost] and ghost not in store.ghosts
    assert updates[0].run.summary_flat()["loss"] == 9.0


async def test_the_rows_are_saved_after_the_first_rescan(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The reopen's row save (ghosts.py) starts as the first rescan does, once every history
    is in. Under a lock held for the whole rescan it waited; with the lock let go between
    parts it ran meanwhile, its ~0.2 s of CPU before the first paint (10k warm rows: 0.45 ->
    0.7 s to every row painted). It waits for the rescan itself now."""
    store, _lock = await _reopened(root, monkeypatch)
    order: list[str] = []
    save_started = threading.Event()
    saving = store._ghosts._cache.save
    prechecking = store._ghosts.precheck

    def save(lock: Any) -> None:
        order.append("save")
        save_started.set()
        saving(lock)

    def precheck(dirs: list[tuple[str, str]]) -> None:
        if not order:  # the rescan's first part: a save that does not wait starts now
            order.append("rescan")
            save_started.wait(0.5)
        prechecking(dirs)

    monkeypatch.setattr(store._ghosts._cache, "save", save)
    store._follower.precheck = precheck
    saver = threading.Thread(target=store._ghosts.save, daemon=True)
    saver.start()
    stop = threading.Event()
    stop.set()  # follow(): its first rescan, then out
    store._follower.polling = True
    assert list(store._follower.follow(stop)) == []
    order.append("rescanned")
    saver.join(10.0)
    assert order == ["rescan", "rescanned", "save"] and store._ghosts.saved
