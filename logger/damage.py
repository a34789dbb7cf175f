"""Counting the damaged frames a listing's read passed over.

A meta-mode reader (logger/reader.py) reads each segment from its last snapshot on, so the
damage before that snapshot is in no count: `show` said 0 damaged frames where `tail`, which
reads every frame, said 1. `count_run` scans what came before each snapshot as a reader
would (SegmentReader: the same resync, the same credit, so the same count), checking each
frame's checksum and that its payload is msgpack, but decoding no event: a 164 MB segment
of 1M rows costs ~0.15 s, against ~0.5 s to decode it. The reader keeps the count in its
index cache (`RootReader.count_damage`: show, export), so it is paid once per segment; the
app's detail screen and the Api's Run count a run when it is looked at. Until a count is in
the cache, the Api's runs() and run() warn of "at least N" (`skipped_said`): no scan there.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from . import events as ev
from .segment import SegmentReader

__all__ = ["count_before", "count_run", "counted", "credit", "every_skipped", "frame_check", "skipped_said",
           "uncounted"]

_raw_frames = msgspec.msgpack.Decoder(list[msgspec.Raw])


def frame_check(payload: Any) -> tuple[()]:
    """No events, but a payload that is not a list of msgpack values fails as a full decode
    would (DecodeError: SegmentReader hands the stretch to ev.scan, which counts it)."""
    try:
        _raw_frames.decode(payload)
    except msgspec.DecodeError:  # a ValidationError too: as one, clean_frames would decode it again
        raise msgspec.DecodeError("not a frame of events") from None
    return ()


class _Prefix(SegmentReader):
    """A segment read only up to `end` (a snapshot's end: a frame boundary)."""

    __slots__ = ("end",)

    def __init__(self, path: Path, end: int) -> None:
        super().__init__(path)
        self.end = end
        self.decode = frame_check

    def _open(self) -> int | None:
        fd = super()._open()
        if fd is not None:
            self.size = min(self.size, self.end)
        return fd


def count_before(path: Path, end: int) -> int | None:
    """Damaged frames of the segment at `path` before offset `end`; None where it could not
    be read that far (an error, or the file shrank)."""
    prefix = _Prefix(path, end)
    prefix.read_new()
    if prefix.error is not None or prefix.offset < end:
        return None
    return prefix.skipped


def uncounted(segments: Iterable[SegmentReader]) -> list[tuple[SegmentReader, int]]:
    """The segments whose damage before a snapshot is not counted yet, each with where."""
    return [(seg, seg.counted_from) for seg in segments
            if seg.counted_from > ev.HEADER_SIZE and seg.error is None]


def counted(todo: list[tuple[SegmentReader, int]]) -> list[tuple[SegmentReader, int, int]]:
    """`uncounted`'s segments scanned: (segment, where, damaged frames before). Reads the
    files and touches no segment: the app runs it outside its store's lock."""
    out = []
    for seg, end in todo:
        found = count_before(seg.path, end)
        if found is not None:
            out.append((seg, end, found))
    return out


def credit(found: list[tuple[SegmentReader, int, int]]) -> bool:
    """`counted`'s counts added to their segments' `skipped` (each once: a segment counted
    meanwhile is left); True when any changed (a cache to save)."""
    changed = False
    for seg, end, count in found:
        if seg.counted_from == end:
            seg.skipped += count
            seg.counted_from = 0
            changed = True
    return changed


def count_run(segments: dict[str, SegmentReader]) -> bool:
    """Add to each segment's `skipped` the damage before its `counted_from` (then 0); True
    when any count changed (a cache to save)."""
    return credit(counted(uncounted(segments.values())))


def every_skipped(run: Any) -> int:
    """A RunData's `skipped_frames`, every damaged frame counted (those before its snapshots
    when it was read as a listing: counted once, here)."""
    count_run(run.segments)
    return int(run.skipped_frames)


def skipped_said(run: Any) -> str:
    """A RunData's damage as far as it is counted, without a scan: "N damaged frame(s)...", or
    "at least N ..." where some lies before a snapshot and is not counted yet: every_skipped
    would scan for it; the index cache holds it once show or export counted it."""
    if not uncounted(run.segments.values()):
        return f"{run.skipped_frames} damaged frame(s) in its segment files were skipped"
    return (f"at least {run.skipped_frames} damaged frame(s) in its segment files were skipped "
            "(run.skipped_frames counts every one)")
