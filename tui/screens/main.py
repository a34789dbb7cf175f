"""MainScreen: the live run table with filter, sort, grouping, marks and in-place edits.

It owns the table's state (a TableModel, which also holds sort, groups and marks) and binds
it down to the RunTable; runs come from the App's RunStore (subscribed while mounted), edits
go through the App's Editor, the filter line is a FilterBox, and the metric columns follow
the keys runs log (MetricChoice) until the user picks.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Input, Static

from logger.query import FilterError

from ..model.console_tail import CONSOLE_COLUMNS
from ..model.metric_choice import MetricChoice, default_metrics
from ..model.store import RunStore, Views
from ..model.system_plots import GPU_COLUMN, GPU_LABEL
from ..model.table_model import ALL_BUT_SEED, SWEEP, Row, TableModel
from ..model.workspace import key_counts, newest_row
from ..widgets.filter_box import FilterBox
from ..widgets.keybar import KeyBar
from ..widgets.run_table import RunTable
from ..widgets.status_line import StatusLine
from ..widgets.workspace import Workspace
from .edit import Editor
from .main_actions import MainActions
from .main_clock import TextClock
from .pick import PickScreen

MIN_INTERVAL = 0.1  # seconds between table updates: coalesces bursts, keeps p95 latency low


def empty_message(root: Path) -> str:
    where = f"{root} does not exist yet" if not root.exists() else f"No runs under {root} yet"
    return (
        f"{where}; watching it, runs will appear here as they start.\n\n"
        "Log a first run:\n\n"
        "    import logger\n"
        f"    run = logger.init(project=\"demo\", dir=\"{root}\", config={{\"lr\": 1e-3}})\n"
        "    for step in range(100):\n"
        "        run.log({\"loss\": 1 / (step + 1)})\n"
        "    run.finish()\n\n"
        "or try `runwatch demo` for a simulated sweep."
    )


class MainScreen(MainActions):
    AUTO_FOCUS = "#runs"
    BINDINGS = [
        Binding("enter", "open", "chart"),
        Binding("slash", "filter", "filter"),
        Binding("s", "sort", "sort"),
        Binding("S", "reverse", "reverse"),
        Binding("g", "group", "group"),
        Binding("o", "fold", "fold group"),
        Binding("space", "mark", "mark"),
        Binding("a", "mark_all", "mark all"),
        Binding("u", "unmark", "unmark"),
        Binding("m", "metrics", "metrics"),
        Binding("t", "tags", "tags"),
        Binding("n", "notes", "notes"),
        Binding("i", "importance", "importance"),
        Binding("w", "sweeps", "sweeps"),
        # In help (?) and the palette (ctrl+p), not the key bar: it wraps at 80 columns already.
        Binding("C", "compare", "compare marked runs", show=False),
        Binding("B", "baseline", "pin baseline", show=False),
        Binding("y", "yank('id')", "yank run id", show=False),
        Binding("Y", "yank('path')", "yank run path", show=False),
        Binding("X", "stop", "stop run (sigterm)", show=False),
        Binding("F", "follow", "follow newest"),
        Binding("question_mark", "app.help", "help"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, store: RunStore, editor: Editor) -> None:
        super().__init__()
        self.store = store
        self.editor = editor
        self.model = TableModel()
        self.metric_choice = MetricChoice()
        self._last_apply = 0.0
        self._apply_cost = 0.0
        self._stale = False
        self._timer: Timer | None = None
        self._clock = TextClock(self, self._tick)  # ages, runtimes, stalls: see main_clock.py
        self._pending: Views = {}  # snapshots not in the model yet
        self.applied = 0  # table updates so far (tests wait on it)
        self._cursor_moved = False  # by the user, since the screen opened
        self._follow_from = 0  # the table's move count when following began

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield FilterBox("#runs", check=self.model.filter_problem, applied=lambda: self.model.filter_text,
                        placeholder="filter: words, lr<=1e-3, state:running, tag:x "
                        "(enter keeps, escape closes)", id="filter")
        yield Workspace(self.model, self.store, id="workspace")
        yield Static(Text(empty_message(self.store.root)), id="empty")
        yield KeyBar()

    def on_mount(self) -> None:
        self.restore_view()  # the view this root had last time (tui/model/viewstate.py)
        self.query_one(FilterBox).display = False
        self.query_one(Workspace).display = False
        self._unsubscribe = self.store.subscribe(self._runs_changed)
        self._schedule_tick()
        if self.store.views:  # what was read before this screen opened
            self._runs_changed(dict(self.store.views))

    def on_unmount(self) -> None:
        self._unsubscribe()

    # -- live updates ------------------------------------------------------------------------
    def _runs_changed(self, views: Views) -> None:
        """New snapshots in the store: into the model and onto the screen at a bounded rate."""
        self._pending.update(views)
        if not self._visible():
            self._take()  # keep the model current for the screen on top; draw on return
            self._stale = True
            return
        # At most one update per MIN_INTERVAL, and at most a quarter of the time: a 10k-run
        # table takes ~50 ms to re-sort, and the reading thread needs the GIL meanwhile.
        interval = max(MIN_INTERVAL, 4 * self._apply_cost)
        wait = self._last_apply + interval - time.monotonic()
        if wait > 0:
            if self._timer is None:
                self._timer = self.app.set_timer(wait, self._apply)
            return
        self._apply()

    def _take(self) -> None:
        views, self._pending = self._pending, {}
        if views:
            self.model.update(views)
            # Counted over the runs the filter shows: their metrics, not another project's.
            shown = (v for v in self.model.views.values() if self.model.matches(v))
            metrics = self.metric_choice.follow(views.values(), shown, self.model.metrics)
            if metrics is not None:
                self._set_metrics(metrics)

    def _apply(self) -> None:
        self._timer = None
        start = self._last_apply = time.monotonic()
        self._take()
        self.refresh_table()
        self.applied += 1
        self._apply_cost = time.monotonic() - start

    def _set_metrics(self, metrics: tuple[str, ...]) -> None:
        self.model.metrics = self.store.metrics = metrics
        self._snapshot_metrics(metrics)

    @work(thread=True, exclusive=True, group="resnapshot")
    def _snapshot_metrics(self, metrics: tuple[str, ...]) -> None:
        self.store.snapshot_metrics(metrics)

    def on_screen_suspend(self) -> None:
        self._clock.stop()

    def on_screen_resume(self) -> None:
        self._schedule_tick()
        if self._stale:
            self._apply()
        # The chart panel looks only when its runs change, and not while covered: look now.
        self.query_one(Workspace).panel.refresh_soon()

    def refresh_table(self) -> None:
        self.remember_view()  # saved only when sort, grouping, filter or columns changed
        if not self._visible():
            # Under another screen: Textual repaints the top screen whole for any dirty region
            # of a background one (a live run under its charts: 25 full repaints a second).
            self._stale = True
            return
        table, workspace = self.one(RunTable), self.one(Workspace)
        if table is None or workspace is None:  # the screen is closing (a timer set before)
            return
        self._stale = False
        self.model.rebuild()
        has_runs = bool(self.model.views)
        if workspace.display != has_runs:  # setting display at all costs a full layout
            workspace.display = has_runs
            for empty in self.query("#empty"):  # none while the screen is torn down
                empty.display = not has_runs
        table.refresh_rows()
        self._place_cursor(table)
        self._want_shown(table)
        if has_runs and self.focused is None:
            table.focus()
        workspace.update_charts()
        self._update_status()
        self._schedule_tick()

    def _want_shown(self, table: RunTable) -> None:
        top = int(table.scroll_y)  # the rows on screen: their sparklines filled in first
        self.store.want(r.key for r in self.model.rows[top : top + table.size.height] if r.run)

    @on(RunTable.Scrolled)
    def _table_scrolled(self) -> None:
        """Other rows in view (the wheel moves no cursor): their histories first, their ages."""
        table = self.one(RunTable)
        if table is not None:
            self._want_shown(table)
            self._schedule_tick()

    def _place_cursor(self, table: RunTable) -> None:
        """Follow newest: on the newest run. Else the same run stays under the cursor (the
        table keeps it), and the top row until the user moves, while the root loads."""
        if self.model.follow_newest:
            index = newest_row(self.model.rows)
            if index is not None:
                table.move_to(index, user=False)
        elif not self._cursor_moved and not self.store.loaded:
            table.move_to(0, user=False)

    def _visible(self) -> bool:
        """Shown: on top, or under a see-through modal (not under the detail screen)."""
        try:
            top = self.app.screen
        except ScreenStackError:  # the app is closing: snapshots or timers still arrive
            return False
        return top is self or (self.is_current and top.styles.background.a < 1)

    def _tick(self) -> None:
        if not self._visible():
            return
        table = self.one(RunTable)
        if table is None:
            return
        if not self.store.loaded:
            self._update_status()
        table.refresh_time_cells()
        self._schedule_tick()

    def _schedule_tick(self) -> None:
        """The clock set for the next moment a text on screen changes by time alone."""
        table = self.one(RunTable)
        if table is None or not self._visible():
            self._clock.stop()  # resuming sets it again
            return
        self._clock.set(table.next_change(), loading=not self.store.loaded)

    def _update_status(self) -> None:
        status = self.one(StatusLine)
        if status is not None:
            status.show(self.model, self.store, self.baseline)

    # -- the cursor --------------------------------------------------------------------------
    def current_row(self) -> Row | None:
        return self.query_one(RunTable).current

    @on(RunTable.CursorMoved)
    def _cursor_by_user(self, event: RunTable.CursorMoved) -> None:
        if event.user:
            self._cursor_moved = True
            # Moving away ends it, as scrolling up ends a tail (not a move typed before F).
            if self.model.follow_newest and event.seq > self._follow_from:
                self.action_follow()

    def action_follow(self) -> None:
        self.model.follow_newest = not self.model.follow_newest
        self._update_status()
        if self.model.follow_newest:
            table = self.query_one(RunTable)
            self._place_cursor(table)
            self._follow_from = table.moves

    @on(RunTable.HeaderClicked)
    def _header_clicked(self, event: RunTable.HeaderClicked) -> None:
        self.model.sort_or_reverse(event.column)
        self.refresh_table()

    @on(RunTable.RowClicked)
    def _row_clicked(self, event: RunTable.RowClicked) -> None:
        row = self.current_row()
        if row is not None and row.kind == "group" and not event.double:
            self.action_fold()
        elif event.double:
            self.action_open()

    # -- filter ------------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.query_one(FilterBox).open(self.model.filter_text)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        box = self.query_one(FilterBox)
        try:
            self.model.set_filter(event.value)
        except FilterError as exc:
            box.say(str(exc), event.value)
            return
        box.say("", event.value)
        if self.metric_choice.auto:  # the metric columns follow the runs the filter shows
            metrics = default_metrics(key_counts(v for v in self.model.views.values()
                                                 if self.model.matches(v)))
            if metrics and metrics != self.model.metrics:
                self._set_metrics(metrics)
        self.refresh_table()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.query_one(FilterBox).submit()

    def on_key(self, event: events.Key) -> None:
        box = self.query_one(FilterBox)
        if event.key == "slash" and not box.display:
            self.action_filter()
        elif not box.take_key(event):
            return
        event.stop()
        event.prevent_default()

    # -- sort, group, metrics ----------------------------------------------------------------
    def action_sort(self) -> None:
        options = self.model.sort_options()
        by_value = {str(key): key for key, _label in options}

        def done(picked: list[str] | None) -> None:
            if picked:
                self.model.sort_by(by_value[picked[0]])
                self.refresh_table()

        self.app.push_screen(PickScreen("Sort by", [(str(k), label) for k, label in options],
                                        [str(self.model.sort_key)]), done)

    def action_reverse(self) -> None:
        self.model.sort_reverse = not self.model.sort_reverse
        self.refresh_table()

    def action_group(self) -> None:
        options = [("*", "all keys except seed (collapse repeats)"), (SWEEP, "sweep (each sweep's trials)")]
        options += [(k, k) for k in self.model.all_config_keys()]
        current = list(self.model.group_keys)

        def done(picked: list[str] | None) -> None:
            if picked is None:
                return
            self.model.group_keys = ALL_BUT_SEED if "*" in picked else tuple(picked)
            self.model.collapsed.clear()
            self.refresh_table()

        self.app.push_screen(PickScreen("Group by sweep or config keys (none: no grouping)", options,
                                        current, multi=True), done)

    def action_fold(self) -> None:
        self.fold_at_cursor()  # on a group row or on one of its runs

    def action_metrics(self) -> None:
        options = [(k, k) for k in self.store.metric_keys()] + [(GPU_COLUMN, GPU_LABEL)]
        options += [(key, label) for key, (_field, _head, label) in CONSOLE_COLUMNS.items()]

        def done(picked: list[str] | None) -> None:
            if picked is not None:
                self.metric_choice.picked()
                self._set_metrics(tuple(picked))
                self.refresh_table()

        self.app.push_screen(PickScreen("Metric columns", options, list(self.model.metrics),
                                        multi=True), done)

    # -- marks and edits ---------------------------------------------------------------------
    def action_mark(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self.model.toggle_mark(row)
        table = self.query_one(RunTable)
        table.refresh()
        table.action_cursor(1)
        self._marks_changed()

    def action_mark_all(self) -> None:
        self.model.mark_visible()
        self.query_one(RunTable).refresh()
        self._marks_changed()

    def action_unmark(self) -> None:
        self.model.marked.clear()
        self.query_one(RunTable).refresh()
        self._marks_changed()

    def _marks_changed(self) -> None:
        self._update_status()
        self.query_one(Workspace).update_charts()  # the marked runs are charted, not the row

    def action_tags(self) -> None:
        self.editor.edit_tags(self.model.targets(self.current_row()))

    def action_notes(self) -> None:
        self.editor.edit_notes(self.model.targets(self.current_row()))
