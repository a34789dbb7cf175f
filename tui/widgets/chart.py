"""Chart: a plotext 6 line chart as a Textual widget (textual-plotext pins plotext<6).

The screen sets `plot` (a frozen Plot of already-decimated lines); `render()` rebuilds
plotext's one global figure at the widget's size. Titles and legends are drawn here as
plain Rich text, never handed to plotext, so a metric name from a file cannot inject
escape sequences into the ANSI that plotext emits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from logger.textsafe import one_line

PALETTE = (12, 10, 9, 14, 13, 11, 208, 141, 118, 203)  # 256-colour codes, one per run
DIM = 8  # the raw curve behind a smoothed one, and a group's band
_plt = None


def plotext():  # type: ignore[no-untyped-def]
    """plotext, imported on first use (130 ms) and told not to clamp to the terminal size."""
    global _plt
    if _plt is None:
        import plotext as plt

        plt.terminal.limit(False, False)  # else a 120x40 widget draws 80x22 (STACK.md)
        _plt = plt
    return _plt


@dataclass(frozen=True)
class Line:
    xs: Sequence[float]
    ys: Sequence[float]
    color: int
    label: str | None = None  # shown in the legend; None keeps it out


@dataclass(frozen=True)
class Plot:
    title: str
    lines: tuple[Line, ...]
    log_y: bool = False
    x_axis: str = "_step"  # "_step", "_runtime" (seconds since start) or "_timestamp"
    note: str = ""  # e.g. "smoothing 0.6" or "mean ± std of 12 runs"
    message: str = ""  # shown instead of a plot when there is nothing to draw
    x_ticks: tuple[tuple[float, str], ...] = ()  # fixed ticks (labels already made safe)
    y_ticks: tuple[tuple[float, str], ...] = ()


def duration_label(seconds: float) -> str:
    s = abs(seconds)
    if s < 120:
        return f"{seconds:.0f}s"
    if s < 7200:
        return f"{seconds / 60:.0f}m"
    if s < 172800:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def time_ticks(lo: float, hi: float, wall: bool, count: int = 5) -> tuple[list[float], list[str]]:
    if hi <= lo:
        hi = lo + 1
    pos = [lo + (hi - lo) * i / (count - 1) for i in range(count)]
    if not wall:
        return pos, [duration_label(p) for p in pos]
    fmt = "%H:%M:%S" if hi - lo < 600 else ("%H:%M" if hi - lo < 86400 else "%m-%d %H:%M")
    return pos, [time.strftime(fmt, time.localtime(p)) for p in pos]


def step_ticks(lo: float, hi: float, count: int = 6) -> tuple[list[float], list[str]]:
    """Round numbers across [lo, hi] (0, 250, 500, ... or 1.2k, 1.4k): steps are integers, and
    plotext's own ticks (0.5, 26.0, 51.5) read like fractions of a step."""
    span = hi - lo
    if span <= 0:
        return [lo], [_short_number(lo)]
    raw = span / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if step < 1:
        step = 1.0
    first = math.ceil(lo / step) * step
    pos = []
    x = first
    while x <= hi + 1e-9 and len(pos) < 2 * count:
        pos.append(x)
        x += step
    return pos, [_short_number(p) for p in pos]


def _short_number(value: float) -> str:
    a = abs(value)
    if a >= 1e6:
        return f"{value / 1e6:.4g}M"
    if a >= 1e4:
        return f"{value / 1e3:.4g}k"
    return f"{value:.0f}" if value == int(value) else f"{value:.3g}"


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
        if plot.x_ticks:
            f.ruler("x").ticks([t[0] for t in plot.x_ticks], [t[1] for t in plot.x_ticks])
        elif plot.x_axis in ("_runtime", "_timestamp"):
            pos, labels = time_ticks(min(xs_all), max(xs_all), plot.x_axis == "_timestamp")
            f.ruler("x").ticks(pos, labels)
        elif plot.x_axis == "_step" or all(x == int(x) for x in xs_all):
            # Decimated lines put points between steps (bucket centres): label whole steps.
            pos, labels = step_ticks(min(xs_all), max(xs_all))
            f.ruler("x").ticks(pos, labels)
        if plot.y_ticks:
            f.ruler("y").ticks([t[0] for t in plot.y_ticks], [t[1] for t in plot.y_ticks])
        return Text.from_ansi(str(f.build()), no_wrap=True, end="")
