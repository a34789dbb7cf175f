"""Reading rows back from segment files by byte offset, for charts that need more than the
app keeps (tui/model/decimate.py): a zoom's stretch of one segment, or a run's whole merged
history of a few keys. Bounded reads (READ_CHUNK at a time); damaged frames are skipped."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import Any

from logger import events as ev
from logger.history import History
from logger.rundata import RunData

READ_CHUNK = 1024 * 1024


def nested(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    for part in path:
        if type(values) is not dict:
            return None
        values = values.get(part)  # type: ignore[assignment]
    return values


def segment_logs(path: Any, begin: int, end: int) -> Iterator[list[Any]]:
    """The Log events of the frames in bytes [begin, end) of a segment, a chunk at a time."""
    log = ev.Log
    for events in segment_events(path, begin, end):
        yield [e for e in events if type(e) is log]


def segment_events(path: Any, begin: int, end: int) -> Iterator[list[Any]]:
    """The events of the frames in bytes [begin, end) of a segment, a chunk at a time.
    `begin` is a frame boundary (0 or where an earlier read stopped); damage is skipped."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        offset, want = max(begin, ev.HEADER_SIZE), READ_CHUNK
        resync, credit = False, ev.RESYNC_CREDIT
        while offset < end:
            data = os.pread(fd, min(want, end - offset), offset)
            if not data:
                return
            at_eof = offset + len(data) >= end
            found = ev.scan(data, 0, at_eof, resync, credit)
            resync = found.resync
            credit = min(ev.RESYNC_CREDIT, found.credit + ev.RESYNC_WORK * found.consumed)
            offset += found.consumed
            yield found.events
            if at_eof:
                return
            if found.need > len(data) - found.consumed:
                want = min(found.need, ev.MAX_FRAME + ev.FRAME_HEAD_SIZE + len(ev.MARKER))
            elif found.consumed == 0:
                return
            else:
                want = READ_CHUNK
    finally:
        os.close(fd)


def disk_history(run: RunData, keys: list[str]) -> History:
    """The merged history of `keys` of `run` read back from its segments up to where the
    reader is: every writer, resumes ordered as the reader orders them. Hold the lock."""
    wanted = set(keys)
    tmp = RunData(run.dir, run.project, run.id)
    log = ev.Log
    for seg in run.segments.values():
        for events in segment_events(seg.path, 0, seg.offset):
            events = [e if type(e) is not log else log(
                step=e.step, time=e.time,
                values={k: v for k, v in e.values.items() if k in wanted or type(v) is dict})
                for e in events]
            tmp.apply(seg, events)
    return tmp.history
