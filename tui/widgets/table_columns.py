"""TableColumns: the run table's columns across the screen (RunTable derives from it). The
first FIXED_COLUMNS stay; the rest scroll sideways by whole columns, and a column the right
edge would cut is left out. Where a column sits on screen, and whether it is in view (the
screen's clock ticks only for texts in view). Kept apart from run_table.py (rows, cursor,
drawing) so that each stays under ~400 lines."""

from __future__ import annotations

from rich.segment import Segment
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..model.columns import ColumnKey
from ..model.table_model import TableModel

FIXED_COLUMNS = 2  # state and name stay in view when scrolling sideways
GUTTER = 2  # the mark column
MIN_PART = 4  # cells, at least, to show a column wider than the whole scrolling area


class TableColumns(ScrollView):
    """Column geometry over `model.cols` and `_widths`, which RunTable keeps."""

    model: TableModel
    _widths: list[int]
    _fixed: int  # cells the gutter and the fixed columns take

    def _starts(self) -> list[int]:
        """Where each scrolling column starts, right of the fixed ones."""
        starts, pos = [], 0
        for width in self._widths[FIXED_COLUMNS:]:
            starts.append(pos)
            pos += width + 1
        return starts or [0]

    def _snapped_x(self) -> int:
        x = int(self.scroll_x)
        return max((s for s in self._starts() if s <= x), default=0)

    def _virtual_width(self) -> int:
        """Wide enough to scroll until the last columns sit whole at the right edge."""
        total = GUTTER + sum(w + 1 for w in self._widths)
        room = self._width() - self._fixed
        if total <= self._width() or room <= 0:
            return total
        rest = total - self._fixed
        last = next((s for s in self._starts() if rest - s <= room), self._starts()[-1])
        return self._fixed + last + room

    def action_scroll_right(self) -> None:
        x = self._snapped_x()
        nxt = next((s for s in self._starts() if s > x), x)
        self.scroll_to(x=min(nxt, self.max_scroll_x), animate=False, immediate=True)

    def action_scroll_left(self) -> None:
        x = self._snapped_x()
        self.scroll_to(x=max((s for s in self._starts() if s < x), default=0), animate=False,
                       immediate=True)

    def _width(self) -> int:
        """Cells a row has: the vertical scrollbar's gutter is kept (scrollbar-gutter)."""
        return self.scrollable_content_region.width

    def _cell_span(self, column: int) -> tuple[int, int]:
        """Where a column is on screen: x and width (0 or less: scrolled out of view)."""
        x = GUTTER + sum(w + 1 for w in self._widths[:column])
        width = self._widths[column] if column < len(self._widths) else 0
        if column >= FIXED_COLUMNS:
            x -= self._snapped_x()
            if x < self._fixed:  # scrolled under the fixed columns
                width, x = width - (self._fixed - x), self._fixed
        return x, min(width, self._width() - x)

    def _shown(self, key: ColumnKey) -> bool:
        index = next((i for i, c in enumerate(self.model.cols) if c.key == key), None)
        return index is not None and self._cell_span(index)[1] > 0

    def _column_at(self, x: int) -> ColumnKey | None:
        pos = GUTTER
        for col, width in zip(self.model.cols, self._widths):
            if pos <= x < pos + width + 1:
                return col.key
            pos += width + 1
        return None

    def _crop(self, strip: Strip, width: int) -> Strip:
        """The fixed columns, then whole columns from the scroll position: a column the right
        edge would cut is left out (a header is never cut to a letter or two)."""
        fixed = min(self._fixed, width)
        x = self._snapped_x()
        room = max(0, width - fixed)
        end, ellipsis = room, False
        for start, w in zip(self._starts(), self._widths[FIXED_COLUMNS:]):
            if start + w > x + room:  # the first column the right edge cuts: left out,
                end = start - x  # unless it alone is wider than the room (then cut)
                ellipsis = end == 0 and room >= MIN_PART
                end = room if ellipsis else end
                break
        left = strip.crop(0, fixed)
        right = strip.crop(fixed + x, fixed + x + end)
        if ellipsis:
            segs = list(right.crop(0, end - 1))
            right = Strip([*segs, Segment("…", segs[-1].style if segs else None)])
        return Strip.join([left, right]).adjust_cell_length(width)
