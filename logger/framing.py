"""What the writer's framer thread does with each drain of the queue: frame the events,
keep what waits for the disk within MAX_BUFFER (what overflows is counted), and leave a
snapshot every SNAPSHOT_EVERY bytes (logger/snapshot.py). A part of SegmentWriter
(logger/writer.py), apart so that each module stays readable; it never touches the disk.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from itertools import accumulate
from operator import methodcaller
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import events as ev
from .segfile import warn
from .snapshot import SNAPSHOT_EVERY, Tracker

if TYPE_CHECKING:
    from .writer import _Flush

MAX_BUFFER = 64 * 1024 * 1024  # framed bytes kept while the disk does not take them
_is_log = methodcaller("startswith", b"\xa3log", 1)  # a Log event's payload: [ "log", ...]


class _Snap:
    """A request for a snapshot now, with its stats (at finish)."""

    __slots__ = ("stats",)

    def __init__(self, stats: dict[str, Any] | None) -> None:
        self.stats = stats


class Framing:
    """SegmentWriter's framer side: queue -> frames and snapshots, within the memory bound."""

    # Set by SegmentWriter.__init__ (logger/writer.py); declared for the type checker.
    path: Path
    _frames: deque[bytes]
    _requests: deque[_Flush]
    _outbox: deque[bytes | _Flush]
    _work: threading.Event
    _framed: int
    _taken: int
    _seen: Tracker
    snapshot_lock: Any
    snapshot_stats: Callable[[], dict[str, Any] | None] | None
    dropped_bytes: int
    dropped_steps: int
    _warned_big: bool
    _warned_full: bool
    _poke: Callable[[], None]

    def _safe_drain(self) -> int:
        """A drain that cannot stop the framer: a bug here must not grow the queue for ever."""
        try:
            return self._drain()
        except Exception as exc:  # noqa: BLE001
            warn(f"runwatch: internal error framing events for {self.path}: {exc!r}")
            return 0

    def _drain(self) -> int:
        """Frame what was queued, then pass it and the flush requests on; the bytes framed."""
        # Requests first: every chunk appended before a request is then in this drain.
        take = self._requests.popleft
        requests = [take() for _ in range(len(self._requests))]
        given = next((r for r in requests if type(r) is _Snap), None)
        if given is not None:
            requests = [r for r in requests if type(r) is not _Snap]
        frames, popleft = self._frames, self._frames.popleft
        chunks = [popleft() for _ in range(len(frames))]
        if chunks:
            chunks = self._admit(chunks)
        size = 0
        size = self._frame(chunks)
        if self._seen.since >= SNAPSHOT_EVERY or given is not None:
            size += self._snapshot(given)  # type: ignore[arg-type]
        self._outbox.extend(requests)
        if chunks or requests:
            self._work.set()
        return size

    def _frame(self, chunks: list[bytes]) -> int:
        if not chunks:
            return 0
        self._seen.note(chunks)
        framed = ev.frame_list(chunks)
        self._outbox.extend(framed)
        size = sum(map(len, framed))
        self._framed += size
        self._seen.since += size
        return size

    def snapshot(self, stats: dict[str, Any] | None) -> None:
        """Leave a snapshot with these stats after what is queued at the next drain: finish
        calls it, holding the run's lock, just before it queues its Finish, so the snapshot
        nearly always lands after the Finish and repeats it (logger/run.py _write_finish)."""
        self._requests.append(_Snap(stats))  # type: ignore[arg-type]
        self._poke()

    def _snapshot(self, given: _Snap | None = None) -> int:
        """Frame what is queued and a Snapshot after it, under the run's lock so that its
        stats say exactly what the frames before it hold. Bytes framed."""
        seen = self._seen
        seen.since = 0
        if self.snapshot_stats is None or not seen.ok or self.dropped_steps:
            return 0
        if given is not None:
            stats, size = given.stats, 0
        elif not self.snapshot_lock.acquire(blocking=False):
            return 0  # the script holds it (finish, a long log call): the next drain tries
        else:
            try:
                popleft = self._frames.popleft
                rest = [popleft() for _ in range(len(self._frames))]
                size = self._frame(self._admit(rest) if rest else rest)
                stats = self.snapshot_stats() if not self.dropped_steps else None
            finally:
                self.snapshot_lock.release()
        try:
            snap = seen.snapshot(stats)
        except Exception:  # noqa: BLE001 - without a snapshot readers decode the rows: nothing is lost
            snap = None
        if snap is not None:
            self._outbox.append(snap)
            self._framed += len(snap)
            size += len(snap)
        return size

    def _admit(self, chunks: list[bytes]) -> list[bytes]:
        """The chunks that fit: an event over MAX_EVENT_BYTES never does; past MAX_BUFFER
        waiting for the disk, steps are dropped (counted) and other events kept (a little
        longer: they are few and small, and the finish is one of them)."""
        if max(map(len, chunks)) > ev.MAX_EVENT_BYTES:
            chunks = [c for c in chunks if len(c) <= ev.MAX_EVENT_BYTES or self._drop_big(c)]
        room = MAX_BUFFER - (self._framed - self._taken)
        ends = list(accumulate(map(len, chunks)))
        if not ends or ends[-1] <= room:
            return chunks
        fit = bisect_right(ends, room)
        kept, over = chunks[:fit], chunks[fit:]
        if room > -MAX_BUFFER // 4:
            other = [c for c in over if not _is_log(c)]
            kept += other
        else:
            other = []
        if not self._warned_full:
            self._warned_full = True
            warn(f"runwatch: {self.path}: {MAX_BUFFER >> 20} MB of logged data is waiting for a "
                 "disk that takes nothing; further steps are dropped until it does (counted, and "
                 "reported when the run ends)")
        self.dropped_steps += sum(map(_is_log, over))
        self.dropped_bytes += ends[-1] - ends[fit - 1] if fit else ends[-1]
        self.dropped_bytes -= sum(map(len, other))
        return kept

    def _drop_big(self, chunk: bytes) -> bool:
        self.dropped_bytes += len(chunk)
        self.dropped_steps += _is_log(chunk)
        if not self._warned_big:
            self._warned_big = True
            warn(f"runwatch: an event of {len(chunk) / 2**20:.0f} MiB for {self.path} is over the "
                 f"{ev.MAX_EVENT_BYTES >> 20} MiB limit of one event and was dropped; log smaller values")
        return False
