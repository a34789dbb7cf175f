"""ChartPanel: live charts beside or below the run table, of the run under the cursor, the
marked runs overlaid, or a group's mean ± std band; a chart for every metric, in pages,
filtered by a glob.

The panel is told what to chart (`show(target, first)`); it reads history itself, as the
detail screen does: it hears of new snapshots from the store (subscribed while mounted) and
looks only when one is of a charted run, and a thread worker copies the page's series out
with `store.with_runs` (SeriesCache) and builds the Plots (build_plots) off the UI thread.
Data-only redraws come at most every LIVE_INTERVAL (plotext: ~10 ms a chart). Idle, it
does nothing at all (a 4 Hz look cost 0.15 % of a core with nothing to find).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from logger.rundata import RunData
from logger.textsafe import one_line, safe_text

from ..model.plot import Plot
from ..model.series import ChartOptions, Points, SeriesCache, build_plots
from ..model.store import RunStore, Views
from ..model.workspace import (
    MAX_PER_PAGE,
    Page,
    PanelLayout,
    Target,
    chart_metrics,
    grid_shape,
    page_of,
)
from .chart import Chart
from .filter_box import FilterBox

LIVE_INTERVAL = 2.0  # seconds between redraws of a live run's charts. Following one run at
# 120x40 the panel costs +3 % CPU redrawing every second, +1.3 % every 2 s (the full-screen
# charts, enter, still redraw every second)


class DragBar(Static):
    """A bar the mouse drags (the panel's title below the table, the divider beside it):
    posts Dragged with the pointer's screen position while the button is down."""

    @dataclass
    class Dragged(Message):
        x: int
        y: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dragging = False

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self.dragging = True
        self.capture_mouse()
        event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self.dragging:
            self.post_message(self.Dragged(event.screen_x, event.screen_y))

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self.dragging:
            self.dragging = False
            self.release_mouse()
            self.post_message(self.Dragged(event.screen_x, event.screen_y))


class GlobBox(FilterBox):
    """The panel's glob line. Keys typed right after enter were queued for it while it still
    had focus: they go on to what has focus now (`f val/* enter F` follows newest)."""

    async def _on_key(self, event: events.Key) -> None:
        if self.display and event.key not in ("enter", "escape"):
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()
        if self.display:  # closed now, before the keys queued behind enter reach it
            self.close()
        else:
            self.app.post_message(events.Key(event.key, event.character))


class ChartPanel(Widget, can_focus=True):
    DEFAULT_CSS = """
    ChartPanel { height: 1fr; width: 1fr; }
    ChartPanel > #panel-title { height: 1; background: $boost; padding: 0 1; }
    ChartPanel > #panel-title:hover { background: $panel; }
    ChartPanel:focus > #panel-title { background: $primary 40%; }
    ChartPanel > #panel-grid { height: 1fr; grid-gutter: 0 1; }
    ChartPanel > FilterBox { margin: 0; }
    """
    BINDINGS = [
        Binding("pagedown,n", "page(1)", "next charts", show=False),
        Binding("pageup,p", "page(-1)", "previous charts", show=False),
        Binding("escape", "leave", "back to the table", show=False),
    ]

    def __init__(self, store: RunStore, layout: PanelLayout, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.settings = layout
        self.target: Target | None = None
        self.first: tuple[str, ...] = ()  # the table's metric columns: charted first
        self.page = Page((), 0, 1, 0)
        self.cache = SeriesCache()
        self._drawn: object = None
        self._drawn_at = 0.0
        self._token = 0
        self._shown_token = -1  # the request whose plots are on screen
        self._shape = (0, 0, -1)
        self._titled = ""
        self._later: Timer | None = None  # a data redraw LIVE_INTERVAL after the last
        self.looks = 0  # times it looked for something to draw (tests count them)
        self.draws = 0  # chart data updates shown (tests wait on it)

    def compose(self) -> ComposeResult:
        yield DragBar(id="panel-title")
        yield GlobBox("#runs", placeholder="charts: a glob (val/*) or words; enter keeps",
                        id="panel-glob")
        yield Grid(*[Chart(id=f"panel-chart-{i}") for i in range(MAX_PER_PAGE)], id="panel-grid")

    def on_mount(self) -> None:
        self.query_one(FilterBox).display = False
        self._unsubscribe = self.store.subscribe(self._runs_changed)

    def on_unmount(self) -> None:
        self._unsubscribe()

    def _runs_changed(self, views: Views) -> None:
        """New snapshots: look again if one is of a charted run (its data or its keys)."""
        target = self.target
        if target is not None and not views.keys().isdisjoint(target.paths):
            self._tick()

    # -- what to chart -----------------------------------------------------------------------
    def show(self, target: Target | None, first: tuple[str, ...]) -> None:
        """Chart `target`, the metrics in `first` before the rest; redraws now if it changed."""
        if target == self.target and first == self.first:
            return
        self.store.want(target.paths if target is not None else (), "panel")  # filled first
        if target != self.target:
            self.settings.page = 0
        self.target, self.first = target, first
        self._tick()

    def charts(self) -> list[Chart]:
        return [c for c in self.query_one("#panel-grid").query(Chart) if c.display]

    def _metrics(self) -> list[str]:
        if self.target is None:
            return []
        views = self.store.current(self.target.paths)
        return chart_metrics(views, self.first, self.settings.glob)

    def _tick(self) -> None:
        """Look at what to chart: lay out, title, and redraw if the target, the options or
        (at most every LIVE_INTERVAL) the data changed."""
        self.looks += 1
        if not self.display or not self.screen.is_current or self.size.height < 2:
            return
        grid = self.query_one("#panel-grid", Grid)
        cols, rows = grid_shape(grid.size.width or self.size.width,
                                grid.size.height or self.size.height - 1)
        page = page_of(self._metrics(), cols * rows, self.settings.page)
        self.settings.page = page.index
        self.page = page
        if (cols, rows, len(page.metrics)) != self._shape:
            self._shape = (cols, rows, len(page.metrics))
            self._lay_out(*self._shape)
        self._title()
        target = self.target
        if target is None or not page.metrics:
            return
        width = max(20, (grid.size.width or self.size.width) // max(1, min(cols, len(page.metrics))))
        opts = ChartOptions(page.metrics, group=target.group, columns=max(16, (width - 10) * 2))
        views = self.store.views
        versions = tuple(views[p].version if p in views else -1 for p in target.paths)
        drawn = self._drawn if isinstance(self._drawn, tuple) else (None, None, None)
        now = time.monotonic()
        # What to chart changed: now. Only data changed: at most every LIVE_INTERVAL, but at
        # once while no chart has a line (a cold open: the history was just read back).
        stale = versions != drawn[0] and (now - self._drawn_at >= LIVE_INTERVAL or not any(
            line.xs for chart in self.charts() if chart.plot for line in chart.plot.lines))
        if (target, opts) != drawn[1:] or stale:
            self._drawn = (versions, target, opts)
            self._drawn_at = now
            self._token += 1
            self._prepare(self._token, target, opts)
        elif versions != drawn[0] and self._later is None:  # new data, drawn too recently
            self._later = self.set_timer(self._drawn_at + LIVE_INTERVAL - now, self._redraw_later)

    def _redraw_later(self) -> None:
        self._later = None
        self._tick()

    def on_resize(self) -> None:
        self.refresh_soon()

    def refresh_soon(self) -> None:
        """Look again once the layout settled (the grid's size decides the pages)."""
        self.call_after_refresh(self._tick)

    def _lay_out(self, cols: int, rows: int, n: int) -> None:
        grid = self.query_one("#panel-grid", Grid)
        used_cols = max(1, min(cols, n))
        grid.styles.grid_size_columns = used_cols
        grid.styles.grid_size_rows = max(1, min(rows, -(-n // used_cols)))
        for i, chart in enumerate(grid.query(Chart)):
            chart.display = i < n

    def _title(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        target, page = self.target, self.page
        if target is None:
            text.append("charts: no run under the cursor", style="dim")
        else:
            text.append(one_line(target.title or "run under the cursor"), style="bold")
            if page.total:
                text.append(f"  {page.total} metric{'s' if page.total != 1 else ''}")
                if page.count > 1:
                    text.append(f", page {page.index + 1}/{page.count} ([ ] or tab, n p)")
            else:
                text.append("  no numeric metric logged yet" if not self.settings.glob
                            else "  no metric matches", style="dim")
        if self.settings.glob:
            text.append("  charts matching ", style="dim")
            text.append(safe_text(self.settings.glob), style="bold")
        if text.plain != self._titled:  # an update lays the screen out again: only on change
            self._titled = text.plain
            self.query_one("#panel-title", DragBar).update(text)

    # -- reading, off the UI thread --------------------------------------------------------
    @work(thread=True, exclusive=True, group="panel-charts")
    def _prepare(self, token: int, target: Target, opts: ChartOptions) -> None:
        def collect(runs: list[RunData]) -> tuple[dict[str, list[Points]], list[str]]:
            return self.cache.collect(runs, opts), [r.name for r in runs]

        collected, names = self.store.with_runs(target.paths, collect)
        plots = build_plots(collected, names, opts)
        self.app.call_from_thread(self._show_plots, token, plots)

    def _show_plots(self, token: int, plots: list[Plot]) -> None:
        if token != self._token:  # an older request finished after a newer one started
            return
        for chart, plot in zip(self.query_one("#panel-grid").query(Chart), plots):
            chart.plot = plot
        self.draws += 1
        self._shown_token = token

    def up_to_date(self) -> bool:
        """The charts on screen are of the target's runs as the store holds them now (a
        redraw of live data waits up to LIVE_INTERVAL; snapshot tests wait for this)."""
        target, drawn = self.target, self._drawn
        if target is None or not isinstance(drawn, tuple) or self._shown_token != self._token:
            return False
        views = self.store.views
        return drawn[0] == tuple(views[p].version if p in views else -1 for p in target.paths)

    # -- keys --------------------------------------------------------------------------------
    def action_page(self, delta: int) -> None:
        self.settings.page = max(0, min(self.page.count - 1, self.page.index + delta))
        self._tick()

    def action_leave(self) -> None:
        self.screen.focus_previous()

    def open_glob(self) -> None:
        self.query_one(FilterBox).open(self.settings.glob)

    @on(Input.Changed, "#panel-glob")
    def _glob_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.settings.glob = event.value.strip()
        self.settings.page = 0
        self._tick()

    @on(Input.Submitted, "#panel-glob")
    def _glob_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(FilterBox).close()

