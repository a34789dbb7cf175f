"""Filling the app's decimations in after the rows: the runs' Log events read back from disk.

The store reads runs as a listing does (logger/reader.py in meta mode: a finished run costs
its first frame, its snapshot and its finish, or nothing with the index cache), so every row
is on screen before any history is decoded. What the sink (tui/model/decimate.py) has not had
yet, `RunData.unfed()` says by byte range; `fill()` reads such ranges back, a bounded number
of bytes per call, so a call under the store's lock stays short (~10-20 ms) and the live path
and the screens wait at most that long for it.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from logger import events as ev
from logger.rundata import RunData

BATCH_BYTES = 256 * 1024  # bytes decoded per fill() call: ~15 ms of work on this machine


def read_range(path: Any, begin: int, end: int, budget: int) -> tuple[list[Any], int]:
    """The Log and ConsoleChunk events (what a snapshot skips over that the app shows) of the
    whole frames in bytes [begin, end) of a segment, stopping at a
    frame boundary once about `budget` bytes were read: (events, offset reached). Damaged
    frames are skipped (the reader counted them); a range that cannot be read is given up
    (offset `end`), so a fill never loops on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return [], end
    logs: list[Any] = []
    kinds = (ev.Log, ev.ConsoleChunk)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return [], end
        offset = max(begin, ev.HEADER_SIZE)
        resync, credit = False, ev.RESYNC_CREDIT
        want = max(64 * 1024, min(budget, ev.MAX_FRAME))
        while offset < end:
            data = os.pread(fd, min(want, end - offset), offset)
            if not data:
                return logs, end
            at_end = offset + len(data) >= end
            found = ev.scan(data, 0, at_end, resync, credit)
            resync = found.resync
            credit = min(ev.RESYNC_CREDIT, found.credit + ev.RESYNC_WORK * found.consumed)
            offset += found.consumed
            logs += [e for e in found.events if type(e) in kinds]
            if at_end:
                return logs, end  # the reader stopped at `end`: what is left was damage
            if found.need > len(data) - found.consumed:  # a frame longer than the window
                want = min(found.need, ev.MAX_FRAME + ev.FRAME_HEAD_SIZE + len(ev.MARKER))
            elif found.consumed == 0:
                return logs, end
            elif offset - begin >= budget:
                break
        return logs, offset
    except OSError:
        return logs, end
    finally:
        os.close(fd)


def fill(runs: list[RunData], budget: int = BATCH_BYTES) -> tuple[list[RunData], int, int]:
    """Feed the sinks of `runs` (in order) what they lack, about `budget` bytes in all:
    (runs fed, bytes read, how many of `runs` were visited). Call with the store's lock
    held; again while runs are left."""
    fed: list[RunData] = []
    spent = visited = 0
    for run in runs:
        visited += 1
        for seg, begin, end in run.unfed():
            while begin < end and spent < budget:
                logs, reached = read_range(seg.path, begin, end, budget - spent)
                run.feed(seg, logs, reached)
                spent += max(reached - begin, 1)
                begin = reached
            if not fed or fed[-1] is not run:
                fed.append(run)
        if spent >= budget:
            break
    return fed, spent, visited


def unfed_bytes(runs: list[RunData]) -> int:
    """Bytes of rows the sinks of `runs` have not had yet."""
    return sum(end - begin for run in runs for _seg, begin, end in run.unfed())
