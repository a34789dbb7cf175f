"""Whether a segment's writer is still alive, judged by this reader.

A pid says so only when it is ours to judge: the writer ran on this host, in this boot, in
this PID namespace, and the pid still has the start time the writer recorded. Anywhere else
(another host, a container with its own PID namespace, a foreign boot) the reader believes
only what it observes with its own clock: a live writer touches its file at least every
HEARTBEAT_INTERVAL (10 s), so a file this reader has not seen change for HEARTBEAT_WINDOW
has no live writer. The writer's own timestamps are never compared with the reader's clock:
a host whose clock is ahead would otherwise keep a dead run "running" for as long as it is
ahead.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from .host import boot_id, pid_namespace, process_alive

HEARTBEAT_WINDOW = 30.0  # 3 heartbeats (10 s apart) missed: the writer is gone
START_GRACE = 1.0  # a segment still without its start this long after it changed: no writer
CLOCK_SLACK = 2.0  # an mtime this far ahead of our clock is still read as "just now"
_HOST = socket.gethostname()
_MAX_PID = 2**22  # Linux's pid_max ceiling; a larger recorded pid is damage


class Observations:
    """What one reader saw of each segment file: (size, mtime) and, on its own monotonic
    clock, when that last changed."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[str, tuple[int, float, float]] = {}

    def observe(self, name: str, size: int, mtime: float, wall: float | None = None,
                mono: float | None = None) -> None:
        """Record a stat of segment `name`; a change (or a first sight) moves its clock."""
        mono = time.monotonic() if mono is None else mono
        seen = self._seen.get(name)
        if seen is not None and seen[:2] == (size, mtime):
            return
        if seen is None:
            mono -= _age_at_first_sight(mtime, time.time() if wall is None else wall)
        self._seen[name] = (size, mtime, mono)

    def quiet_for(self, name: str, mono: float) -> float | None:
        """Seconds since this reader saw the file change; None if it never looked."""
        seen = self._seen.get(name)
        return None if seen is None else mono - seen[2]


def _age_at_first_sight(mtime: float, wall: float) -> float:
    """How long ago a file first seen now last changed. Its mtime comes from the filesystem's
    clock (this host's, or the file server's); one far ahead of ours tells nothing, so such a
    file counts as changed just now and must then be seen changing again to stay alive."""
    age = wall - mtime
    if age != age or age < -CLOCK_SLACK:  # NaN, or a clock ahead of ours
        return 0.0
    return max(0.0, age)


def pid_verdict(start: Any) -> bool | None:
    """True/False when the writer's pid is ours to judge; None when it is not."""
    pid = start.pid
    if start.host != _HOST or start.boot_id != boot_id():
        return None
    if not 0 < pid < _MAX_PID:
        return False if pid <= 0 else None
    theirs = getattr(start, "pid_ns", "")
    if theirs and theirs != pid_namespace():
        return None  # another PID namespace: our process `pid`, if any, is someone else
    # An older writer did not say which namespace it ran in: its pid is judged as before (a
    # foreign process matching both pid and start time would be a coincidence).
    return process_alive(pid, start.proc_start)


def writer_alive(seg: Any, seen: Observations, wall: float, mono: float) -> bool:
    """Whether the writer of one segment (not finished) is alive."""
    start, window = seg.start, HEARTBEAT_WINDOW
    if start is None:
        # No start read: a segment appears with its start in it (segfile.open_segment), so
        # this one's writer died before its first write (or an older one between its open and
        # write), or it is damage. Alive only while that fresh, as a killed writer is judged.
        if seg.error is not None:
            return False
        window = START_GRACE
    else:
        verdict = pid_verdict(start)
        if verdict is not None:
            return verdict
    quiet = seen.quiet_for(seg.path.name, mono)
    if quiet is None:
        quiet = _age_at_first_sight(seg.mtime, wall) if seg.mtime else window
    return quiet < window
