"""One segment's frames decoded a chunk at a time by a decoder that builds only the event kinds
its reader needs (history_read, tail, export): clean frames through a tight loop, anything odd
(damage, a torn tail, a newer format) through SegmentReader and every reader's rules.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Union, get_args

import msgspec

from . import events as ev
from .segment import DamagedFrame, SegmentReader, clean_frames

CHUNK = 1 << 20  # bytes read at a time: ~7,000 steps of 8 scalars
PIECE = ev.FRAME_BYTES + ev.FRAME_HEAD_SIZE  # decoded at a time: one frame, ~200 steps, a page
Scalar = Union[int, float, str, bool, None, list[Any]]  # noqa: UP007 - msgspec needs a Union object


def skipping(keep: dict[type, type]) -> Any:
    """A frame decoder for `list[AnyEvent]` that builds only the kinds in `keep` (their
    replacement types) and passes over every other event's fields without building them."""
    kinds = []
    for kind in get_args(ev.AnyEvent):
        tag = kind.__struct_config__.tag
        kinds.append(keep.get(kind) or msgspec.defstruct(
            f"Skip_{tag}", [], array_like=True, tag_field="k", tag=tag, gc=False))
    union: Any = Union.__getitem__(tuple(kinds))
    return msgspec.msgpack.Decoder(list[union]).decode


class FlatLog(msgspec.Struct, array_like=True, tag_field="k", tag="log", gc=False):
    """A Log event whose values are flat: string keys, no nested dict (media refs included:
    a frame with one fails to decode as this and is decoded as ev.Log instead)."""

    step: int
    time: float
    values: dict[str, Scalar]


decode_flat = skipping({ev.Log: FlatLog})
# A frame of flat Log events only (nearly every one) decodes as tuples: transposed into
# columns in one C-level pass, where structs take an attribute pass per field.
decode_tuples = msgspec.msgpack.Decoder(list[tuple[Literal["log"], int, float, dict[str, Scalar]]]).decode


def decode_rows(payload: Any) -> list[Any]:
    """A frame's events: tuples (tag, step, time, values) where every event is a flat Log,
    else FlatLog structs and placeholders (else, via clean_frames, full events)."""
    try:
        return decode_tuples(payload)
    except msgspec.ValidationError:
        return decode_flat(payload)


class Slow(Exception):
    """The fast frame loop met something only SegmentReader handles (damage, a torn tail)."""


def segment_events(path: Path, decode: Any, chunk: int = CHUNK, count: Any = len,
                   skipped: list[int] | None = None, start: int = ev.HEADER_SIZE) -> Iterator[list[Any]]:
    """The events of one segment, a chunk at a time, decoded by `decode`. At the first anomaly
    the rest comes from SegmentReader (resync, skipped frames, torn tails), as full events,
    those already given skipped (`count`: how many events a chunk of `decode`'s stands for).
    The damaged frames SegmentReader passed over are added to `skipped[0]` as they are met
    (the count RunData.skipped_frames sums), so that a reader can say what it skipped.
    `start`: a frame's offset to read from (logger/history_seek.py), the header checked."""
    done = 0
    try:
        for events in fast_events(path, decode, chunk, start):
            done += count(events)
            yield events
            del events  # each layer lets go of a chunk before the next is decoded (see _frames)
        return
    except Slow:
        pass
    seg = SegmentReader(path)
    if start > ev.HEADER_SIZE:  # the seek that gave `start` checked the header (logger/history_seek.py)
        seg._header_ok, seg.offset = True, start
    while True:
        before, passed = seg.offset, seg.skipped
        events = seg.read_new(chunk)
        if skipped is not None:
            skipped[0] += seg.skipped - passed
        if done:
            cut = min(done, len(events))
            done -= cut
            events = events[cut:]
        if events:
            yield events
        elif seg.offset == before:
            return


def fast_events(path: Path, decode: Any, chunk: int = CHUNK, start: int = ev.HEADER_SIZE,
                stop: int | None = None) -> Iterator[list[Any]]:
    """The events of the clean frames in [start, stop) (`stop` a frame boundary; None: the end
    of the file). Raises Slow at anything else, after yielding what came before it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        raise Slow from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Slow
        size = st.st_size if stop is None else min(stop, st.st_size)
        try:
            ev.check_header(os.pread(fd, ev.HEADER_SIZE, 0), str(path))
        except ev.NewerFormatError:
            raise Slow from None
        yield from _frames(fd, decode, chunk, start, size)
    finally:
        os.close(fd)


def _frames(fd: int, decode: Any, chunk: int, pos: int, size: int) -> Iterator[list[Any]]:
    """Reads of `chunk` bytes, each decoded and given out a frame or two at a time. Each read
    starts at a frame (the part of one a read cut is read again with the next), so no buffer
    is joined; and no layer holds a piece while the next is decoded, so the memory its rows
    took is reused, warm in cache (a MiB of rows at a time cost about 0.5x of a full decode
    more, in fresh pages and cache misses)."""
    want = chunk
    while pos < size:
        data = os.pread(fd, min(want, size - pos), pos)
        view, off = memoryview(data), 0
        while True:
            events, used = _piece(view, off, decode)
            if not used:
                break
            off += used
            yield events
            del events
        if off:
            pos, want = pos + off, chunk
            continue
        need = _need(data)
        if pos + len(data) >= size or need <= len(data):
            raise Slow  # an incomplete last frame: SegmentReader knows a torn tail from damage
        want = need


def _piece(view: memoryview, off: int, decode: Any) -> tuple[list[Any], int]:
    """The whole frames in the next PIECE bytes from `off` (the next frame, when longer)."""
    try:
        events, used = clean_frames(view[off:off + PIECE], decode)  # type: ignore[arg-type]
        if not used and len(view) - off > PIECE:
            events, used = clean_frames(view[off:], decode)  # type: ignore[arg-type]
    except DamagedFrame:
        raise Slow from None
    return events, used


def _need(data: bytes) -> int:
    """The bytes of the frame starting `data` (0 when not even its head is there)."""
    if len(data) < ev.FRAME_HEAD_SIZE:
        return ev.FRAME_HEAD_SIZE
    return ev.FRAME_HEAD_SIZE + ev.FRAME_HEAD.unpack_from(data, 0)[1]
