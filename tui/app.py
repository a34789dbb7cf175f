"""The runwatch app: app-wide keys, the help and the palette; it owns the RunStore (and runs
its reading thread) and the Editor, and hands both to the screens it opens."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from logger.textsafe import safe_text

from .commands import RunCommands
from .keys import KeyGate
from .messages import ReadingStopped, RunsChanged
from .model.alerts import AlertTracker, NewAlert
from .model.store import RunStore
from .screens.edit import Editor
from .screens.help import HelpScreen, screen_keys
from .screens.main import MainScreen
from .view_memory import ViewMemory


class RunwatchApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "runwatch"
    BINDINGS = [Binding("question_mark", "help", "help", show=False)]
    COMMANDS = App.COMMANDS | {RunCommands}

    def __init__(self, root: Path, force_polling: bool | None = None,
                 reset_view: bool = False) -> None:
        super().__init__()
        self.root = root
        self.keys = KeyGate(self)  # a burst of keys arrives whole and in order
        self.view_memory = ViewMemory(self, root, reset=reset_view)
        # The reading thread's news comes to the App, not to a screen: a message to a screen
        # while it is hidden would make Textual repaint the top screen.
        self.store = RunStore(root, force_polling, lambda views: self.post_message(RunsChanged(views)))
        # The reader restores the rest of a reopened root once the first screenful is drawn.
        self.store.drawn = threading.Event()
        self.editor = Editor(self, self.store)
        self.alerts = AlertTracker(time.time())  # alerts already on disk are not news
        self._alerts_lock = threading.Lock()  # one alert worker at a time...
        self._alerts_running = False
        self._alerts_again = False  # ...which looks once more if batches came meanwhile

    async def on_mount(self) -> None:
        # A reopen's newest screenful (the cache: ~30 ms) before the screen lays out, so its
        # first layout has the rows and the chart panel its size.
        views = self.store.restore_newest()
        # Runs shown from cached rows held these alerts: shown before, not news when read.
        self.alerts.seen({path: row.alerts for path, row in self.store.ghosts.items()})
        if views:
            self.on_runs_changed(RunsChanged(views))
        # Reading starts while the table is built: the screen takes what the store holds when
        # it mounts (a reopen's first screenful, restored meanwhile), then what comes after.
        self.run_worker(self._read, thread=True, name="reader", group="reader")
        await self.push_screen(MainScreen(self.store, self.editor))

    def on_unmount(self) -> None:
        self.store.stop()
        self.view_memory.flush()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self.keys.hold(event):
                return
            target = self.focused or self.screen
            await super().on_event(event)
            self.keys.sent(event, target if event.is_forwarded else None)
            return
        await super().on_event(event)

    def _read(self) -> None:
        try:
            self.store.read()
        except Exception as exc:  # noqa: BLE001 - shown on screen, not a traceback
            self.post_message(ReadingStopped(f"{type(exc).__name__}: {exc}"))

    def on_runs_changed(self, message: RunsChanged) -> None:
        self.store.apply(message.views)
        if message.views and not self.store.drawn.is_set():
            self.call_after_refresh(self.store.drawn.set)
        ghosts = self.store.ghosts  # no RunData to look into, nothing new in them
        self.alerts.push([p for p in message.views if p not in ghosts], self.store.loaded)
        with self._alerts_lock:  # a worker per message was hundreds of threads on a cold open
            if self._alerts_running:
                self._alerts_again = True
                return
            self._alerts_running = True
        self._find_alerts()

    @work(thread=True, group="alerts")
    def _find_alerts(self) -> None:
        """Drain the batches pushed, again while more came during a drain, then stop."""
        again = True
        try:
            while again:
                for alert in self.alerts.drain(self.store.with_runs):
                    self.call_from_thread(self._show_alert, alert)
                with self._alerts_lock:
                    again, self._alerts_again = self._alerts_again, False
                    self._alerts_running = again
        finally:
            if again:  # it raised (the app closing): the next message starts another
                with self._alerts_lock:
                    self._alerts_running = False

    def _show_alert(self, alert: NewAlert) -> None:
        """A run raised an alert: a notification (WARN and ERROR also ring the bell)."""
        self.notify(alert.text, title=alert.run, severity=alert.severity, markup=False, timeout=10)
        if alert.rings:
            self.bell()

    def on_reading_stopped(self, message: ReadingStopped) -> None:
        self.notify(safe_text(message.error), title="reading stopped", severity="error",
                    markup=False, timeout=30)

    def screen_keys(self, screen: Screen[object]) -> list[tuple[str, str]]:
        return screen_keys(self, screen)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        title = type(self.screen).__name__.removesuffix("Screen")
        self.push_screen(HelpScreen(title, self.screen_keys(self.screen)))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette lists every action of the screen (with its key), then Textual's own."""
        seen: set[str] = set()
        for node, binding, enabled, _tip in screen.active_bindings.values():
            if not binding.description or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.get_key_display(binding)
            yield SystemCommand(binding.description.capitalize(), f"key: {key}",
                                partial(self.call_later, self.run_action, binding.action, node))
        yield from super().get_system_commands(screen)


def tune_gc() -> None:
    """Fewer full collections: reading 10k runs allocates millions of long-lived objects and
    CPython's default thresholds rescan them all again and again (first pass 2.3 s -> 1.6 s)."""
    gc.set_threshold(50_000, 20, 100)


def run_app(root: Path, force_polling: bool | None = None, reset_view: bool = False) -> int:
    """Open the app on `root` (watched until runs appear). Returns the process exit status."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        print(f"runwatch: {root} is a file, not a directory of runs; "
              "pass the directory that holds <project>/<run-id>/", file=sys.stderr)
        return 2
    if root.exists() and not os.access(root, os.R_OK | os.X_OK):
        print(f"runwatch: cannot read {root} (permission denied); "
              "check its permissions or pass another directory", file=sys.stderr)
        return 2
    tune_gc()
    app = RunwatchApp(root, force_polling, reset_view)
    result = app.run()
    return result if isinstance(result, int) else 0
