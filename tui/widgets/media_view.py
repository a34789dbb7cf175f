"""The media panel's drawing: half-block images and histogram heatmaps as Rich text, and
`plot.*` charts drawn with plotext. Data comes computed (tui/media_render, tui/media_charts);
every label drawn here is plain `Text` of already-escaped strings, never markup or ANSI
handed to plotext."""

from __future__ import annotations

import io
import math
import os
import sys
from collections.abc import Mapping
from importlib.util import find_spec
from typing import Any

from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from logger.textsafe import one_line, safe_text
from tui.media_charts import ChartData
from tui.media_render import Cell, Heatmap, heatmap_text, image_protocol

from ..model.plot import PALETTE
from .chart import plotext


def pick_protocol(headless: bool, env: Mapping[str, str] | None = None) -> tuple[str, Any]:
    """How this app draws images, and textual-image's widget class for it (None: half-blocks,
    drawn by `image_text`). Pilot (headless) and anything textual-image cannot load fall back."""
    stdout = sys.__stdout__
    is_tty = not headless and stdout is not None and stdout.isatty()
    protocol = image_protocol(os.environ if env is None else env, is_tty, find_spec("textual_image") is not None)
    widget = graphics_widget(protocol) if protocol != "halfblock" else None
    return (protocol, widget) if widget is not None else ("halfblock", None)


def graphics_widget(protocol: str) -> Any:
    """textual-image's Kitty (TGP) or Sixel widget class, or None when it cannot be loaded.

    Its import probes the terminal with escape queries when stdout is a tty, which cannot work
    once Textual reads stdin (the answers would arrive as keys): the cell size is read here with
    an ioctl instead, and the import sees a stdout that is not a tty, so it asks nothing."""
    try:
        import textual_image._terminal as terminal

        if not hasattr(terminal.get_cell_size, "_result"):
            terminal.get_cell_size._result = terminal.CellSize(*_cell_pixels())  # type: ignore[attr-defined]
        real, sys.__stdout__ = sys.__stdout__, io.StringIO()  # type: ignore[misc, assignment]
        try:
            from textual_image.widget import SixelImage, TGPImage
        finally:
            sys.__stdout__ = real  # type: ignore[misc]
    except Exception:  # noqa: BLE001 - any failure of an optional drawer: half-blocks
        return None
    return TGPImage if protocol == "kitty" else SixelImage


def _cell_pixels() -> tuple[int, int]:
    """A terminal cell's (width, height) in pixels from TIOCGWINSZ; VT340's 10x20 if unknown."""
    try:
        import fcntl
        import struct
        import termios

        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        rows, cols, xpix, ypix = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
        if rows and cols and xpix and ypix:
            return xpix // cols, ypix // rows
    except (OSError, ValueError, ImportError):
        pass
    return 10, 20


def image_text(cells: list[list[Cell]]) -> Text:
    """Half-block cells (top pixel as foreground, bottom as background) as styled text."""
    text = Text(no_wrap=True, end="")
    for i, line in enumerate(cells):
        if i:
            text.append("\n")
        for char, fg, bg in line:
            text.append(char, Style(color=f"rgb({fg[0]},{fg[1]},{fg[2]})",
                                    bgcolor=f"rgb({bg[0]},{bg[1]},{bg[2]})"))
    return text


def entry_text(entry: list[tuple[str, str]], body: str = "") -> Text:
    """A described media file: one escaped "label  value" line each, then its text (html)."""
    text = Text(end="")
    for label, value in entry:
        text.append(f"{label:>12}  ", style="dim")
        text.append(one_line(value, 300) + "\n", style="bold" if label == "type" else "")
    text.append("\n  y copies the file's path\n", style="dim")
    if body:
        text.append("\n" + safe_text(body, newlines=True))
    return text


