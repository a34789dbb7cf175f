"""Keys typed in one burst (a paste without bracketed paste, a laggy SSH link delivering ten
keys at once) reach, in order, whatever has focus when each one's turn comes.

Textual queues a key for the widget focused when the key *arrives*. A key that opens a
screen or moves focus ("g" opens a picker, "t" the tag editor, "/" the filter, Enter closes
it) thus leaves the keys behind it queued for the old widget, which drops them or takes them
for itself: "/", ctrl+u, Enter kept the old filter; "g" then "lr" lost the "lr".

KeyGate lets one key through at a time: the next is handed on only once the previous one has
gone its whole way (the focused widget, each widget it bubbled to, the App's bindings) and
the screen on top has processed what that started (a screen mounted, focus moved).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from textual import events
from textual.app import ScreenStackError
from textual.message_pump import MessagePump
from textual.timer import Timer

MAX_WAIT = 3.0  # seconds a key may hold the next back: a handler that never finishes
# (or a journey this module cannot see the end of) must not swallow the keys after it;
MAX_WORK = 1.0  # ...once the App's thread has also spent this much CPU on it since: a screen
# opened on a loaded machine takes seconds of wall time for ~0.1 s of CPU, and its keys must wait
MAX_HOLD = 30.0  # ...or this long whatever the CPU says (an idle App whose key never ends)
RECHECK = 0.5


class KeyGate:
    """Owned by the App; `hold()` and `sent()` are called from its `on_event`."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._held: deque[events.Key] = deque()
        self._in_flight: events.Key | None = None
        self._released: events.Key | None = None  # a held key on its way back in
        self._timer: Timer | None = None
        self._sent_at = (0.0, 0.0)  # monotonic and App-thread CPU time when the key went
        self.held_total = 0  # keys that waited their turn (tests and curiosity)

    def hold(self, event: events.Key) -> bool:
        """True when `event`, just received by the App, must wait for the keys before it."""
        if event is self._released:
            self._released = None
            return False
        if self._in_flight is not None or self._held:
            self._held.append(event)
            self.held_total += 1
            return True
        return False

    def sent(self, event: events.Key, target: MessagePump | None) -> None:
        """The App dispatched `event`: to `target`'s queue, or (None) through a priority
        binding, already done."""
        self._in_flight = event
        self._sent_at = (time.monotonic(), time.thread_time())
        self._timer = self.app.set_timer(MAX_WAIT, lambda: self._overdue(event))
        if target is None:
            self._settle(event)
        else:
            self._follow(event, target)

    def _follow(self, event: events.Key, node: MessagePump) -> None:
        """Wait at `node` until it has handled `event`; then at its parent if it bubbled."""
        def handled() -> None:
            parent = node._parent
            if event._stop_propagation or not event.bubble or parent is None:
                self._settle(event)
            else:
                self._follow(event, parent)  # bubbled: already in the parent's queue

        if not node.call_later(handled):  # the node is closing: the key ends there
            self._settle(event)

    def _settle(self, event: events.Key) -> None:
        """Let the next key go once what this one started has run: first what it left in
        the App's queue, then everything up to the idle of the screen now on top (a screen
        it pushed composed and mounted, with its widget focused)."""
        if not self.app.call_later(self._when_idle, event):
            self._next(event)

    def _when_idle(self, event: events.Key) -> None:
        try:
            screen = self.app.screen
        except ScreenStackError:  # the app is closing
            self._next(event)
            return
        screen._invoke_later(lambda: self._next(event), self.app)  # what call_after_refresh
        # does, without its hop through the App, which fails once the last screen is gone

    def _overdue(self, event: events.Key) -> None:
        """The safety net: let the next key go once this one has held it for MAX_WAIT and
        the App has worked on it for MAX_WORK; a starved App (a loaded machine) keeps the
        order, a journey that never ends still frees the keys after MAX_HOLD."""
        if self._in_flight is not event:
            return
        wall, cpu = self._sent_at
        held, worked = time.monotonic() - wall, time.thread_time() - cpu
        if worked < MAX_WORK and held < MAX_HOLD:
            self._timer = self.app.set_timer(RECHECK, lambda: self._overdue(event))
            return
        self._next(event)

    def _next(self, event: events.Key) -> None:
        if self._in_flight is not event:
            return  # already let go (by the timer, or by the journey's end)
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._in_flight = None
        if self._held:
            key = self._held.popleft()
            self._in_flight = key  # keys arriving meanwhile queue behind it
            self._released = key
            self.app.post_message(key)
