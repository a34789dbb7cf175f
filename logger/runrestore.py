"""A run restored from the index cache (logger/index.py) without replaying its events.

Reopening an unchanged root restores each run's listing (labels, config, summary) whole and
each segment's start, finish and row counts; the per-key stats and metadata events a cache
entry also holds are applied only when something needs them (`_replay`): new events, a
digest, artifacts, extras, a pickle. A mixin of RunData (logger/rundata.py).
"""

from __future__ import annotations

from typing import Any

from .segment import SegmentReader
from .snapshot import Digest
from .summaries import NeedRows, summary_of

REREAD_BYTES = 4 * 1024 * 1024  # a chunk of a segment read again: its events are applied, then dropped


class RunRestore:
    """RunData's lazy part: `_defer` an entry of the index cache, `_replay` it when needed."""

    dir_id: tuple[int, int, int] | None  # the run directory as first listed (logger/index_scan.py)
    _lazy: list[tuple[Any, Any]]  # (segment, index.Restored) not applied yet, in order
    _digests: dict[str, Digest]
    _kept: dict[str, list[tuple[int, Any]]]
    segments: dict[str, Any]
    _seq: dict[str, int]
    _ends: dict[str, int]
    _follows: dict[str, list[str]]
    _meta_dirty: bool
    _summary_cache: Any
    _artifacts: list[Any]
    _files: list[Any]
    _extras: dict[str, Any]
    version: int
    updated_at: float
    created_at: Any
    apply: Any
    apply_snapshot: Any
    digest: Any
    _meta_state: Any
    _derived: dict[str, Any]
    _paths: dict[str, tuple[str, ...]]

    def listing(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Meta mode: the derived metadata and the summary (None where it needs rows): what the
        index cache (logger/index.py) keeps of a run read to the end of its segments, with
        its directory's identity when first listed (`dir_id`: logger/index_scan.py)."""
        derived = self._meta_state()
        try:
            self._summary_cache = (self.version, summary_of(self.digest(), derived, self.created_at))
        except NeedRows:
            return derived, None
        # the nested keys' paths too (a copy: rows read later add to the live one), so that a
        # restored run's summary nests again what was logged nested
        return {**derived, "paths": dict(self._paths), "dir_id": self.dir_id}, self._summary_cache[1]

    def restore_listing(self, derived: dict[str, Any], summary: dict[str, Any]) -> None:
        """The index cache's `listing()` of this run, made from segments still as they are:
        what _meta_state() and summary_flat() compute again from the same events."""
        self._paths.update({k: tuple(v) for k, v in derived.pop("paths", {}).items()})
        self._derived, self._meta_dirty = derived, False
        self._summary_cache = (self.version, summary)

    def segment_state(self, name: str) -> tuple[Digest, int, list[tuple[int, Any]]]:
        """Meta mode: one segment as read so far (the index cache's entry): its digest, its
        events count, and (position, event) of its start and of what a listing needs."""
        if self._lazy:
            self._replay()
        start = self.segments[name].start
        kept = [(1, start)] if start is not None else []
        return self._digests.get(name) or Digest(), self._seq.get(name, 0), kept + self._kept.get(name, [])

    def _defer(self, seg: Any, found: Any) -> None:
        """An index entry in place of a segment's events before `found.end`: what a listing
        and the run's state read now (rows, steps, resumes), the rest kept for `_replay`."""
        name = seg.path.name
        self._lazy.append((seg, found))
        self._digests[name] = found.digest  # rows and steps; its per-key stats come on replay
        self._seq[name] = found.snap.events + 1
        self._ends[name] = found.end
        if found.entry.follows:
            self._follows[name] = list(found.entry.follows)
        self.updated_at = max(self.updated_at, seg.last_time)  # as apply() of its events does
        self.version += 1

    def _replay(self) -> None:
        """Apply every deferred entry whole, as apply_snapshot would have. Nothing a reader
        saw changes: the version, the update time and a restored listing stay as they were."""
        lazy, self._lazy = self._lazy, []
        version, updated, dirty = self.version, self.updated_at, self._meta_dirty
        damaged = False
        for seg, found in lazy:
            whole = found.whole()
            if whole is not None:
                self.apply_snapshot(seg, whole)
            else:
                self._reread(seg, found.end)
                damaged = True
        self.version, self.updated_at = version, updated
        self._meta_dirty = dirty
        if damaged:  # what the same file listed may be as wrong: derived again from the events
            self._meta_dirty, self._summary_cache = True, None
            self.version += 1

    def _reread(self, seg: Any, end: int) -> None:
        """An entry whose detail does not check out (a damaged or forged cache file): the
        segment's events before `end` read again from the file, a chunk at a time."""
        name = seg.path.name
        self._digests[name], self._seq[name] = Digest(), 0
        reader = _Upto(seg.path)
        reader.end = end
        while reader.offset < end and reader.error is None:
            before = reader.offset
            events = reader.read_new(REREAD_BYTES)
            if events:
                self.apply(seg, events)
            if reader.offset == before:
                break
        self._ends[name] = end

    @property
    def artifacts(self) -> list[Any]:
        """The artifacts the run logged (ArtifactLogged events)."""
        if self._lazy:
            self._replay()
        return self._artifacts

    @property
    def files(self) -> list[Any]:
        """The files the run saved (FileSaved events)."""
        if self._lazy:
            self._replay()
        return self._files

    @property
    def extras(self) -> dict[str, Any]:
        """Alerts, charts, the latest system sample, the console's last line."""
        if self._lazy:
            self._replay()
        return self._extras

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (the app's reopen cache) replayed: a pickle holds no encoded detail."""
        if self._lazy:
            self._replay()
        return self.__dict__


class _Upto(SegmentReader):
    """A segment read as if it ended at `end` (a cached entry's offset): what the file holds
    after it is left to the segment's own reader."""

    __slots__ = ("end",)
    end: int

    def _open(self) -> int | None:
        fd = super()._open()
        if fd is not None:
            self.size = min(self.size, self.end)
        return fd
