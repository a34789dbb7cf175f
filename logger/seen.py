"""How much of a segment an editor saw: its EditSeen records sizes; readers count events.

An edit is ordered after the events that were on disk when it was made (logger.rundata's
label order). Sizes are cheap for the editor (a stat per segment, no reading); where the
edit saw only part of what a reader has read, the reader counts the events in that prefix.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from . import events as ev

CHUNK = 1 << 20  # read in 1 MiB pieces: memory stays bounded by the largest frame


def count_events(path: Path, size: int) -> int:
    """The number of events in the whole frames of the first `size` bytes of a segment."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):
        return 0
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode) or len(f.read(ev.HEADER_SIZE)) < ev.HEADER_SIZE:
            return 0
        left, count, rest = size - ev.HEADER_SIZE, 0, b""
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            events, consumed, _ = ev.scan_frames(rest + chunk)
            count += len(events)
            rest = (rest + chunk)[consumed:]
    return count
