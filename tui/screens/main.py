"""MainScreen: the live run table with filter, sort, grouping, marks and in-place edits."""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Static

from logger.query import FilterError
from logger.textsafe import one_line, safe_text

from ..messages import FeedStopped, RunsChanged
from ..model.feed import Feed
from ..model.runview import RunView
from ..model.table_model import ALL_BUT_SEED, Row, TableModel
from ..widgets.keybar import KeyBar
from ..widgets.run_table import RunTable
from .edit import EditActions
from .pick import PickScreen

MIN_INTERVAL = 0.1  # seconds between table updates: coalesces bursts, keeps p95 latency low
DEFAULT_METRICS = 3
_PREFERRED = ("loss", "acc", "reward", "score", "f1", "error", "perplexity")


def default_metrics(keys_by_count: dict[str, int]) -> tuple[str, ...]:
    """The metric columns to start with: common keys, losses and accuracies first."""
    def rank(key: str) -> tuple[int, int, str]:
        hits = [i for i, p in enumerate(_PREFERRED) if p in key.lower()]
        return (hits[0] if hits else len(_PREFERRED), -keys_by_count[key], key)

    keys = [k for k in keys_by_count if not k.startswith("_")]
    return tuple(sorted(keys, key=rank)[:DEFAULT_METRICS])


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


