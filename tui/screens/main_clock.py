"""TextClock: one Textual timer, set for the next moment a text on the main screen changes by
time alone (an age stepping on, a running run's runtime, a stall: RunTable.next_change), in
place of a tick each second that mostly found nothing to repaint. An idle table of finished
runs wakes at most once a minute (its newest age), or never (ages older than two days)."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message_pump import MessagePump
from textual.timer import Timer

from ..model import runview

SLACK = 0.01  # seconds after a text's change that the timer fires (never just before it)
LOADING_EVERY = 1.0  # while the root loads, the status line's progress moves this often


class TextClock:
    def __init__(self, owner: MessagePump, tick: Callable[[], None]) -> None:
        self._owner = owner
        self._tick = tick
        self._timer: Timer | None = None
        self._due = 0.0  # time.monotonic() the timer is set for
        self.sets = 0  # timers set so far (tests count them)

    def set(self, at: float | None, loading: bool = False) -> None:
        """Fire at `at` (as runview.clock() reads; None: never), within LOADING_EVERY when
        `loading`; a timer already set for that moment stays."""
        delay = None if at is None else max(0.0, at - runview.clock()) + SLACK
        if loading:
            delay = LOADING_EVERY if delay is None else min(delay, LOADING_EVERY)
        if delay is None:
            self.stop()
            return
        due = time.monotonic() + delay
        if self._timer is not None and abs(due - self._due) < SLACK / 2:
            return
        self.stop()
        self.sets += 1
        self._timer, self._due = self._owner.set_timer(delay, self._fire), due

    def _fire(self) -> None:
        self._timer = None
        self._tick()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
