"""Where a window's rows begin in a segment whose steps never go back: `scan_history(min_step=N)`
of a long run reads from the frame before step N, not from the segment's start (W&B's server
pages from min_step; reading 1M rows to give the last 1,000 took 0.6 s).

The frames' heads are walked (9 bytes each, ~200 rows a frame) and a binary search decodes the
steps of a dozen of them, each frame's checksum checked first. Anything odd on the way (a bad
marker, a damaged or torn frame, a newer format) gives up the seek: the caller reads the
segment from its start, where the reader's own rules handle it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec

from . import events as ev
from .history_order import decode_steps
from .segment import StepLog

__all__ = ["first_row_time", "start_of_window"]


class _Odd(Exception):
    """Something the seek does not judge: read from the start."""


def start_of_window(path: Path, lo: int) -> int:
    """The offset of the last frame whose first row's step is below `lo` (or of the first
    frame), in a segment whose steps never go back: every row at step >= lo lies past it.
    The header's end (read it all) where anything is odd."""
    fd = _open(path)
    if fd is None:
        return ev.HEADER_SIZE
    try:
        starts = _frame_starts(fd, os.fstat(fd).st_size)
        first = _first_row(fd, starts, 0)
        if first is None:
            return ev.HEADER_SIZE
        found, low, hi = 0, first[0] + 1, len(starts)  # the last frame whose first row is below lo
        while low < hi:
            mid = (low + hi) // 2
            row = _first_row(fd, starts, mid)
            if row is not None and row[1] < lo:
                found, low = row[0], row[0] + 1
            else:
                hi = mid
        return starts[found]
    except (_Odd, OSError):
        return ev.HEADER_SIZE
    finally:
        os.close(fd)


def first_row_time(path: Path) -> float | None:
    """The time of a segment's first row (frames read from the start until one holds a row);
    None where there is none or anything is odd."""
    fd = _open(path)
    if fd is None:
        return None
    try:
        size, pos, head = os.fstat(fd).st_size, ev.HEADER_SIZE, ev.FRAME_HEAD_SIZE
        while pos + head <= size:
            events, pos = _events(fd, pos)
            for event in events:
                if type(event) is StepLog:
                    return event.time
        return None
    except (_Odd, OSError):
        return None
    finally:
        os.close(fd)


def _open(path: Path) -> int | None:
    """The segment opened, its header checked; None where it cannot be read or is not ours."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        ev.check_header(os.pread(fd, ev.HEADER_SIZE, 0), str(path))
    except (OSError, ev.NewerFormatError):
        os.close(fd)
        return None
    return fd


def _frame_starts(fd: int, size: int) -> list[int]:
    """The offsets of the segment's whole frames, from their heads alone (a torn last one left out)."""
    starts, pos, head = [], ev.HEADER_SIZE, ev.FRAME_HEAD_SIZE
    while pos + head <= size:
        data = os.pread(fd, head, pos)
        if len(data) < head:
            break
        marker, length, _crc = ev.FRAME_HEAD.unpack(data)
        if marker != ev.MARKER or length > ev.MAX_FRAME:
            raise _Odd
        if pos + head + length > size:
            break
        starts.append(pos)
        pos += head + length
    return starts


def _first_row(fd: int, starts: list[int], i: int) -> tuple[int, int, float] | None:
    """(frame index, step, time) of the first row in frame `i` or after it; None past the last."""
    for j in range(i, len(starts)):
        for event in _events(fd, starts[j])[0]:
            if type(event) is StepLog:
                return j, event.step, event.time
    return None


def _events(fd: int, pos: int) -> tuple[list[Any], int]:
    """The events of the frame at `pos`, rows as their step and time only (the first pass's
    decoder), its checksum checked; and where the next frame begins."""
    head = os.pread(fd, ev.FRAME_HEAD_SIZE, pos)
    if len(head) < ev.FRAME_HEAD_SIZE:
        raise _Odd
    marker, length, crc = ev.FRAME_HEAD.unpack(head)
    if marker != ev.MARKER or length > ev.MAX_FRAME:
        raise _Odd
    payload = os.pread(fd, length, pos + ev.FRAME_HEAD_SIZE)
    if len(payload) != length or ev._crc32(payload) != crc:
        raise _Odd
    try:
        return decode_steps(payload), pos + ev.FRAME_HEAD_SIZE + length
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        raise _Odd from None
