"""ViewMemory: the App's remembered view of its root (tui/model/viewstate.py), loaded at
start, saved shortly after each change (in a worker thread) and once more on exit.

Screens read `state` and report changes with `update(field=value, ...)`; nothing is
written while nothing changed, so an idle app writes nothing.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

from textual.timer import Timer

from logger.textsafe import safe_text

from .model import viewstate

SAVE_DELAY = 0.5  # seconds: typing a filter saves once, not once a keystroke


class ViewMemory:
    def __init__(self, app: Any, root: Path, reset: bool = False) -> None:
        self.app = app
        self.root = root
        if reset:
            self._quietly(viewstate.reset, root)
        self.state = viewstate.load(root)
        self._saved = dataclasses.replace(self.state)
        self._timer: Timer | None = None
        self._warned = False
        self.saves = 0  # files written (tests wait on it)
        self._generation = 0  # one more at each reset: a save begun before it must not land
        self._writing = threading.Lock()  # one save at a time (the worker, or flush on exit)

    def update(self, **changes: Any) -> None:
        """Some of the view changed: remember it (saved after SAVE_DELAY)."""
        new = dataclasses.replace(self.state, **changes)
        if new == self.state:
            return
        self.state = new
        if self._timer is None:
            self._timer = self.app.set_timer(SAVE_DELAY, self._save_soon)

    def reset(self) -> None:
        """Forget the remembered view (the file, and what this session would save)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._generation += 1
        self.state = viewstate.ViewState()
        self._saved = dataclasses.replace(self.state)
        self._quietly(viewstate.reset, self.root)

    def _save_soon(self) -> None:
        self._timer = None
        state, generation = dataclasses.replace(self.state), self._generation
        self.app.run_worker(lambda: self._write(state, generation), thread=True,
                            group="view-memory")

    def flush(self) -> None:
        """On exit: save now what is not saved yet."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.state != self._saved:
            self._write(dataclasses.replace(self.state), self._generation)

    def _write(self, state: viewstate.ViewState, generation: int) -> None:
        """Save `state`, taken before reset number `generation`: a save still on its way when
        the view was reset (the worker thread late on a loaded machine) is dropped, or undone
        when it landed after reset removed the file; the reset view must stay forgotten."""
        with self._writing:
            if generation != self._generation or not self._quietly(viewstate.save, self.root, state):
                return
            if generation != self._generation:  # reset while this was writing
                self._quietly(viewstate.reset, self.root)
                return
            self._saved = state
            self.saves += 1

    def _quietly(self, fn: Any, *args: Any) -> bool:
        """Run a state-file operation; a failure is said once, never raised (the view is a
        convenience: a read-only home must not stop anyone watching runs)."""
        try:
            fn(*args)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                message = f"cannot remember the view in {viewstate.state_dir()}: {exc}"
                try:
                    self.app.call_from_thread(self._say, message)
                except RuntimeError:  # on the UI thread (or before the app runs)
                    self._say(message)
            return False
        return True

    def _say(self, message: str) -> None:
        try:
            self.app.notify(safe_text(message), severity="warning", markup=False)
        except Exception:  # noqa: BLE001 - before the app runs there is nowhere to say it
            pass
