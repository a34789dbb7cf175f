"""The index cache's save (logger/index_save.py) costs what changed, not the whole root, and
writes without the follower's lock: and what it writes still reads back exactly as the files
do (a reader with the cache lists what one without it lists)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest

import logger
from logger import index, index_save
from logger.reader import RootReader
from logger.rundata import RunData
from logger.segment import SegmentReader
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


class _Float(float):
    pass


class _Str(str):
    pass


def _values() -> list[Any]:
    """Values that same() tells apart only by their types, or holds the same across types."""
    import copy
    import datetime
    import enum
    import math

    from logger import events as ev

    shared = {"lr": 0.1}
    start = ev.RunStart(project="p", name="n", notes=None, tags=["a"], group=None, job_type=None,
                        config=shared, command=[], python="3", cwd="/", git_commit=None,
                        git_branch=None, resumed=False, time=1.0)
    utc = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    return [1, 1.0, True, 0.0, -0.0, math.nan, float("nan"), _Float(1.0), enum.IntEnum("E", "A").A,
            "x", _Str("x"), b"x", bytearray(b"x"), (1,), [1], [1.0], [True], [math.nan], (math.nan,),
            {"a": 1, "b": 2}, {"b": 2, "a": 1}, {"a": [1]}, {"a": (1,)}, {1: "a"}, {1.0: "a"},
            [shared, shared], [shared, copy.deepcopy(shared)], start, copy.deepcopy(start),
            msgspec.structs.replace(start, tags=("a",)), msgspec.structs.replace(start, time=1),
            utc, utc.astimezone(datetime.timezone(datetime.timedelta(hours=2))), lambda: 1, None]


def test_the_listing_check_answers_as_same_does_for_every_pair():
    """checked_listing compares a listing with its decoding at C speed first (pickled, no
    memo); its answer is same()'s for every pair: types, NaN, order, shared objects, structs,
    values that do not pickle."""
    values = _values()
    for a in values:
        for b in values:
            assert index._same_fast(a, b) == index.same(a, b), (a, b)
            assert index._same_fast([a, {"k": a}], [b, {"k": b}]) == index.same([a, {"k": a}], [b, {"k": b}]), (a, b)


@pytest.mark.parametrize("odd", [("config", {"opt": (1, 2)}), ("summary", {"loss": _Float(0.5)}),
                                 ("summary", {"name": _Str("x")}), ("config", {"b": bytearray(b"x")})])
def test_a_listing_msgpack_would_change_is_not_kept(tmp_path, odd):
    """A value that would decode as another type (a tuple as a list, a subclass as its base)
    leaves the run without a cached listing: derived again next time, never read back wrong."""
    root = tmp_path / "runs"
    _run(root, "r", [1.0])
    reader = RootReader(root, meta=True)
    reader.scan(save=False)
    run = reader.runs["p/r"]
    derived, summary = run.listing()
    sizes = {n: s.offset for n, s in run.segments.items()}
    assert index.listing_for(sizes, derived, summary) is not None
    field, value = odd
    if field == "summary":
        summary = {**summary, **value}
    else:
        derived = {**derived, field: {**derived[field], **value}}
    assert index.listing_for(sizes, derived, summary) is None


def test_a_live_runs_appends_are_saved_as_they_grow_but_not_at_every_append(tmp_path, monkeypatch):
    """Appends alone left the index as it was: a live run's entry stayed at the offset of the
    first save, and a reopen read everything since. Now an entry that grew is due
    GREW_INTERVAL after the last save (never at once, nor at each append)."""
    root, live = _root(tmp_path, 2)
    reader = RootReader(root, meta=True)
    reader.scan()  # no cache yet: saved, the live run at its offset then
    (path,) = (root / "p" / "live").glob("*.rws")
    key, seg = reader._key(path), reader._segments[path][1]

    def saved() -> int:
        return index.load(root).entries[key].offset

    def grow(v: float) -> int:
        live.log({"loss": v, "acc": v})
        live._writer.flush()
        reader.read_paths([path])
        return seg.offset

    first = saved()
    assert first == seg.offset
    grown = grow(2.0)
    assert grown > first
    reader.save_index()  # just saved: not due yet
    assert saved() == first
    reader._index_saved -= index_save.INTERVAL  # what makes a change due: appends wait longer
    reader.save_index()
    assert saved() == first
    reader._index_saved = float("-inf")  # GREW_INTERVAL on
    reader.save_index()
    assert saved() == grown
    assert grow(3.0) > grown
    reader.save_index()  # the next append waits its turn again
    assert saved() == grown
    starts: list[int] = []
    real = SegmentReader.read_new

    def read_new(self: SegmentReader, *a: Any) -> Any:
        if self.path == path:
            starts.append(self.offset)
        return real(self, *a)

    monkeypatch.setattr(SegmentReader, "read_new", read_new)
    reopened = RootReader(root, meta=True)
    reopened.scan()
    assert starts == [grown]  # read on from the saved entry, not from the first save's
    assert reopened.runs["p/live"].summary_flat()["loss"] == 3.0
    monkeypatch.undo()
    live.finish()
    assert _listing(root) == _cold(root, monkeypatch)
