"""The runwatch app: one screen per view, the theme, app-wide keys. Reading lives in MainScreen."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from .messages import RunsChanged
from .screens.help import HelpScreen
from .screens.main import MainScreen


class RunwatchApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "runwatch"
    BINDINGS = [Binding("question_mark", "help", "help", show=False)]

    def __init__(self, root: Path, force_polling: bool | None = None) -> None:
        super().__init__()
        self.root = root
        self.force_polling = force_polling

    def on_mount(self) -> None:
        self.main = MainScreen(self.root, self.force_polling)
        self.push_screen(self.main)

    def on_runs_changed(self, _message: RunsChanged) -> None:
        self.main.runs_changed()

    def screen_keys(self, screen: Screen[object]) -> list[tuple[str, str]]:
        """The screen's own keys first, then the app's, then the focused widget's."""
        keys: list[tuple[int, str, str]] = []
        seen: set[str] = set()
        for node, binding, _enabled, _tip in screen.active_bindings.values():
            if binding.description and binding.action not in seen:
                seen.add(binding.action)
                rank = 0 if node is screen else 1 if node is self else 2
                keys.append((rank, self.get_key_display(binding), binding.description))
        keys.sort(key=lambda k: k[0])
        return [(key, description) for _rank, key, description in keys]

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


def run_app(root: Path, force_polling: bool | None = None) -> int:
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
    app = RunwatchApp(root, force_polling)
    result = app.run()
    return result if isinstance(result, int) else 0
