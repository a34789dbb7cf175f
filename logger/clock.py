"""The event clock: the wall clock when the package loaded plus monotonic time since, so a
clock that NTP or a user steps back mid-run cannot reorder a run's events.

One clock for every writer-side module (run, media, alerts, console, system metrics), so they
all stamp events on the run's time base; `reset()` at each init re-reads the wall clock.
"""

from __future__ import annotations

import time

_mono = time.monotonic
_base = time.time() - _mono()


def now() -> float:
    return _base + _mono()


def reset() -> None:
    """Take the wall clock now as the base (a run starts)."""
    global _base
    _base = time.time() - _mono()
