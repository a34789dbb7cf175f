"""Workspace: the run table with the chart panel beside it (wide terminals) or below it, the
split resizable with < > and by dragging the divider (or the panel's title bar), the panel
toggled with c. Its keys work whether the table or the panel has focus.

It lays out; what to chart comes from the table's model (`update_charts()`), and the panel
reads the data itself.
"""

from __future__ import annotations

from typing import Any

from textual import events, on
from textual.binding import Binding
from textual.widget import Widget

from ..model.store import RunStore
from ..model.table_model import TableModel
from ..model.workspace import (
    PanelLayout,
    Placement,
    chart_target,
    clamp_split,
    panel_rows,
    placement,
    step_split,
)
from .chart_panel import ChartPanel, DragBar
from .filter_box import FilterBox
from .run_table import RunTable


class Workspace(Widget):
    DEFAULT_CSS = """
    Workspace { height: 1fr; layout: vertical; }
    Workspace.-right { layout: horizontal; }
    Workspace > RunTable { height: 1fr; width: 1fr; }
    Workspace > #divider { width: 1; height: 1fr; background: $panel; }
    Workspace > #divider:hover { background: $accent; }
    """
    BINDINGS = [
        Binding("c", "toggle_charts", "charts"),
        Binding("less_than_sign", "resize(-1)", "charts smaller", show=False),
        Binding("greater_than_sign", "resize(1)", "charts bigger", show=False),
        Binding("left_square_bracket", "page(-1)", "previous charts", show=False),
        Binding("right_square_bracket", "page(1)", "next charts", show=False),
        Binding("f", "glob", "chart filter (glob)", show=False),
    ]

    def __init__(self, model: TableModel, store: RunStore, **kwargs: Any) -> None:
        self.settings = PanelLayout()
        # Children given here, not composed: they mount with the screen, so the table is
        # there for the first runs the store hands over.
        super().__init__(RunTable(model, id="runs"), DragBar(id="divider"),
                         ChartPanel(store, self.settings, id="charts"), **kwargs)
        self.model = model
        self.store = store
        self.placement: Placement = "below"
        self._applied: tuple[Any, ...] = ()

    @property
    def panel(self) -> ChartPanel:
        return self.query_one(ChartPanel)

    # -- layout ------------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self.lay_out()

    def lay_out(self) -> None:
        """Place the panel for the current size and settings (styles set only on change)."""
        width, height = self.size
        where = placement(width, height, self.settings.shown)
        share = self.settings.split
        rows = panel_rows(height, share, len(self.model.rows) + 2, self.settings.fill)
        state = (where, width, height, share, rows)
        if state == self._applied or not width:
            return
        self._applied = state
        self.placement = where
        remember = getattr(self.screen, "remember_view", None)  # the layout is part of the view
        if remember is not None:
            remember()
        self.set_class(where == "right", "-right")
        panel = self.panel
        panel.display = where != "hidden"
        self.query_one("#divider").display = where == "right"
        if where == "right":
            panel.styles.width = max(20, round(width * share))
            panel.styles.height = "1fr"
        elif where == "below":
            panel.styles.width = "1fr"
            panel.styles.height = rows
        if where != "hidden":
            self.update_charts()
            self.panel.refresh_soon()

    def update_charts(self) -> None:
        """Chart the marked runs, else the row under the cursor (when the panel is shown)."""
        self.lay_out()  # the table's rows changed: below it, the panel may take more or fewer
        if self.placement == "hidden":
            return
        model, table = self.model, self.query_one(RunTable)
        # Marked runs the filter shows (matches() is cached per run version: O(marks)).
        marked = [p for p in model.marked if p in model.views and model.matches(model.views[p])]
        far = len(model.rows)
        marked.sort(key=lambda p: (table.index_of(p) if table.index_of(p) is not None else far, p))
        self.panel.show(chart_target(table.current, marked), model.metrics)

    @on(RunTable.CursorMoved)
    def _cursor_moved(self) -> None:
        self.update_charts()

    @on(DragBar.Dragged)
    def _dragged(self, event: DragBar.Dragged) -> None:
        region = self.region
        if self.placement == "right":
            share = (region.right - event.x - 1) / max(1, region.width)
        else:
            share = (region.bottom - event.y) / max(1, region.height)
        self.settings.split = clamp_split(share)
        self.settings.fill = False
        self.lay_out()

    # -- keys --------------------------------------------------------------------------------
    def action_toggle_charts(self) -> None:
        self.settings.shown = self.placement == "hidden"
        self.lay_out()
        if self.placement == "hidden" and self.panel.has_focus_within:
            self.query_one(RunTable).focus()

    def action_resize(self, delta: int) -> None:
        current = self.panel.size.height / max(1, self.size.height)
        if self.placement == "right":
            current = self.panel.size.width / max(1, self.size.width)
        self.settings.split = step_split(current if self.settings.fill else self.settings.split, delta)
        self.settings.fill = False
        self.lay_out()

    def action_page(self, delta: int) -> None:
        self.panel.action_page(delta)

    def action_glob(self) -> None:
        if self.placement == "hidden":
            self.action_toggle_charts()
        self.panel.open_glob()

    def on_key(self, event: events.Key) -> None:
        # f opens the glob here, not by its binding: bindings run after the keys typed with it
        # have gone by, and those keys (queued for the table) belong in the box.
        box = self.panel.query_one(FilterBox)
        if event.key == "f" and not box.display:
            self.action_glob()
        elif not box.take_key(event):
            return
        event.stop()
        event.prevent_default()
