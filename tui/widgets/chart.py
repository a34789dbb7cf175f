"""Chart: a plotext 6 line chart as a Textual widget (textual-plotext pins plotext<6).

The screen sets `plot` (a frozen Plot of already-decimated lines); `render()` rebuilds
plotext's one global figure at the widget's size. Titles and legends are drawn here as
plain Rich text, never handed to plotext, so a metric name from a file cannot inject
escape sequences into the ANSI that plotext emits.
"""

from __future__ import annotations

import math
import time
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from logger.textsafe import one_line

from ..model.plot import Plot

_plt: Any = None


def plotext() -> Any:
    """plotext, imported on first use (130 ms) and told not to clamp to the terminal size."""
    global _plt
    if _plt is None:
        import plotext as plt  # type: ignore[import-untyped]

        plt.terminal.limit(False, False)  # else a 120x40 widget draws 80x22 (STACK.md)
        _plt = plt
    return _plt


class Chart(Widget):
    """Draws a Plot. Set `plot` to a new Plot to redraw; nothing redraws on its own."""

    DEFAULT_CSS = """
    Chart { height: 1fr; min-height: 6; }
    """

    plot: reactive[Plot | None] = reactive(None)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.builds = 0
        self.last_build_ms = 0.0

    def on_mount(self) -> None:
        plotext()  # 130 ms of import, paid when the screen opens rather than in a redraw

    def render(self) -> RenderableType:
        plot = self.plot
        width, height = self.size
        head = Text(no_wrap=True, overflow="ellipsis")
        if plot is None:
            return Text("loading…")
        head.append(one_line(plot.title), style="bold")
        if plot.note:
            head.append(f"  {plot.note}", style="dim")
        legend = self._legend(plot)
        body_height = height - 1 - (1 if legend else 0)
        if plot.message or body_height < 3 or width < 20:
            return Group(head, Text(plot.message or "", style="dim"))
        t0 = time.perf_counter()
        body = self._build(plot, width, body_height)
        self.last_build_ms = (time.perf_counter() - t0) * 1000
        self.builds += 1
        parts: list[RenderableType] = [head, body]
        if legend:
            parts.append(legend)
        return Group(*parts)

    @staticmethod
    def _legend(plot: Plot) -> Text | None:
        labelled = [line for line in plot.lines if line.label]
        if not labelled:
            return None
        text = Text(no_wrap=True, overflow="ellipsis")
        for line in labelled[:12]:
            text.append("■ ", style=f"color({line.color})")
            text.append(one_line(line.label or "", 24) + "  ")
        if len(labelled) > 12:
            text.append(f"+{len(labelled) - 12} more")
        return text

    @staticmethod
    def _build(plot: Plot, width: int, height: int) -> Text:
        plt = plotext()
        f = plt.figure
        f.clear()
        f.theme("simple")
        f.plot_size(width, height)
        xs_all: list[float] = []
        drawn = 0
        for line in plot.lines:
            pts = [(x, y) for x, y in zip(line.xs, line.ys)
                   if math.isfinite(x) and math.isfinite(y) and (y > 0 or not plot.log_y)]
            if not pts:
                continue
            marker = plt.marker("braille").fill(plt.pixel(foreground=line.color))
            signal = f.signal([p[0] for p in pts], [p[1] for p in pts], marker=marker)
            f.draw(signal.lines() if len(pts) > 1 else signal)
            xs_all.append(pts[0][0])
            xs_all.append(pts[-1][0])
            drawn += 1
        if not drawn:
            why = "no positive values to draw on a log scale" if plot.log_y else "no data yet"
            return Text(why, style="dim")
        if plot.log_y:
            f.ruler("y").scale("log")
        ticks = plot.x_ticks_between(min(xs_all), max(xs_all), all(x == int(x) for x in xs_all))
        if ticks is not None:
            f.ruler("x").ticks(*ticks)
        if plot.y_ticks:
            f.ruler("y").ticks([t[0] for t in plot.y_ticks], [t[1] for t in plot.y_ticks])
        return Text.from_ansi(str(f.build()), no_wrap=True, end="")
