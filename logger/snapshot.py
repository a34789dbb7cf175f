"""What a listing needs from one segment, without its history, as of an offset: its digest
(logger/digest.py) and the events that carry metadata, in a Snapshot a writer leaves and a
reader checks before it trusts it.

A writer leaves a `Snapshot` event (its own frame) in its own segment every SNAPSHOT_EVERY
bytes and at its finish (normally its last frame, after the Finish it repeats); the index cache
(logger/index.py) stores the same thing for any segment a reader has read. A reader in meta
mode starts from the last one and decodes only what follows it: a finished run costs its
first frame and its snapshot.
"""

from __future__ import annotations

import os
import time
from itertools import compress
from operator import methodcaller, not_
from typing import Any

import msgspec

from . import events as ev
from . import step_runs
from .digest import Digest, KeyStat, combine

# Digest, KeyStat and combine live in logger/digest.py; importable from here as before.
__all__ = ["META_KINDS", "META_TAGS", "SEARCH_MAX", "SNAPSHOT_EVERY", "Digest", "Found", "KeyStat",
           "Tracker", "check", "combine", "find_last", "snapshot_event", "tag_of"]

# Bytes of frames between two snapshots. A reader of a live run decodes at most this much
# past the last one (~27k rows of 4 floats, ~30 ms); the writer pays one snapshot (a few
# microseconds per key, under the run's lock) per 4 MiB it writes: < 0.1 % at 150 MB/s.
SNAPSHOT_EVERY = 4 * 1024 * 1024
MAX_META_BYTES = 1024 * 1024  # a run repeating more metadata than this is read in full
# Kinds a listing needs, by their tags on disk (a payload is [tag, fields...]).
META_KINDS = (ev.RunStart, ev.ConfigUpdate, ev.SummaryUpdate, ev.DefineMetric, ev.SetTags,
              ev.SetNotes, ev.SetName, ev.ArtifactLogged, ev.FileSaved, ev.Alert, ev.Chart,
              ev.EditSeen, ev.SystemStats, ev.Finish)
META_TAGS = frozenset(k.__struct_config__.tag.encode() for k in META_KINDS)  # type: ignore[union-attr]
_SYS_TAG = b"sys"
_TAG_AT = ev.FRAME_HEAD_SIZE + 5 + 1  # frame head, array32 head, the event's fixarray byte
_SNAP_TAG = b"\xa4snap"
SEARCH_MAX = 2 * SNAPSHOT_EVERY + MAX_META_BYTES  # how far back from the end one is looked for
_stat_decoder = msgspec.msgpack.Decoder(KeyStat)
_stat_encoder = msgspec.msgpack.Encoder()


class Found(msgspec.Struct):
    """A checked snapshot: where it ends, its digest, and the metadata events it repeats."""

    end: int
    snap: ev.Snapshot
    digest: Digest
    meta: list[tuple[int, Any]]  # (position among the segment's events, event)


def check(snap: ev.Snapshot, end: int) -> Found | None:
    """A snapshot's fields checked; None when anything does not hold (a damaged or hostile
    file costs a full read, never a wrong listing)."""
    try:
        if not (0 < snap.events and 0 <= snap.rows <= snap.events and len(snap.meta) == len(snap.meta_seq)
                and 0 <= snap.rewritten < max(snap.rows, 1)):  # the first row is never rewritten
            return None
        digest = Digest()
        digest.rows, digest.max_step, digest.last_time = snap.rows, snap.max_step, snap.last_time
        digest.rewritten, digest.first_step = snap.rewritten, snap.first_step
        digest.runs = step_runs.checked(snap.runs, snap.rows, snap.first_step) if snap.first_step is not None else None
        for key, fields in snap.stats.items():
            if type(key) is not str:
                return None
            digest.keys[key] = _stat_decoder.decode(_stat_encoder.encode(fields))
        meta: list[tuple[int, Any]] = []
        last = 1
        for seq, payload in zip(snap.meta_seq, snap.meta):
            if type(payload) is not bytes or type(seq) is not int or not last < seq <= snap.events:
                return None
            event = ev._decoder.decode(payload)
            if not isinstance(event, META_KINDS):
                return None
            meta.append((seq, event))
            last = seq
    except (msgspec.DecodeError, msgspec.ValidationError, TypeError, ValueError):
        return None
    return Found(end, snap, digest, meta)


def find_last(fd: int, size: int) -> Found | None:
    """The last valid snapshot of a segment, searched from its end (at most SEARCH_MAX back)."""
    low = max(ev.HEADER_SIZE, size - SEARCH_MAX)
    window = min(size - low, 256 * 1024)
    while window > 0:
        start = size - window
        data = os.pread(fd, window, start)
        at = len(data)
        while True:
            at = data.rfind(_SNAP_TAG, 0, at)
            if at < 0:
                break
            found = _frame_at(data, at - _TAG_AT, start)
            if found is not None:
                return found
        if start <= low:
            return None
        window = min(size - low, window * 4)
    return None


