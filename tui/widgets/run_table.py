"""RunTable: a Line-API table of runs and groups, with a fixed header and fixed first columns.

Why not DataTable: it re-measures every cell on first paint (1.2 s for 10k rows) and one
`update_cell` invalidates every visible row (~55 ms). Here each row's rendering is cached
under a signature from the model (run version, mark, "updated ago" text), so a live update
repaints only the cells that changed (an age ticking: ~2.5 ms a frame, 5 ms for its line) and
10k rows paint as fast as 40 (STACK.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from ..model import runview
from ..model.columns import ColumnKey
from ..model.table_model import NO_MATCH, Row, TableModel
from .table_clock import next_change
from .table_columns import FIXED_COLUMNS, GUTTER, TableColumns

NAME = ColumnKey.field("name")
_KEY = attrgetter("key")  # a row's key
UPDATED, RUNTIME = ColumnKey.field("updated"), ColumnKey.field("runtime")


class Drawn(NamedTuple):
    """A row as last rendered: what its rendering depends on, the strip, and its cells (a
    tick compares cells to repaint only those that changed)."""

    signature: Any
    strip: Strip
    cells: list[tuple[str, str]]
    marked: bool


def fit(text: str, width: int, right: bool = False) -> str:
    """`text` cut (with an ellipsis) or padded to exactly `width` cells."""
    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…" if width > 0 else ""
    pad = width - cell_len(text)
    return " " * pad + text if right else text + " " * pad


class RunTable(TableColumns, can_focus=True):
    """Draws `model.rows`; the screen owns the model and calls `refresh_rows()` after changes."""

    DEFAULT_CSS = """
    RunTable { height: 1fr; scrollbar-gutter: stable; scrollbar-size-vertical: 1; }
    RunTable > .run-table--header { text-style: bold; background: $panel; }
    RunTable > .run-table--cursor { background: $block-cursor-background; }
    RunTable > .run-table--group { text-style: bold; color: $text-accent; }
    RunTable > .run-table--dim { color: $text-muted; }
    RunTable > .run-table--tags { color: $text-secondary; }
    RunTable > .run-table--notes { color: $text-muted; }
    RunTable > .run-table--marked { text-style: bold; color: $text-warning; }
    RunTable > .run-table--state-running { color: $text-success; text-style: bold; }
    RunTable > .run-table--state-finished { color: $text-primary; }
    RunTable > .run-table--state-failed { color: $text-error; text-style: bold; }
    RunTable > .run-table--state-killed { color: $text-warning; }
    RunTable > .run-table--state-crashed { color: $text-error; text-style: bold reverse; }
    RunTable > .run-table--state-stalled { color: $text-warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {
        "run-table--header", "run-table--cursor", "run-table--group", "run-table--dim",
        "run-table--tags", "run-table--notes", "run-table--marked", "run-table--state-running",
        "run-table--state-finished", "run-table--state-failed", "run-table--state-killed",
        "run-table--state-crashed", "run-table--state-stalled",
    }
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "up", show=False),
        Binding("down,j", "cursor(1)", "down", show=False),
        Binding("pageup", "page(-1)", "page up", show=False),
        Binding("pagedown", "page(1)", "page down", show=False),
        Binding("home", "jump(0)", "first", show=False),
        Binding("end", "jump(-1)", "last", show=False),
    ]

    cursor: reactive[int] = reactive(0, repaint=False)

    @dataclass
    class HeaderClicked(Message):
        column: ColumnKey

    @dataclass
    class RowClicked(Message):
        index: int
        double: bool

    class Scrolled(Message):
        """Other rows or columns came into view (the wheel, the scrollbar, a key, a resize)."""

    @dataclass
    class CursorMoved(Message):
        """The cursor went to another row: `user` when a key or click moved it; `seq` counts
        moves, so a handler can tell a move made before some state change from one after."""

        user: bool
        seq: int

    def __init__(self, model: TableModel, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = model
        self._cache: dict[str, Drawn] = {}
        self._index: dict[str, int] = {}
        self._layout: tuple[Any, ...] = ()
        self._widths: list[int] = []
        self._fixed = 0
        self._styles: dict[str, Style] = {}
        self._keys: list[str] = []
        self._header_state: tuple[Any, ...] = ()
        self.moves = 0  # cursor moves so far (CursorMoved.seq)
        self.renders = 0  # rows rendered (not served from cache): for tests and benchmarks

    # -- data --------------------------------------------------------------------------------
    @property
    def current(self) -> Row | None:
        rows = self.model.rows
        return rows[self.cursor] if 0 <= self.cursor < len(rows) else None

    def refresh_rows(self) -> None:
        """Take the model's rows: keep the cursor on the same run, repaint what changed."""
        # The run under the cursor as drawn (the model's rows are already the new ones).
        before = self._keys[self.cursor] if 0 <= self.cursor < len(self._keys) else None
        rows = self.model.rows
        # Keys, then the index from them in C (10k rows: a dict comprehension was ~4 ms of
        # each of the ~60 table updates a cold open makes), only when the rows changed.
        keys = list(map(_KEY, rows))
        same = keys == self._keys
        if not same:
            self._index = dict(zip(keys, range(len(keys))))
        layout = tuple((c.key, c.width) for c in self.model.cols)
        layout_changed = layout != self._layout or (self.model.sort_key, self.model.sort_reverse,
                                                    len(self.model.marked)) != self._header_state
        self._header_state = (self.model.sort_key, self.model.sort_reverse, len(self.model.marked))
        if layout != self._layout:
            self._layout = layout
            self._cache.clear()
            self._widths = [c.width for c in self.model.cols]
            self._fixed = GUTTER + sum(w + 1 for w in self._widths[:FIXED_COLUMNS])
        self._resize_virtual()
        cursor = self.cursor
        if before is not None and before in self._index:
            cursor = self._index[before]
        cursor = max(0, min(cursor, len(rows) - 1))
        if cursor != self.cursor or not same or layout_changed:
            moved = cursor != self.cursor
            self.set_reactive(RunTable.cursor, cursor)
            self._keys = keys
            if moved:  # the same run, on another row: keep it in view
                self._scroll_cursor_into_view()
            self.refresh()
            return
        # Same rows in the same order (a live run logged a step): repaint only visible rows
        # whose signature moved on; a 10k-row table costs one line, not a screen.
        self._refresh_changed()

    def _refresh_changed(self) -> None:
        """Repaint, in the rows on screen, only the cells whose text or style moved on: the
        compositor redraws what a dirty region spans, across every widget under it, so a
        ticking age costs a cell, not a line (a line spanned the table and its scrollbar)."""
        now = runview.clock()
        top = int(self.scroll_y)
        rows = self.model.rows
        shown = max(0, self.scrollable_content_region.height - 1)  # lines below the header
        for index in range(top, min(len(rows), top + shown)):
            row = rows[index]
            drawn = self._cache.get(row.key)
            if drawn is None:  # not drawn since the cache was cleared: the whole line
                self.refresh_line(index + 1)
                continue
            signature = self.model.row_signature(row, now)
            if drawn.signature == signature:
                continue
            cells, marked = self._cells(row, now)
            if marked != drawn.marked or len(cells) != len(drawn.cells):
                self.refresh_line(index + 1)
                continue
            changed = [i for i, (new, old) in enumerate(zip(cells, drawn.cells)) if new != old]
            if not changed:  # e.g. the runtime moved on in a column not shown: nothing to draw
                self._cache[row.key] = drawn._replace(signature=signature)
            for i in changed:
                self._refresh_cell(index + 1 - top, i)

    def _refresh_cell(self, line: int, column: int) -> None:
        """Mark one cell of a viewport line for repainting (where the scroll put it)."""
        x, width = self._cell_span(column)
        if width > 0:
            self.refresh(Region(x, line, width, 1))

    def next_change(self) -> float | None:
        """When a row on screen next changes by time alone, as `runview.clock()` reads (None:
        none will): the screen sets one timer for it rather than looking every second."""
        top = int(self.scroll_y)
        rows = self.model.rows[top : top + max(0, self.scrollable_content_region.height - 1)]
        return next_change(rows, runview.clock(), self._shown(UPDATED), self._shown(RUNTIME))

    def index_of(self, key: str) -> int | None:
        return self._index.get(key)

    def refresh_time_cells(self) -> None:
        """Once a second: repaint the visible rows whose "ago" or runtime text moved on."""
        self._refresh_changed()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if round(old) != round(new):
            self.post_message(self.Scrolled())

    def watch_scroll_x(self, old: float, new: float) -> None:
        super().watch_scroll_x(old, new)
        if round(old) != round(new):
            self.post_message(self.Scrolled())

    # -- cursor ------------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old + 1)
        self.refresh_line(new + 1)
        self._scroll_cursor_into_view()

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_y)
        page = self._page()
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + page:
            self.scroll_to(y=self.cursor - page + 1, animate=False, immediate=True)

    def move_to(self, index: int, user: bool = True) -> None:
        n = len(self.model.rows)
        if n:
            before = self.cursor
            self.cursor = max(0, min(index, n - 1))
            if self.cursor != before or user:
                self.moves += 1
                self.post_message(self.CursorMoved(user, self.moves))

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, delta: int) -> None:
        self.move_to(self.cursor + delta * self._page())

    def action_jump(self, where: int) -> None:
        self.move_to(where if where >= 0 else len(self.model.rows) - 1)

    def on_resize(self, event: events.Resize) -> None:
        if self.model.set_width(self._width()):
            self.refresh_rows()
        else:
            self._resize_virtual()
        self.post_message(self.Scrolled())

    def _resize_virtual(self) -> None:
        size = Size(self._virtual_width(), len(self.model.rows) + 1)
        if size != self.virtual_size:
            self.virtual_size = size

    # -- mouse -------------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = event.x if event.x < self._fixed else event.x + self._snapped_x()
            column = self._column_at(x)
            if column is not None:
                self.post_message(self.HeaderClicked(column))
            return
        index = event.y - 1 + int(self.scroll_y)
        if 0 <= index < len(self.model.rows):
            self.move_to(index)
            self.post_message(self.RowClicked(index, event.chain >= 2))

    # -- drawing -----------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()  # cached rows carry the old theme's styles
        self._styles.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            cls = f"run-table--{name}"
            style = self._styles[name] = (
                self.get_component_rich_style(cls, partial=True)
                if cls in self.COMPONENT_CLASSES else Style()
            )
        return style

    def render_line(self, y: int) -> Strip:
        width = self._width()
        base = self.rich_style
        if y == 0:
            strip = self._header()
        else:
            index = y - 1 + int(self.scroll_y)
            rows = self.model.rows
            if index >= len(rows):
                if y == 1 and not rows and self.model.views and self.model.filter_text:
                    # an empty table says why, not just nothing (tui/widgets/status_line.py)
                    return Strip([Segment(f"  {NO_MATCH}", self._style("dim"))]
                                 ).adjust_cell_length(width).apply_style(base)
                return Strip.blank(width, base)
            strip = self._crop(self._row_strip(rows[index]), width)
            if index == self.cursor:
                strip = strip.apply_style(self._style("cursor"))
            return strip.apply_style(base)
        return self._crop(strip, width).apply_style(base)

    def _header(self) -> Strip:
        model = self.model
        style = self._style("header")
        segs = [Segment(" " * GUTTER, style)]
        for col, width in zip(model.cols, self._widths):
            label = col.label
            if col.key == model.sort_key:
                label += " ▼" if model.sort_reverse else " ▲"
            segs.append(Segment(fit(label, width, col.right) + " ", style))
        return Strip(segs)

    def _cells(self, row: Row, now: float) -> tuple[list[tuple[str, str]], bool]:
        """(text, style name) per column, and whether the row is marked."""
        model = self.model
        if row.kind == "run":
            assert row.run is not None
            return model.run_cells(row.run, now), row.key in model.marked
        marked = row.group is not None and all(v.path in model.marked for v in row.group.runs)
        return model.group_cells(row, now), marked

    def _row_strip(self, row: Row) -> Strip:
        now = runview.clock()
        model = self.model
        signature = model.row_signature(row, now)
        drawn = self._cache.get(row.key)
        if drawn is not None and drawn.signature == signature:
            return drawn.strip
        self.renders += 1
        cells, marked = self._cells(row, now)
        mark_style = self._style("marked")
        segs = [Segment("* " if marked else "  ", mark_style)]
        for (text, style_name), col, width in zip(cells, model.cols, self._widths):
            style = self._style(style_name)
            if marked and col.key == NAME:
                style = style + mark_style
            segs.append(Segment(fit(text, width, col.right), style))
            segs.append(Segment(" "))
        strip = Strip(segs)
        self._cache[row.key] = Drawn(signature, strip, cells, marked)
        if len(self._cache) > 4 * max(100, len(model.rows)):
            self._cache.clear()
        return strip
