"""RootReader's save of the index cache (logger/index.py), short under the reader's lock.

A save writes every followed segment's entry and every run's listing. At 10,000 runs making
them all took ~1 s, under the follower's lock (screens waited), and again at every later save.
Now, under the lock, a save takes plain values only, RUN_PART runs per hold when it is given
the lock (tui/follow.py), and reuses what did not change since the index it last loaded or
wrote: a segment's entry made at the offset it is still at (`RootReader._fresh`), a run's
listing made from the sizes its segments still have (`RootReader._listed`). Without the lock:
each new entry's stat and tail, each new listing's check (index.checked_listing), the
encoding and the (atomic) write. Appends alone (a live run read further) make a save due too,
less often (GREW_INTERVAL), so a reopen after a long live run reads on from a recent offset.

What is taken of a run, its entries and its listing, is taken in one hold, so the file never
pairs a listing with entries of another moment; an entry finished without the lock describes
the bytes before its offset, which appends do not change (index.usable checks its tail).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from . import events as ev
from . import index

if TYPE_CHECKING:
    from .reader import RootReader
    from .rundata import RunData

__all__ = ["save", "GREW_INTERVAL", "INTERVAL", "RUN_PART"]

RUN_PART = 256  # runs taken per hold of the lock (tui/follow.py's RESCAN_PART: a few ms each)
INTERVAL = 5.0  # seconds between saves, unless `now`
# seconds between saves when only appends were read (a live run): a reopen reads on from an
# offset at most this old. Longer than INTERVAL: a save that reuses every other entry still
# encodes and writes the whole index (10k runs: ~0.1 s CPU), and a live run grows all the time;
# tui/follow.py's RESCAN_INTERVAL, when a watching follower saves anyway
GREW_INTERVAL = 30.0


class _Taken:
    """What a save took from the reader: entries (new ones not yet with their file's stat and
    tail: `todo`), and each run's listing with the segment keys it was made from."""

    def __init__(self, reader: RootReader) -> None:
        reader._save_gen += 1
        self.gen, self.at = reader._save_gen, time.monotonic()
        self.old = reader._index.entries if reader._index is not None else {}
        self.entries: dict[str, index.Entry] = {}
        self.paths: dict[str, Path] = {}  # key -> the segment it names
        self.todo: list[tuple[str, Path]] = []
        # run key -> (its path, sizes, keys, listing kept | (bytes, Listing) to check)
        self.listings: dict[str, tuple[str, dict[str, int], list[str], Any]] = {}


def save(reader: RootReader, now: bool = False, lock: Any = None) -> None:
    """Write the index if it changed (at most every INTERVAL seconds; `now`: at once). With
    `lock` (the reader's, not held by the caller) it is taken only to read the reader."""
    if not _due(reader, now):  # (without the lock: a rescan that has nothing to save takes none)
        return
    held = lock if lock is not None else contextlib.nullcontext()
    with held:
        if not _due(reader, now):
            return
        taken = _Taken(reader)
        reader._index_dirty = reader._index_grew = False  # what is read from now on: the next save
        reader._index_saved = taken.at
        runs = list(reader.runs.items())
        if lock is None:
            _take(reader, taken, runs)
    if lock is not None:
        for i in range(0, len(runs), RUN_PART):
            with held:
                _take(reader, taken, runs[i : i + RUN_PART])
    listings = _finish(reader.root, taken)
    with held:
        _install(reader, taken, listings)


def _due(reader: RootReader, now: bool) -> bool:
    """Whether a save is due: a change (an entry or listing made, a run new or gone) INTERVAL
    after the last save, or appends alone (entries that grew) GREW_INTERVAL after it."""
    if reader._index_dirty:
        wait = 0.0 if now else INTERVAL
    elif reader._index_grew:
        wait = GREW_INTERVAL
    else:
        return False
    return time.monotonic() - reader._index_saved >= wait and index.cache_file(reader.root) is not None


def _take(reader: RootReader, taken: _Taken, runs: list[tuple[str, RunData]]) -> None:
    for run_key, run in runs:
        for seg in run.segments.values():
            _take_segment(reader, taken, run, seg)
        _take_listing(reader, taken, run_key, run)


def _take_segment(reader: RootReader, taken: _Taken, run: RunData, seg: Any) -> None:
    path = seg.path
    key = reader._key(path)
    was = taken.old.get(key)
    if (was is not None and was.offset == seg.offset
            and (path in reader._fresh or path in reader._unchanged)):
        # made (or taken whole) at this offset, and nothing read since (but maybe its damage counted)
        taken.entries[key] = was if (was.skipped, was.counted_from) == (seg.skipped, seg.counted_from) else (
            msgspec.structs.replace(was, skipped=seg.skipped, counted_from=seg.counted_from))
    elif seg.error is None and seg.offset > ev.HEADER_SIZE and seg.start is not None:
        digest, events, meta = run.segment_state(path.name)
        taken.entries[key] = index.entry_at(seg.size, seg.offset, seg.skipped, seg.last_time, events,
                                            digest, meta, seg.counted_from)
        taken.todo.append((key, path))
    else:
        return
    taken.paths[key] = path


def _take_listing(reader: RootReader, taken: _Taken, run_key: str, run: RunData) -> None:
    """The run's listing, when every one of its segments was read to its end: the one made
    from these sizes if the reader has it, else RunData's, encoded now."""
    sizes: dict[str, int] = {}
    keys: list[str] = []
    for name, seg in run.segments.items():
        key = reader._key(seg.path)
        entry = taken.entries.get(key)
        if entry is None or entry.offset != entry.size or entry.offset != seg.offset:
            return
        sizes[index.key(name)] = entry.offset
        keys.append(key)
    listed = reader._listed.get(run.path)
    if listed is not None and listed[0] == sizes:
        kept: Any = listed[1]
    else:
        derived, summary = run.listing()
        kept = None if summary is None else index.listing_data(sizes, derived, summary)
        if kept is None:
            return
    taken.listings[index.key(run_key)] = (run.path, sizes, keys, kept)


def _finish(root: Path, taken: _Taken) -> dict[str, index.Listing | msgspec.Raw]:
    """New entries with their files' stat and tail, new listings checked, the file written:
    the listings written (a run one of whose entries could not be made has none)."""
    entries = taken.entries
    for key, path in taken.todo:
        try:
            st = os.stat(path)
        except OSError:
            st = None
        tail = index.tail_of(path, entries[key].offset) if st is not None else None
        if st is None or tail is None:
            del entries[key], taken.paths[key]
        else:
            entries[key] = index.with_file(entries[key], st, tail)
    listings: dict[str, index.Listing | msgspec.Raw] = {}
    for run_key, (_, _, keys, kept) in list(taken.listings.items()):
        if type(kept) is tuple:
            kept = index.checked_listing(*kept)
        if kept is None or not all(k in entries for k in keys):
            del taken.listings[run_key]
            continue
        listings[run_key] = kept
        taken.listings[run_key] = (*taken.listings[run_key][:3], kept)
    index.save(root, entries, listings)
    return listings


def _install(reader: RootReader, taken: _Taken, listings: dict[str, index.Listing | msgspec.Raw]) -> None:
    """The saved index as the reader's: what its next save reuses. Left out when another
    save began meanwhile (its own install is the newer)."""
    if reader._save_gen != taken.gen:
        return
    reader._index = index.Cached(taken.entries, listings)
    reader._fresh = set(taken.paths.values())
    reader._unchanged.clear()  # what was taken whole is in the index now, as it was
    for run_path, sizes, _, kept in taken.listings.values():
        reader._listed[run_path] = (sizes, kept)
