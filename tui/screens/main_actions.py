"""MainActions: what the run table offers beyond the table (MainScreen derives from it):
a pinned baseline and the compare screen, yanking ids and paths, stopping a run of this
host, jumping to a run from the palette, the view remembered between sessions, and opening
the other screens (charts, importance, sweeps).

Kept apart from tui/screens/main.py so that the main screen stays the table's own; the keys
are bound there (BINDINGS), the actions live here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from textual import work
from textual.screen import Screen
from textual.widget import Widget

from logger.query import FilterError
from logger.textsafe import one_line, safe_text

from ..model.columns import CREATED, ColumnKey
from ..model.metric_choice import MetricChoice
from ..model.runview import RunView
from ..model.store import RunStore
from ..model.table_model import Row, TableModel
from ..model.workspace import PanelLayout, apply_layout, layout_state
from ..model.writers import Writer, live_writers, refusal, terminate
from .confirm import ConfirmScreen
from .edit import Editor

YANK_SHOWN = 120  # characters of what was copied shown in the notification
W = TypeVar("W", bound=Widget)


class MainActions(Screen[None]):
    """The MainScreen's tools; it provides the attributes annotated here."""

    model: TableModel
    store: RunStore
    editor: Editor
    metric_choice: MetricChoice
    baseline: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._found: dict[type[Widget], Widget] = {}  # see one()

    def current_row(self) -> Row | None:
        raise NotImplementedError

    def refresh_table(self) -> None:
        raise NotImplementedError

    def _set_metrics(self, metrics: tuple[str, ...]) -> None:
        raise NotImplementedError

    def _update_status(self) -> None:
        raise NotImplementedError

    def _table(self) -> Any:
        from ..widgets.run_table import RunTable

        return self.query_one(RunTable)

    def one(self, cls: type[W]) -> W | None:
        """The screen's one `cls` widget, found once: a query walks every widget of the
        screen (~0.5 ms; a table update made five). None once it is gone (closing)."""
        found = self._found
        widget = found.get(cls)
        if widget is None or not widget.is_attached:
            query = self.query(cls)
            if not query:
                return None
            widget = found[cls] = query.first()
        return widget  # type: ignore[return-value]

    # -- baseline and compare ----------------------------------------------------------------
    def action_baseline(self) -> None:
        """Pin the run under the cursor as the baseline (again: unpin)."""
        row = self.current_row()
        if row is None or row.run is None:
            self.notify("put the cursor on a run to pin it as the baseline")
            return
        if self.baseline == row.key:
            self.baseline = None
            self.notify(f"baseline {one_line(row.run.name)} unpinned", markup=False)
        else:
            self.baseline = row.key
            self.notify(f"baseline: {one_line(row.run.name)} (C compares the marked runs "
                        "against it)", markup=False)
        self.remember_view()
        self._update_status()  # the status line names the baseline

    def compared_paths(self) -> list[str]:
        """The marked runs (else the row's run or group's runs), with the baseline first."""
        paths = [v.path for v in self.model.targets(self.current_row())]
        if self.baseline in self.store.views:
            paths = [self.baseline] + [p for p in paths if p != self.baseline]
        return paths

    def action_compare(self) -> None:
        from .compare import CompareScreen

        paths = self.compared_paths()
        if len(paths) < 2:
            self.notify("mark two or more runs (space), or pin a baseline (B) and put the "
                        "cursor on another run, then C compares them")
            return
        self.app.push_screen(CompareScreen(self.store, paths, self.baseline))

    # -- yank --------------------------------------------------------------------------------
    def action_yank(self, what: str) -> None:
        """Copy the ids (or directories) of the marked runs, else of the row's run or group,
        to the clipboard (OSC 52) and show them: not every terminal lets an app copy."""
        views = self.model.targets(self.current_row())
        if not views:
            return
        text = " ".join(v.id if what == "id" else str(v.dir) for v in views)
        self.app.copy_to_clipboard(text)
        shown = safe_text(text if len(text) <= YANK_SHOWN else text[:YANK_SHOWN] + "…")
        label = "id" if what == "id" else "path"
        self.notify(shown, title=f"copied {len(views)} run {label}{'s' if len(views) > 1 else ''}"
                    " (where the terminal allows OSC 52)", markup=False, timeout=8)

    # -- stop --------------------------------------------------------------------------------
    def action_stop(self) -> None:
        row = self.current_row()
        if row is None or row.run is None:
            self.notify("put the cursor on a running run to stop it")
            return
        if row.run.state != "running":
            self.notify(f"{one_line(row.run.name)} is not running ({row.run.state})",
                        markup=False)
            return
        self._find_writers(row.run)

    @work(thread=True, exclusive=True, group="stop")
    def _find_writers(self, view: RunView) -> None:
        found = self.store.with_runs([view.path], lambda runs: [live_writers(r) for r in runs])
        writers = found[0] if found else []
        checked = [(w, refusal(w)) for w in writers]
        self.app.call_from_thread(self._confirm_stop, view, checked)

    def _confirm_stop(self, view: RunView, checked: list[tuple[Writer, str | None]]) -> None:
        name = one_line(view.name)
        ours = [w for w, why in checked if why is None]
        refused = [why for _w, why in checked if why is not None]
        if not ours:
            why = refused[0] if refused else "no live writer found"
            self.notify(f"cannot stop {name}: {why}", severity="error", markup=False, timeout=10)
            return
        pids = ", ".join(f"{w.pid} ({one_line(w.role)})" for w in ours)
        detail = f"SIGTERM to pid {pids} on this host; the script may save and exit."
        if refused:
            detail += f" Not stopped: {len(refused)} other writer(s): {refused[0]}."

        def answered(yes: bool | None) -> None:
            if yes:
                self._stop(name, ours)

        self.app.push_screen(ConfirmScreen(f"Stop run {name}?", detail), answered)

    @work(thread=True, group="stop")
    def _stop(self, name: str, writers: list[Writer]) -> None:
        for writer in writers:
            try:
                terminate(writer)
            except OSError as exc:
                self.app.call_from_thread(self.notify, f"cannot stop {name}: {exc}",
                                          severity="error", markup=False, timeout=10)
                return
        self.app.call_from_thread(self.notify, f"sent SIGTERM to {name}", markup=False)

    # -- the palette -------------------------------------------------------------------------
    def jump_to_run(self, path: str) -> None:
        """Bring the main screen back and put the cursor on `path`'s row: its group unfolded,
        the filter cleared if it hides the run."""
        while self.app.screen is not self and len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        view = self.model.views.get(path)
        if view is None:
            self.notify("that run is not in the table yet")
            return
        if not self.model.matches(view):
            self.model.set_filter("")
            self.notify("the filter hid that run: cleared it", markup=False)
        self.refresh_table()
        for group in self.model.groups.values():
            if any(v.path == path for v in group.runs):
                self.model.collapsed.discard("group:" + group.label)
        self.refresh_table()
        table = self._table()
        index = table.index_of(path)
        if index is not None:
            table.move_to(index)
            table.focus()

    def fold_at_cursor(self) -> None:
        """Fold (or unfold) the group of the row under the cursor: a group row, or a member
        run's row (the cursor moves to its group)."""
        rows = self.model.rows
        table = self._table()
        index = table.cursor
        while 0 <= index < len(rows) and rows[index].kind != "group":
            index -= 1
        if not (0 <= index < len(rows)) or not self.model.group_keys:
            return
        key = rows[index].key
        self.model.collapsed.symmetric_difference_update({key})
        self.refresh_table()
        at = table.index_of(key)
        if at is not None:
            table.move_to(at)

    # -- the remembered view -----------------------------------------------------------------
    def restore_view(self) -> None:
        """The view this root had last time (on mount, before any run is read)."""
        state = self.app.view_memory.state  # type: ignore[attr-defined]
        model = self.model
        if state.sort is not None:
            key = ColumnKey(*state.sort)  # type: ignore[arg-type, unused-ignore]
            model.sort_key = key
            model.sort_reverse = key.newest_first if state.sort_reverse is None \
                else state.sort_reverse
        model.group_keys = state.group_keys
        if state.filter:
            try:
                model.set_filter(state.filter)
            except FilterError as exc:
                self.notify(f"the remembered filter was dropped: {exc}", markup=False)
        if state.metrics is not None:
            self.metric_choice.picked()
            self._set_metrics(state.metrics)
        self.baseline = state.baseline
        settings = self._panel_settings()
        if settings is not None:
            apply_layout(settings, state.layout)

    def _panel_settings(self) -> PanelLayout | None:
        """The chart panel's settings, one object shared with the panel (tui/widgets/workspace.py);
        None while the screen is being torn down (a timer that fired as the app closed)."""
        from ..widgets.workspace import Workspace

        found = self.one(Workspace)
        return found.settings if found is not None else None

    def remember_view(self) -> None:
        """After any change: what to restore next time (written only when it differs)."""
        model = self.model
        default = model.sort_key == CREATED and model.sort_reverse == CREATED.newest_first
        settings = self._panel_settings()
        layout = {} if settings is None else {"layout": layout_state(settings)}
        self.app.view_memory.update(  # type: ignore[attr-defined]
            sort=None if default else (model.sort_key.kind, model.sort_key.name),
            sort_reverse=None if default else model.sort_reverse,
            group_keys=tuple(model.group_keys), filter=model.filter_text,
            metrics=None if self.metric_choice.auto else tuple(model.metrics),
            baseline=self.baseline, **layout)

    def reset_view(self) -> None:
        """Forget the remembered view and show the defaults (a palette command)."""
        self.app.view_memory.reset()  # type: ignore[attr-defined]
        model = self.model
        model.sort_by(CREATED)
        model.group_keys = ()
        model.collapsed.clear()
        model.set_filter("")
        self.baseline = None
        settings = self._panel_settings()
        if settings is not None:
            apply_layout(settings, layout_state(PanelLayout()))
        self.metric_choice = MetricChoice()
        views = list(model.views.values())
        metrics = self.metric_choice.follow(views, views, ())
        self._set_metrics(metrics or ())
        self.refresh_table()
        self.notify("view reset: default columns, sort, grouping and filter")

    # -- other screens -----------------------------------------------------------------------
    def action_open(self) -> None:
        from .detail import DetailScreen

        row = self.current_row()
        if row is None:
            return
        if row.kind == "group" and row.group is not None:
            runs = [v.path for v in row.group.runs]
            title = f"group {row.group.label} ({len(runs)} runs)"
            self.app.push_screen(DetailScreen(self.store, self.editor, runs, title, group=True))
            return
        paths = [row.key] + sorted(p for p in self.model.marked if p != row.key)
        name = one_line(row.run.name if row.run else "")
        self.app.push_screen(DetailScreen(self.store, self.editor, paths, name))

    def action_importance(self) -> None:
        from .importance import ImportanceScreen

        paths = [v.path for v in self.model.visible_runs]
        self.app.push_screen(ImportanceScreen(self.store, paths))

    def action_sweeps(self) -> None:
        from .sweeps import SweepsScreen

        self.app.push_screen(SweepsScreen(self.store))
