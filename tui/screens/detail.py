"""DetailScreen: charts of one run (with the marked runs overlaid) or of a group, and the
run's metadata, config, summary, artifacts and files.

It gets the App's RunStore and Editor and the paths of the runs to show; history is read
in a worker thread through `store.with_runs` (decimated incrementally), and the charts
redraw on a 4 Hz timer, only when a run's version (in `store.views`) or an option changed.
What the keys do to the charts is in tui/screens/detail_actions.py (ChartActions).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widgets import Static, TabbedContent, TabPane

from logger import damage
from logger.rundata import RunData
from logger.textsafe import one_line

from ..model import smooth as sm
from ..model.plot import Plot
from ..model.run_info import RunInfo, members, run_info
from ..model.runview import RunView
from ..model.series import (
    X_NAMES,
    ChartOptions,
    Points,
    SeriesCache,
    build_plots,
    refine,
    x_axes,
)
from ..model.store import RunStore
from ..model.viewstate import apply_chart, chart_state
from ..widgets.chart import Chart
from ..widgets.info_text import files_text, members_text, overview_text, pairs_text
from ..widgets.keybar import KeyBar
from .detail_actions import MAX_CHARTS, ChartActions
from .edit import Editor
from .logs import LogsPanel, SystemPanel

REDRAW_INTERVAL = 0.25  # how often to look for changes
LIVE_INTERVAL = 1.0  # how often a live run's charts redraw


class DetailScreen(ChartActions):
    opts: reactive[ChartOptions] = reactive(ChartOptions(()), init=False, repaint=False)
    BINDINGS = [
        Binding("escape,backspace", "back", "back"),
        Binding("m", "metrics", "metrics"),
        Binding("plus,equals_sign", "smooth(1)", "smooth+"),
        Binding("minus", "smooth(-1)", "smooth-"),
        Binding("l", "log_y", "log y"),
        Binding("x", "x_axis", "x axis"),
        Binding("X", "pick_x_axis", "x axis: any metric", show=False),
        Binding("s", "smoother", "smoothing kind", show=False),
        Binding("z", "zoom(0.5)", "zoom in"),
        Binding("Z", "zoom(2)", "zoom out", show=False),
        Binding("left_square_bracket", "pan(-0.25)", "pan left", show=False),
        Binding("right_square_bracket", "pan(0.25)", "pan right", show=False),
        Binding("0", "reset_zoom", "reset zoom", show=False),
        Binding("c", "inspect", "inspect"),
        Binding("comma", "move_cursor(-0.02)", "cursor left", show=False),
        Binding("full_stop", "move_cursor(0.02)", "cursor right", show=False),
        Binding("h", "highlight(1)", "highlight next run", show=False),
        Binding("H", "highlight(-1)", "highlight previous run", show=False),
        Binding("p", "legend_page", "legend page", show=False),
        Binding("o", "outliers", "outliers: scale/ignore", show=False),
        Binding("b", "band", "std/min-max"),
        Binding("t", "tags", "tags"),
        Binding("n", "notes", "notes"),
        Binding("1", "tab('charts')", "charts"),
        Binding("2", "tab('run')", "run"),
        Binding("3", "tab('config')", "config"),
        Binding("4", "tab('summary')", "summary"),
        Binding("5", "tab('files')", "files"),
        Binding("6", "tab('logs')", "logs"),
        Binding("7", "tab('system')", "system"),
        Binding("8", "tab('media')", "media"),
        Binding("question_mark", "app.help", "help"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, store: RunStore, editor: Editor, paths: list[str], title: str,
                 group: bool = False) -> None:
        super().__init__()
        self.store = store
        self.editor = editor
        self.paths = paths
        self.title_text = title
        self.group = group
        self.cache = SeriesCache()
        logged = self._metric_keys()  # the table's metrics these runs logged: none of another project's
        keys = [k for k in store.metrics if k in logged] or logged
        self.set_reactive(DetailScreen.opts, ChartOptions(tuple(keys[:MAX_CHARTS]), group=group))
        self._drawn: object = None
        self.cursor: float | None = None  # inspect mode: a fraction of the x window
        self.legend_page = 0
        self._drawn_at = 0.0
        self._info_version: object = None
        self.draws = 0  # chart data updates shown (tests wait on it)

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with TabbedContent(id="detail-tabs"):
            with TabPane("Charts", id="charts"):
                yield Grid(*[Chart(id=f"chart-{i}") for i in range(MAX_CHARTS)], id="chart-grid")
            if self.group:
                with TabPane("Runs", id="run"):
                    yield VerticalScroll(Static(id="info-run"))
                with TabPane("System", id="system"):  # mean ±std of each system metric
                    yield SystemPanel(self.store, self.paths, group=True)
            else:
                with TabPane("Run", id="run"):
                    yield VerticalScroll(Static(id="info-run"))
                with TabPane("Config", id="config"):
                    yield VerticalScroll(Static(id="info-config"))
                with TabPane("Summary", id="summary"):
                    yield VerticalScroll(Static(id="info-summary"))
                with TabPane("Files", id="files"):
                    yield VerticalScroll(Static(id="info-files"))
                with TabPane("Logs", id="logs"):
                    yield LogsPanel(self.store, self.paths[0])
                with TabPane("System", id="system"):
                    yield SystemPanel(self.store, self.paths)  # marked runs: one line each
                with TabPane("Media", id="media"):  # logged images, tables, histograms, charts
                    from .media import MediaPanel
                    yield MediaPanel(self.store, self.paths[0])
        yield KeyBar()

    def on_mount(self) -> None:
        memory = getattr(self.app, "view_memory", None)  # chart settings of the last session
        if memory is not None:
            self.opts = apply_chart(self.opts, memory.state.chart, self._metric_keys(), MAX_CHARTS)
        self._layout_charts()
        self._title()
        self.set_interval(REDRAW_INTERVAL, self._tick)
        self.call_after_refresh(self._tick)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "band":
            return self.group
        if action in ("tab",) and self.group and parameters and parameters[0] not in (
                "charts", "run", "system"):
            return False
        return True

    # -- layout ------------------------------------------------------------------------------
    def _layout_charts(self) -> None:
        n = max(1, len(self.opts.metrics))
        grid = self.query_one("#chart-grid", Grid)
        grid.styles.grid_size_columns = 1 if n == 1 else 2
        grid.styles.grid_size_rows = 1 if n <= 2 else 2
        if n == 2 and self.size.width < 100:
            grid.styles.grid_size_columns, grid.styles.grid_size_rows = 1, 2
        for i, chart in enumerate(self.query_one("#chart-grid").query(Chart)):
            chart.display = i < n

    def _title(self) -> None:
        text = Text()
        text.append(one_line(self.title_text), style="bold")
        others = len(self.paths) - 1
        if others > 0 and not self.group:
            text.append(f"  + {others} marked run{'s' if others != 1 else ''} overlaid")
        o = self.opts
        smoothing = sm.label(o.smoother, o.smoothing) if o.smoothing > 0 else "no smoothing"
        text.append(f"   x: {X_NAMES.get(o.x_axis, one_line(o.x_axis, 32))} · {smoothing} · "
                    f"{'log' if o.log_y else 'linear'} y")
        if not o.view.whole:
            text.append(f" · zoom {1 / (o.view.hi - o.view.lo):.3g}x")
        if self.cursor is not None:
            text.append(" · inspect (c ends)")
        if self.group:
            text.append(f" · band {'min-max' if o.band == 'minmax' else '±std'}")
        self.query_one("#detail-title", Static).update(text)

    # -- redraw ------------------------------------------------------------------------------
    def _versions(self) -> tuple[int, ...]:
        views = self.store.views
        return tuple(views[p].version if p in views else -1 for p in self.paths)

    def _tick(self) -> None:
        versions = self._versions()
        tabs = self.query_one("#detail-tabs", TabbedContent)
        if tabs.active == "charts":
            charts = [c for c in self.query_one("#chart-grid").query(Chart) if c.display]
            width = charts[0].size.width if charts else 80
            opts = ChartOptions(**{**self.opts.__dict__, "columns": max(16, (width - 10) * 2)})
            drawn = self._drawn if isinstance(self._drawn, tuple) else (None, None)
            now = time.monotonic()
            # An option changed: redraw now. Only data changed: at most once a second, since
            # plotext costs ~10 ms a chart and a live run would otherwise redraw 4x a second.
            if opts != drawn[1] or (versions != drawn[0] and now - self._drawn_at >= LIVE_INTERVAL):
                self._drawn = (versions, opts)
                self._drawn_at = now
                self._prepare(opts)
        elif versions != self._info_version:
            self._info_version = versions
            self._load_info()

    @work(thread=True, exclusive=True, group="chart-data")
    def _prepare(self, opts: ChartOptions) -> None:
        def collect(runs: list[RunData],
                    ) -> tuple[dict[str, list[Points]], list[str], dict[str, str]]:
            axes = x_axes(runs, opts)
            got = self.cache.collect(runs, opts, axes)
            refine(runs, got, opts, axes)  # zoomed past the decimation: full resolution
            return got, [r.name for r in runs], axes

        collected, names, axes = self.store.with_runs(self.paths, collect)
        plots = build_plots(collected, names, opts, axes)
        self._deliver(self._show, plots)

    def _deliver(self, show: Callable[..., None], *args: Any) -> None:
        """A worker's result, shown on the UI thread; dropped if the screen closed while the
        worker ran (its widgets are gone: a query would raise NoMatches into the app)."""
        def apply() -> None:
            with contextlib.suppress(NoMatches):
                show(*args)

        self.app.call_from_thread(apply)

    def _show(self, plots: list[Plot]) -> None:
        for chart, plot in zip(self.query_one("#chart-grid").query(Chart), plots):
            chart.plot = plot
        self._chart_state()
        self.draws += 1

    def _charts(self) -> list[Chart]:
        return list(self.query_one("#chart-grid").query(Chart))

    def _chart_state(self) -> None:
        """What every chart shares that needs no new data: the legend page, the cursor."""
        for chart in self._charts():
            chart.legend_page = self.legend_page
            chart.cursor = self.cursor

    @work(thread=True, exclusive=True, group="info")
    def _load_info(self) -> None:
        if self.group:
            lines = self.store.with_runs(self.paths, members)
            if lines:
                self._deliver(self._show_members, lines)
            return
        # Damage before the snapshots the run was listed from, counted as tail counts it: the
        # files read outside the store's lock (logger/damage.py), the counts added under it.
        todo = self.store.with_runs(self.paths[:1], lambda runs: [damage.uncounted(r.segments.values()) for r in runs])
        found = damage.counted(todo[0]) if todo else []
        self.store.credit_damage(found)  # and marked for the index cache: scanned once
        infos = self.store.with_runs(self.paths[:1], lambda runs: [run_info(r) for r in runs])
        if infos:
            self._deliver(self._show_info, infos[0])

    def _show_members(self, lines: tuple[str, ...]) -> None:
        self.query_one("#info-run", Static).update(members_text(lines))

    def _show_info(self, info: RunInfo) -> None:
        self.query_one("#info-run", Static).update(overview_text(info))
        self.query_one("#info-config", Static).update(pairs_text(info.config, "no config"))
        self.query_one("#info-summary", Static).update(pairs_text(info.summary, "no summary yet"))
        self.query_one("#info-files", Static).update(files_text(info))

    @on(TabbedContent.TabActivated, "#detail-tabs")
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """An info tab takes the keys at once: ↑↓ and the page keys scroll it, no Tab first."""
        scrolls = event.pane.query_children(VerticalScroll)
        if scrolls:
            scrolls.first().focus()

    def _set(self, **changes: object) -> None:
        self.opts = ChartOptions(**{**self.opts.__dict__, **changes})

    def watch_opts(self) -> None:
        """The chart options changed: say so in the title, lay out and redraw."""
        if (memory := getattr(self.app, "view_memory", None)) is not None:
            memory.update(chart=chart_state(self.opts))  # remembered for the next session
        self._title()
        self._layout_charts()
        self._tick()

    # -- actions -----------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_tab(self, tab: str) -> None:
        self.query_one("#detail-tabs", TabbedContent).active = tab
        self._info_version = None
        self._drawn = None
        self._tick()

    def _views(self) -> list[RunView]:
        return self.store.current(self.paths)

    def _metric_keys(self) -> list[str]:
        return sorted({k for v in self._views() for k in v.numeric_keys})

    def action_tags(self) -> None:
        self.editor.edit_tags(self._views())

    def action_notes(self) -> None:
        self.editor.edit_notes(self._views())