def _frame_at(data: bytes, head: int, base: int) -> Found | None:
    """The snapshot in the frame starting at `head` of `data`, if that is a whole valid one."""
    if head < 0 or data[head:head + 2] != ev.MARKER:
        return None
    _marker, length, crc = ev.FRAME_HEAD.unpack_from(data, head)
    body = data[head + ev.FRAME_HEAD_SIZE: head + ev.FRAME_HEAD_SIZE + length]
    if len(body) != length or ev._crc32(body) != crc:
        return None
    try:
        events = ev.decode_batch(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if len(events) != 1 or type(events[0]) is not ev.Snapshot:
        return None
    return check(events[0], base + head + ev.FRAME_HEAD_SIZE + length)


def tag_of(payload: bytes) -> bytes:
    """An event payload's tag ([tag, fields...]: a fixarray or an array16, the tag a fixstr)."""
    at = 3 if payload[:1] == b"\xdc" else 1
    n = payload[at] - 0xA0 if len(payload) > at else -1
    return payload[at + 1:at + 1 + n] if 0 <= n < 32 else b""


def snapshot_event(digest: Digest, events: int, meta: list[tuple[int, bytes]], time: float) -> ev.Snapshot:
    """The Snapshot that says what `digest` and `meta` say, as of `events` events."""
    return ev.Snapshot(
        time=time, events=events, rows=digest.rows, max_step=digest.max_step,
        last_time=digest.last_time, rewritten=digest.rewritten, first_step=digest.first_step,
        runs=digest.runs,
        stats={k: msgspec.msgpack.decode(_stat_encoder.encode(s)) for k, s in digest.keys.items()},
        meta=[p for _, p in meta], meta_seq=[s for s, _ in meta])


_is_log = methodcaller("startswith", b"\xa3log", 1)  # a Log event's payload: [ "log", ...]


class Tracker:
    """The writer's side: what the frames written so far hold (events, rows, the payloads a
    listing needs), from C-level passes over the chunks; a Python step only for the rare
    chunk that is not a Log."""

    __slots__ = ("events", "rows", "since", "meta", "meta_bytes", "sys", "first_row", "last_row", "ok")

    def __init__(self) -> None:
        self.events, self.rows, self.since = 1, 0, 0  # the SegmentStart is event 1
        self.meta: list[tuple[int, bytes]] = []
        self.meta_bytes = 0
        self.sys: tuple[int, bytes] | None = None
        self.first_row: bytes | None = None  # the first and the last Log payloads
        self.last_row: bytes | None = None
        self.ok = True  # False: the counts no longer describe the file (no more snapshots)

    def note(self, chunks: list[bytes]) -> None:
        if not self.ok or not chunks:
            return
        logs = list(map(_is_log, chunks))
        base = self.events
        self.events += len(chunks)
        self.rows += sum(logs)
        if not all(logs):
            for i in compress(range(len(chunks)), map(not_, logs)):
                chunk = chunks[i]
                tag = tag_of(chunk)
                if chunk[:1] == ev.MARKER[:1]:
                    self.ok = False  # a whole frame: its events are not counted here
                elif tag == _SYS_TAG:
                    self.sys = (base + i + 1, chunk)
                elif tag in META_TAGS:
                    self.meta.append((base + i + 1, chunk))
                    self.meta_bytes += len(chunk)
            self.ok = self.ok and self.meta_bytes <= MAX_META_BYTES
        last = next((c for c, is_log in zip(reversed(chunks), reversed(logs)) if is_log), None)
        self.last_row = last if last is not None else self.last_row
        if self.first_row is None and last is not None:
            self.first_row = next(compress(chunks, logs))

    def snapshot(self, stats: dict[str, KeyStat] | None) -> bytes | None:
        """The Snapshot frame that follows the frames noted so far, or None (inexact stats)."""
        if stats is None or not self.ok:
            return None
        digest = Digest()
        digest.keys, digest.rows = stats, self.rows
        if self.last_row is not None and self.first_row is not None:
            row, first = ev._decoder.decode(self.last_row), ev._decoder.decode(self.first_row).step
            digest.max_step, digest.last_time, digest.first_step = row.step, row.time, first
            # Stats come only while steps went up (Run._inexact): rows at first..max are every step.
            digest.runs = [[first, min(self.rows - 1, 1), self.rows]] if row.step - first + 1 == self.rows else None
        meta = sorted(self.meta + ([self.sys] if self.sys else []))
        frame = ev.encode(snapshot_event(digest, self.events, meta, time.time()))
        self.events += 1
        return frame