def heatmap_view(heatmap: Heatmap, selected: int | None = None, width: int = 0) -> Text:
    """The heatmap with its value range on the left and its first and last steps below;
    the column of `selected` (a step) is marked with "▲" under it. With few steps each
    column is widened (up to 6 cells) to fill about `width` cells."""
    wide = max(1, min(6, width // max(1, len(heatmap.steps))))
    lines = ["".join(c * wide for c in line) for line in heatmap_text(heatmap)]
    hi, lo = f"{heatmap.hi:.3g}", f"{heatmap.lo:.3g}"
    pad = max(len(hi), len(lo))
    text = Text(no_wrap=True, end="")
    for i, line in enumerate(lines):
        label = hi if i == 0 else lo if i == len(lines) - 1 else ""
        text.append(f"{label:>{pad}} │", style="dim")
        text.append(line + "\n", style="cyan")
    steps = heatmap.steps
    marker = [" "] * len(steps)
    if selected is not None and steps:
        col = min(range(len(steps)), key=lambda c: abs(steps[c] - selected))
        marker[col] = "▲"
    text.append(" " * (pad + 2) + "".join(m.center(wide) for m in marker) + "\n", style="bold")
    if steps:
        first, last = f"step {steps[0]}", f"step {steps[-1]}"
        gap = max(1, len(steps) * wide - len(first) - len(last))
        text.append(" " * (pad + 2) + first + " " * gap + last, style="dim")
    return text


class MediaChart(Widget):
    """Draws a `ChartData` (a logged `plot.*` chart) with plotext at the widget's size."""

    DEFAULT_CSS = "MediaChart { height: 1fr; min-height: 6; }"

    data: reactive[ChartData | None] = reactive(None)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.builds = 0

    def render(self) -> RenderableType:
        data = self.data
        if data is None:
            return Text("loading…", style="dim")
        head = Text(one_line(data.title or data.kind), style="bold", no_wrap=True, overflow="ellipsis")
        width, height = self.size
        legend = self._legend(data)
        body_height = height - 1 - (1 if legend.plain else 0)
        if body_height < 3 or width < 20:
            return head
        if data.kind == "matrix":
            return Group(head, self._matrix(data))
        body = self._build(data, width, body_height)
        self.builds += 1
        return Group(head, body, legend) if legend.plain else Group(head, body)

    @staticmethod
    def _legend(data: ChartData) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if data.kind in ("line", "scatter") and len(data.series) > 1:
            for i, (name, _xs, _ys) in enumerate(data.series[:12]):
                text.append("■ ", style=f"color({PALETTE[i % len(PALETTE)]})")
                text.append(one_line(name, 24) + "  ")
        elif data.kind == "bar" and data.labels:  # bars are numbered: their names stay out of plotext
            text.append("  ".join(f"{i + 1}={one_line(n, 20)}" for i, n in enumerate(data.labels[:20])))
        if data.x_title or data.y_title:
            text.append(f"  x: {one_line(data.x_title)}  y: {one_line(data.y_title)}", style="dim")
        return text

    @staticmethod
    def _build(data: ChartData, width: int, height: int) -> Text:
        plt = plotext()
        f = plt.figure
        f.clear()
        f.theme("simple")
        f.plot_size(width, height)
        drawn = 0
        if data.kind in ("line", "scatter"):
            for i, (_name, xs, ys) in enumerate(data.series):
                pts = sorted((x, y) for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y))
                if not pts:
                    continue
                marker = plt.marker("braille").fill(plt.pixel(foreground=PALETTE[i % len(PALETTE)]))
                signal = f.signal([p[0] for p in pts], [p[1] for p in pts], marker=marker)
                f.draw(signal.lines() if data.kind == "line" and len(pts) > 1 else signal)
                drawn += 1
        elif data.kind == "bar" and data.values:
            f.draw(f.bar(list(range(1, len(data.values) + 1)), data.values))
            drawn = 1
        elif data.kind == "histogram" and data.values:
            f.draw(f.hist(data.values, bins=min(30, max(5, width // 4))))
            drawn = 1
        if not drawn:
            return Text("nothing to draw in this chart's table", style="dim")
        return Text.from_ansi(str(f.build()), no_wrap=True, end="")

    @staticmethod
    def _matrix(data: ChartData) -> Text:
        """A confusion matrix as a grid of counts: rows actual, columns predicted."""
        names = [one_line(n, 10) for n in data.labels]
        width = max([6, *(len(n) for n in names)]) + 1
        text = Text(no_wrap=True, end="")
        text.append(" " * width + "".join(f"{n:>{width}}" for n in names) + "  (predicted)\n", style="dim")
        peak = max((v for row in data.matrix for v in row), default=0) or 1
        for name, row in zip(names, data.matrix):
            text.append(f"{name:>{width}}", style="dim")
            for v in row:
                text.append(f"{v:>{width}g}", style="bold" if v >= peak / 2 else "")
            text.append("\n")
        return text
