"""LogLines: a scrolling view of many plain lines that draws only the rows on screen, so a run's
100k-line console opens, filters and wraps in milliseconds (RichLog renders every line it is
given: 50k lines took 35 s). Lines arrive already escaped; matches of `pattern` show reversed."""

from __future__ import annotations

import bisect
import re

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

ERROR_STYLE = "bold red"


class LogLines(ScrollView, can_focus=True):
    """Shows `lines` (set with `show`, grown with `add`); follows the end while scrolled there."""

    DEFAULT_CSS = "LogLines { height: 1fr; }"

    def __init__(self, error: re.Pattern[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.error = error
        self.lines: list[str] = []
        self.pattern: re.Pattern[str] | None = None
        self.wrap = False
        self._widest = 0
        self._starts: list[int] = []  # wrap: the first row of each line
        self._wrap_width = 0
        self._rows = 0

    def show(self, lines: list[str], pattern: re.Pattern[str] | None, wrap: bool) -> None:
        """Replace what is shown (a new search, or wrap toggled)."""
        self.lines, self.pattern, self.wrap = list(lines), pattern, wrap
        self._widest = max((cell_len(line) for line in self.lines), default=0)
        self._wrap_width = 0
        self._resize(follow=False)

    def add(self, lines: list[str]) -> None:
        """Append lines; keep following the end if the view was there."""
        follow = self.scroll_y >= self.max_scroll_y
        self.lines.extend(lines)
        self._widest = max(self._widest, max((cell_len(line) for line in lines), default=0))
        self._wrap_width = 0 if self.wrap else self._wrap_width
        self._resize(follow)

    def drop_first(self, n: int) -> None:
        del self.lines[:n]
        self._wrap_width = 0
        self._resize(follow=self.scroll_y >= self.max_scroll_y)

    def row_of(self, index: int) -> int:
        """The first screen row (in the virtual area) of line `index`."""
        if not self.wrap:
            return index
        self._layout()
        return self._starts[index] if index < len(self._starts) else 0

    # -- layout and drawing ------------------------------------------------------------------
    def on_resize(self) -> None:
        if self.wrap:
            self._wrap_width = 0
            self._resize(follow=self.scroll_y >= self.max_scroll_y)

    def _width(self) -> int:
        return max(1, self.scrollable_content_region.width or self.size.width or 80)

    def _layout(self) -> None:
        width = self._width()
        if self._wrap_width == width and len(self._starts) == len(self.lines):
            return
        starts, row = [], 0
        for line in self.lines:
            starts.append(row)
            row += max(1, -(-len(line) // width)) if line.isascii() else len(chop_cells(line, width) or [""])
        self._starts, self._rows, self._wrap_width = starts, row, width

    def _resize(self, follow: bool) -> None:
        if self.wrap:
            self._layout()
            self.virtual_size = Size(self._width(), self._rows)
        else:
            self.virtual_size = Size(self._widest, len(self.lines))
        self.refresh()
        if follow:
            self.call_after_refresh(self.scroll_end, animate=False)

    def _text(self, line: str) -> Text:
        text = Text(line)
        if self.pattern is not None:
            text.highlight_regex(self.pattern, style="reverse")
        elif self.error.search(line):
            text.stylize(ERROR_STYLE)
        return text

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        if not self.wrap:
            if row >= len(self.lines):
                return Strip.blank(width, self.rich_style)
            strip = Strip(self._text(self.lines[row]).render(self.app.console), self._widest)
            return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)
        self._layout()
        index = bisect.bisect_right(self._starts, row) - 1
        if index < 0 or row >= self._rows:
            return Strip.blank(width, self.rich_style)
        line = self.lines[index]
        pieces = chop_cells(line, self._wrap_width) or [""]
        part = min(row - self._starts[index], len(pieces) - 1)
        start = sum(len(p) for p in pieces[:part])
        text = self._text(line)[start:start + len(pieces[part])]
        segments = list(text.render(self.app.console)) or [Segment("")]
        return Strip(segments).crop_extend(0, width, self.rich_style)
