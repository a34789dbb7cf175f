"""The detail screen's Logs and System tabs: a run's console as the terminal showed it, and
its system-metric charts, both read incrementally by a thread worker while the run is live.

Console lines come through `logger.streams.terminal_text` (colours dropped, every other escape
shown as text) before they become plain `Text`: a script's output cannot drive the terminal.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from ..model.console_tail import ConsoleTail
from ..model.plot import Plot
from ..model.store import RunStore
from ..model.system_plots import EMPTY, SystemSamples, overlay_plots, system_plots
from ..widgets.chart import Chart
from ..widgets.log_lines import LogLines

POLL = 0.5  # seconds between reads of a live run
NO_CONSOLE = "no console output stored"
ERROR = re.compile(r"Traceback|Error")
SYSTEM_CHARTS = 6
MAX_LINES = 100_000  # kept in the tab (the newest); `runwatch logs RUN` prints every one


class SearchBox(Input):
    """The Logs tab's search line: escape closes it (rather than leaving the screen)."""

    BINDINGS = [Binding("escape", "close", "close")]

    def action_close(self) -> None:
        self.remove_class("-open")
        self.screen.query_one(LogLines).focus()


class LogsPanel(Vertical):
    """The console of one run: follows it live, `/` filters and highlights, `e` jumps to the
    first error or traceback line, `w` toggles wrap."""

    DEFAULT_CSS = """
    LogsPanel { height: 1fr; }
    LogsPanel #logs-status { height: 1; }
    LogsPanel Input { display: none; }
    LogsPanel Input.-open { display: block; }
    """
    BINDINGS = [
        Binding("slash", "search", "search"),
        Binding("e", "first_error", "first error"),
        Binding("w", "wrap", "wrap"),
    ]

    def __init__(self, store: RunStore, path: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.path = path
        self.lines: list[str] = []  # escaped, as shown
        self.pattern: re.Pattern[str] | None = None
        self.wrap = False
        self.done = False  # the worker has read everything of a run that is no longer live
        self.first_error_line: int | None = None
        self.started = False
        self.dropped = 0  # the oldest lines let go beyond MAX_LINES

    def compose(self) -> ComposeResult:
        yield Static(id="logs-status")
        yield SearchBox(placeholder="search (regular expression); enter applies, empty clears, "
                        "escape closes", id="logs-search")
        yield LogLines(ERROR, id="logs-view")

    def on_mount(self) -> None:
        self._status()

    def on_show(self) -> None:
        """The tab opened: start reading (once), and take the keys."""
        view = self.store.views.get(self.path)
        if not self.started and view is not None:
            self.started = True
            self._follow(view.dir)
        self.query_one(LogLines).focus()

    def _live(self) -> bool:
        view = self.store.views.get(self.path)
        return view is not None and view.state == "running"

    @work(thread=True, exclusive=True, group="logs")
    def _follow(self, run_dir: Path) -> None:
        """Read new console chunks as they come; the open progress bar shows once the run ends."""
        worker = get_current_worker()
        console = ConsoleTail(run_dir)
        while not worker.is_cancelled:
            live = self.app.call_from_thread(self._live)
            out = console.read_new(final=not live)
            if out or not live:
                self.app.call_from_thread(self.append, out, not live)
            if not live:
                return
            time.sleep(POLL)

    def append(self, lines: list[str], done: bool = False) -> None:
        """Show new lines (already escaped); `done`: nothing more will come."""
        self.lines.extend(lines)
        view = self.query_one(LogLines)
        p = self.pattern
        view.add(lines if p is None else [line for line in lines if p.search(line)])
        over = len(self.lines) - MAX_LINES
        if over > 0:  # bounded however long the run prints
            self.dropped += over
            del self.lines[:over]
            if p is None:
                view.drop_first(over)
            else:
                self._redraw()
        self.done = done
        self._status()

    def _redraw(self) -> None:
        self.query_one(LogLines).show(self.shown(), self.pattern, self.wrap)
        self._status()

    def shown(self) -> list[str]:
        """The lines on screen: all of them, or those matching the search."""
        p = self.pattern
        return self.lines if p is None else [line for line in self.lines if p.search(line)]

    def _status(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        if not self.lines:
            text.append(NO_CONSOLE if self.done else "reading console…", style="dim")
        else:
            text.append(f"{len(self.lines)} lines", style="bold")
            if self.dropped:
                text.append(f" (the first {self.dropped} not kept: runwatch logs prints all)")
            if self.pattern is not None:
                text.append(f" · {len(self.shown())} match {self.pattern.pattern!r}")
            text.append(f" · wrap {'on' if self.wrap else 'off'}"
                        f"{'' if self.done else ' · following'}")
        text.append("   / search · e first error · w wrap", style="dim")
        self.query_one("#logs-status", Static).update(text)

    # -- actions -----------------------------------------------------------------------------
    def action_search(self) -> None:
        box = self.query_one("#logs-search", Input)
        box.add_class("-open")
        box.focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.stop()
        value = message.value
        try:
            self.pattern = re.compile(value, re.IGNORECASE) if value else None
        except re.error as exc:
            self.notify(f"not a regular expression: {exc}", severity="error")
            return
        message.input.remove_class("-open")
        self._redraw()
        self.query_one(LogLines).focus()

    def action_first_error(self) -> None:
        shown = self.shown()
        index = next((i for i, line in enumerate(shown) if ERROR.search(line)), None)
        if index is None:
            self.notify("no error or traceback line")
            return
        view = self.query_one(LogLines)
        view.scroll_to(y=view.row_of(index), animate=False)
        self.first_error_line = index

    def action_wrap(self) -> None:
        self.wrap = not self.wrap
        self._redraw()


class SystemPanel(Vertical):
    """Charts of the runs' SystemStats samples, read incrementally while any is live: one run's
    per-GPU util, memory, temperature, power, CPU and memory; several marked runs overlaid
    with a line per run; a group's mean and ±std band (the Charts tab's rules)."""

    DEFAULT_CSS = """
    SystemPanel { height: 1fr; }
    SystemPanel #system-status { height: 1; }
    SystemPanel Grid { grid-size: 2 3; height: 1fr; }
    """

    def __init__(self, store: RunStore, paths: list[str], group: bool = False,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.paths = paths
        self.group = group
        self.samples = 0
        self.draws = 0
        self.done = False
        self.started = False

    def compose(self) -> ComposeResult:
        yield Static(id="system-status")
        charts = [Chart(id=f"system-{i}") for i in range(SYSTEM_CHARTS)]
        for chart in charts:
            chart.display = False  # until there is something to draw
        yield Grid(*charts, id="system-grid")

    def on_show(self) -> None:
        """The tab opened: start reading, once (a detail screen opened for charts reads none)."""
        views = [self.store.views[p] for p in self.paths if p in self.store.views]
        if not self.started and views:
            self.started = True
            self._follow([(v.name, v.dir, v.created_at) for v in views])

    def _live(self) -> bool:
        views = self.store.views
        return any(p in views and views[p].state == "running" for p in self.paths)

    @work(thread=True, exclusive=True, group="system")
    def _follow(self, runs: list[tuple[str, Path, float]]) -> None:
        worker = get_current_worker()
        readers = [SystemSamples(run_dir) for _name, run_dir, _created in runs]
        first = True
        while not worker.is_cancelled:
            live = self.app.call_from_thread(self._live)
            if sum(reader.read_new() for reader in readers) or first:
                if len(runs) == 1:
                    plots = system_plots(readers[0].samples, runs[0][2])
                else:
                    plots = overlay_plots([(name, reader.samples, created) for (name, _d, created),
                                           reader in zip(runs, readers)], self.group)
                count = sum(len(reader.samples) for reader in readers)
                self.app.call_from_thread(self._show, plots, count, not live)
            elif not live:
                self.app.call_from_thread(self._done)
            first = False
            if not live:
                return
            time.sleep(POLL * 4)

    def _done(self) -> None:
        self.done = True
        self._status()

    def _show(self, plots: list[Plot], samples: int, done: bool) -> None:
        self.samples, self.done = samples, done
        for i, chart in enumerate(self.query(Chart)):
            chart.display = i < len(plots)
            if i < len(plots):
                chart.plot = plots[i]
        self.draws += 1
        self._status()

    def _status(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        if not self.samples:
            text.append(EMPTY if self.done else "reading system metrics…", style="dim")
        else:
            runs = len(self.paths)
            text.append(f"{self.samples} samples", style="bold")
            if runs > 1:
                text.append(f" of {runs} runs" + (" (mean ±std)" if self.group else " overlaid"))
            text.append("" if self.done else " · following", style="dim")
        self.query_one("#system-status", Static).update(text)
