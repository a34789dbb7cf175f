"""A run's state, derived by the reader, never written by a guess (DESIGN.md section 5):
`running` while a script segment's writer is alive (logger/liveness.py), else what the
segment that ran last says in its finish event, `crashed` without one. A mixin of RunData
(logger/rundata.py).
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from typing import Any

from .liveness import Observations, writer_alive


class RunState:
    """`state`, `exit_code`, `error` and `finished_at` of RunData, kept by `refresh_state()`."""

    segments: dict[str, Any]
    state: str
    exit_code: int | None
    error: str | None
    finished_at: float | None
    version: int
    _observed: Observations
    _generations: Callable[[], dict[str, int]]  # RunMeta's: the resume order of segments

    def writer_alive(self, now: float | None = None) -> bool:
        """Whether a script segment without a finish still has a live writer. `now` (wall
        time) moves this reader's own clock as far, for callers that look ahead."""
        wall = _time.time()
        mono = _time.monotonic() + (0.0 if now is None else now - wall)
        wall = wall if now is None else now
        return any(s.finish is None and writer_alive(s, self._observed, wall, mono)
                   for s in self.segments.values() if s.role != "editor")

    def refresh_state(self, now: float | None = None) -> bool:
        """Derive the run's state from its segments; True when it changed."""
        scripts = [s for s in self.segments.values() if s.role != "editor" and s.start]
        before = (self.state, self.exit_code, self.error)
        if self.writer_alive(now):
            self.state, self.exit_code, self.error, self.finished_at = "running", None, None, None
        elif scripts:
            # The segment that ran last: the latest generation (a resume follows what it
            # resumed, however its clock is set), then the latest start.
            generation = self._generations() if len(scripts) > 1 else {}
            last = scripts[0] if len(scripts) == 1 else max(scripts, key=lambda s: (
                generation.get(s.path.name, 0), s.start.time if s.start else 0.0, s.path.name))
            fin = last.finish
            if fin is None:
                self.state, self.exit_code, self.error = "crashed", None, None
                self.finished_at = max(last.last_time, last.start.time if last.start else 0.0)
            else:
                self.state, self.exit_code, self.error = fin.state, fin.exit_code, fin.error
                self.finished_at = fin.time
        elif self.segments and all(s.error for s in self.segments.values()):
            self.state = "unreadable"  # every segment says why in `errors`; nothing to judge by
        elif self.state == "running":  # a segment that was created and never written
            self.state, self.exit_code, self.error = "crashed", None, None
        changed = before != (self.state, self.exit_code, self.error)
        if changed:
            self.version += 1
        return changed