class MainScreen(EditActions, Screen[None]):
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
        Binding("question_mark", "app.help", "help"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, root: Path, force_polling: bool | None = None) -> None:
        super().__init__()
        self.root = root
        self.model = TableModel()
        # Read through the absolute path: watchfiles reports absolute paths, which the reader
        # matches against its root. The status line shows the root as the user gave it.
        self.feed = Feed(root.expanduser().absolute(), force_polling, lambda: None)
        self._last_apply = 0.0
        self._apply_cost = 0.0
        self._status = ""
        self._stale = False
        self._timer: Timer | None = None
        self._auto_metrics = True
        self._seen_keys: set[str] = set()
        self.applied = 0  # table updates so far (tests wait on it)

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        yield Input(placeholder="filter: words, lr<=1e-3, state:running, tag:x (enter keeps, "
                    "escape closes)", id="filter")
        yield RunTable(self.model, id="runs")
        yield Static(Text(empty_message(self.root)), id="empty")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one(RunTable).display = False
        self._update_status()
        # The reading thread's news goes to the App, which hands it to runs_changed(): a
        # message to this screen while it is hidden would make Textual repaint the top screen.
        app = self.app
        self.feed.notify = lambda: app.post_message(RunsChanged())
        self.run_worker(self._read, thread=True, name="feed", group="feed")
        self._ticker = self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        self.feed.stop.set()

    def _read(self) -> None:
        try:
            self.feed.run()
        except Exception as exc:  # noqa: BLE001 - shown on screen, not a traceback
            self.post_message(FeedStopped(f"{type(exc).__name__}: {exc}"))

    # -- live updates ------------------------------------------------------------------------
    def runs_changed(self) -> None:
        """New snapshots wait in the feed (called by the App for each folded RunsChanged)."""
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

    def on_feed_stopped(self, message: FeedStopped) -> None:
        self.notify(safe_text(message.error), title="reading stopped", severity="error",
                    markup=False, timeout=30)

    def _take(self) -> None:
        views = self.feed.take()
        if views:
            self.model.update(views)
            if self._auto_metrics:
                new_keys = {k for v in views.values() for k in v.numeric_keys} - self._seen_keys
                if new_keys:  # until the user picks, the default follows the keys that appear
                    self._seen_keys |= new_keys
                    self._pick_default_metrics()

    def _apply(self) -> None:
        self._timer = None
        start = self._last_apply = time.monotonic()
        self._take()
        self.refresh_table()
        self.applied += 1
        self._apply_cost = time.monotonic() - start

    def _pick_default_metrics(self) -> None:
        counts: dict[str, int] = {}
        for view in self.model.views.values():
            for key in view.numeric_keys:
                counts[key] = counts.get(key, 0) + 1
        metrics = default_metrics(counts)
        if metrics and metrics != self.model.metrics:
            self._set_metrics(metrics)

    def _set_metrics(self, metrics: tuple[str, ...]) -> None:
        self.model.metrics = metrics
        self._resnapshot(metrics)

    @work(thread=True, exclusive=True, group="resnapshot")
    def _resnapshot(self, metrics: tuple[str, ...]) -> None:
        self.feed.set_metrics(metrics)

    def on_screen_suspend(self) -> None:
        self._ticker.pause()

    def on_screen_resume(self) -> None:
        self._ticker.resume()
        if self._stale:
            self._apply()

    def refresh_table(self) -> None:
        if not self._visible():
            # Under another screen: Textual repaints the top screen whole for any dirty region
            # of a background one (a live run under its charts: 25 full repaints a second).
            self._stale = True
            return
        self._stale = False
        self.model.rebuild()
        table = self.query_one(RunTable)
        has_runs = bool(self.model.views)
        if table.display != has_runs:  # setting display at all costs a full layout
            table.display = has_runs
            self.query_one("#empty").display = not has_runs
        table.refresh_rows()
        if has_runs and self.focused is None:
            table.focus()
        self._update_status()

    def _visible(self) -> bool:
        """Shown: on top, or under a see-through modal (not under the detail screen)."""
        top = self.app.screen
        return top is self or (self.is_current and top.styles.background.a < 1)

    def _tick(self) -> None:
        if not self._visible():
            return
        if not self.feed.loaded:
            self._update_status()
        self.query_one(RunTable).refresh_time_cells()

    def _update_status(self) -> None:
        m = self.model
        running = sum(1 for v in m.views.values() if v.state == "running")
        text = Text()
        text.append("runwatch ", style="bold")
        text.append(safe_text(str(self.root)))
        text.append(f"  {len(m.visible_runs)}/{len(m.views)} runs, {running} running")
        if m.filter_text:
            text.append("  filter: ", style="bold")
            text.append(safe_text(m.filter_text))
        if m.group_keys:
            keys = "all but seed" if m.group_keys == ALL_BUT_SEED else ",".join(m.group_keys)
            text.append("  group: ", style="bold")
            text.append(safe_text(keys))
        if m.marked:
            text.append(f"  {len(m.marked)} marked", style="bold")
        if self.feed.follower.polling:
            text.append("  (polling)")
        if not self.feed.loaded and self.feed.total_bytes:
            pct = 100 * self.feed.loaded_bytes / self.feed.total_bytes
            text.append(f"  loading histories {pct:.0f}%")
        if text.plain != self._status:  # Static.update re-lays out the screen: only on change
            self._status = text.plain
            self.query_one("#status", Static).update(text)

    # -- the cursor --------------------------------------------------------------------------
    def current_row(self) -> Row | None:
        return self.query_one(RunTable).current

    def targets(self) -> list[RunView]:
        """Marked runs, else the run (or the group's runs) under the cursor."""
        if self.model.marked:
            return [self.model.views[p] for p in sorted(self.model.marked) if p in self.model.views]
        row = self.current_row()
        if row is None:
            return []
        if row.kind == "group" and row.group is not None:
            return list(row.group.runs)
        return [row.run] if row.run is not None else []

    @on(RunTable.HeaderClicked)
    def _header_clicked(self, event: RunTable.HeaderClicked) -> None:
        if self.model.sort_key == event.column:
            self.model.sort_reverse = not self.model.sort_reverse
        else:
            self.model.sort_key = event.column
            self.model.sort_reverse = event.column in ("step", "runtime", "updated")
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
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.model.filter_text
        # Focus now, not after the keys already queued: "/big" typed fast must all land here.
        self.set_focus(box)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            self.model.set_filter(event.value)
        except FilterError as exc:
            event.input.border_subtitle = safe_text(str(exc))
            return
        event.input.border_subtitle = ""
        self.refresh_table()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._close_filter()

    def _close_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = False
        self.set_focus(self.query_one(RunTable))

    def on_key(self, event: events.Key) -> None:
        """Keys typed right after "/" were queued for the table before the box took focus
        (Textual routes a key to the widget focused when it arrived): they go in the box."""
        box = self.query_one("#filter", Input)
        if event.key == "slash" and not box.display:
            self.action_filter()
        elif not (box.display and self.focused is box):
            return
        elif event.key == "escape":
            self._close_filter()
        elif event.key == "enter":
            self._close_filter()
        elif event.is_printable and event.character:
            box.insert_text_at_cursor(event.character)
        else:
            return
        event.stop()
        event.prevent_default()

    # -- sort, group, metrics ----------------------------------------------------------------
    def action_sort(self) -> None:
        def done(picked: list[str] | None) -> None:
            if picked:
                self.model.sort_key = picked[0]
                self.model.sort_reverse = picked[0] in ("created", "step", "runtime", "updated")
                self.refresh_table()

        self.app.push_screen(PickScreen("Sort by", self.model.sort_options(),
                                        [self.model.sort_key]), done)

    def action_reverse(self) -> None:
        self.model.sort_reverse = not self.model.sort_reverse
        self.refresh_table()

    def action_group(self) -> None:
        options = [("*", "all keys except seed (collapse repeats)")]
        options += [(k, k) for k in self.model.all_config_keys()]
        current = list(self.model.group_keys)

        def done(picked: list[str] | None) -> None:
            if picked is None:
                return
            self.model.group_keys = ALL_BUT_SEED if "*" in picked else tuple(picked)
            self.model.collapsed.clear()
            self.refresh_table()

        self.app.push_screen(PickScreen("Group by config keys (none: no grouping)", options,
                                        current, multi=True), done)

    def action_fold(self) -> None:
        row = self.current_row()
        if row is None or row.kind != "group":
            return
        self.model.collapsed.symmetric_difference_update({row.key})
        self.refresh_table()

    def action_metrics(self) -> None:
        options = [(k, k) for k in self.model.all_metric_keys()]

        def done(picked: list[str] | None) -> None:
            if picked is not None:
                self._auto_metrics = False
                self._set_metrics(tuple(picked))
                self.refresh_table()

        self.app.push_screen(PickScreen("Metric columns", options, list(self.model.metrics),
                                        multi=True), done)

    # -- marks -------------------------------------------------------------------------------
    def action_mark(self) -> None:
        row = self.current_row()
        if row is None:
            return
        paths = {v.path for v in row.group.runs} if row.group else {row.key}
        if paths <= self.model.marked:
            self.model.marked -= paths
        else:
            self.model.marked |= paths
        table = self.query_one(RunTable)
        table.refresh()
        table.action_cursor(1)
        self._update_status()

    def action_mark_all(self) -> None:
        self.model.marked |= {v.path for v in self.model.visible_runs}
        self.query_one(RunTable).refresh()
        self._update_status()

    def action_unmark(self) -> None:
        self.model.marked.clear()
        self.query_one(RunTable).refresh()
        self._update_status()

    # -- open --------------------------------------------------------------------------------
    def action_open(self) -> None:
        from .detail import DetailScreen

        row = self.current_row()
        if row is None:
            return
        if row.kind == "group" and row.group is not None:
            runs = [v.path for v in row.group.runs]
            title = f"group {row.group.label} ({len(runs)} runs)"
            self.app.push_screen(DetailScreen(self, runs, title, group=True))
            return
        paths = [row.key] + sorted(p for p in self.model.marked if p != row.key)
        self.app.push_screen(DetailScreen(self, paths, one_line(row.run.name if row.run else "")))

    def action_importance(self) -> None:
        from .importance import ImportanceScreen

        self.app.push_screen(ImportanceScreen(self))
