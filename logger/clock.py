"""The event clock: the wall clock when the package loaded plus monotonic time since, so a
clock that NTP or a user steps back mid-run cannot reorder a run's events.

Loaded with the package (logger/__init__.py), at the same moment as run.py's own copy of this
clock, so media and alerts stamp events on the run's time base without importing run.py.
"""

from __future__ import annotations

import time

_mono = time.monotonic
_base = time.time() - _mono()


def now() -> float:
    return _base + _mono()
