"""Chart: a plotext 6 line chart as a Textual widget (textual-plotext pins plotext<6).

The screen sets `plot` (a frozen Plot of already-decimated lines), `legend_page` and
`cursor`; `render()` rebuilds plotext's one global figure at the widget's size, in the
terminal's colour system. Wheel, drag and pointer moves become messages (ZoomAt, PanBy,
CursorAt) that the screen turns into chart options. Titles and legends are drawn here as
plain Rich text, never handed to plotext, so a metric name from a file cannot inject
escape sequences into the ANSI that plotext emits.
"""

from __future__ import annotations

import math
import sys
import time
import types
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from logger.textsafe import one_line

from ..fmt import short_number
from ..model.palette import DIM, dimmed, for_system, legend_page, shorten, style
from ..model.plot import Line, Plot
from ..model.zoom import readout

_plt: Any = None
PAGE_MARK = 8  # "2/3 p›": the legend's page, and the key that turns it


def plotext() -> Any:
    """plotext, imported on first use (130 ms) and told not to clamp to the terminal size."""
    global _plt
    if _plt is None:
        # Its interactive documentation (plotext.doc: 120-220 ms of import), its self-tests
        # (unittest) and Pillow (image plots: ~40 ms) are never used here: not loaded.
        for name, attr in (("plotext._doc.doc", "docs"), ("plotext._tests.run", "test")):
            stub: Any = sys.modules.setdefault(name, types.ModuleType(name))
            setattr(stub, attr, getattr(stub, attr, None))
        _without_pillow("plotext._settings.system")  # plotext: Image = None
        import plotext as plt  # type: ignore[import-untyped]

        plt.terminal.limit(False, False)  # else a 120x40 widget draws 80x22 (STACK.md)
        _plt = plt
    return _plt


def _without_pillow(name: str) -> None:
    """Run plotext's module of optional imports with Pillow unseen by it alone. Hiding PIL in
    sys.modules instead failed any thread importing it meanwhile (the media panel's worker)."""
    import builtins
    import importlib.util
    import os

    if name in sys.modules or "plotext" in sys.modules:
        return
    found = importlib.util.find_spec("plotext")
    where = list(found.submodule_search_locations or []) if found else []
    path = os.path.join(where[0], *name.split(".")[1:]) + ".py" if where else ""
    spec = importlib.util.spec_from_file_location(name, path) if os.path.isfile(path) else None
    if spec is None or spec.loader is None:
        return  # another plotext layout: it imports Pillow itself
    module = importlib.util.module_from_spec(spec)
    module.__builtins__ = {**vars(builtins), "__import__": _no_pillow}  # type: ignore[attr-defined]
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def _no_pillow(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    import builtins

    if level == 0 and (name == "PIL" or name.startswith("PIL.")):
        raise ImportError(f"{name} is not loaded for plotext (image plots are not used here)")
    return builtins.__import__(name, globals, locals, fromlist, level)


class Chart(Widget):
    """Draws a Plot. Set `plot` to a new Plot to redraw; nothing redraws on its own."""

    DEFAULT_CSS = """
    Chart { height: 1fr; min-height: 6; }
    """

    plot: reactive[Plot | None] = reactive(None)
    legend_page: reactive[int] = reactive(0)
    cursor: reactive[float | None] = reactive(None)  # inspect: a fraction of the x window

    class ZoomAt(Message):
        """The wheel turned over the plot: zoom by `factor` around `at` (0-1 of the window)."""

        def __init__(self, factor: float, at: float) -> None:
            super().__init__()
            self.factor, self.at = factor, at

    class PanBy(Message):
        """A drag moved the plot by `by` window widths (positive: to later x)."""

        def __init__(self, by: float) -> None:
            super().__init__()
            self.by = by

    class CursorAt(Message):
        """The pointer is over the plot at `at` (0-1 of the window)."""

        def __init__(self, at: float) -> None:
            super().__init__()
            self.at = at

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.builds = 0
        self.last_build_ms = 0.0
        self.legend_pages = 1
        self._area: tuple[int, int, int] | None = None  # (first row, left, right) of the plot
        self._drag: int | None = None

    def on_mount(self) -> None:
        plotext()  # 130 ms of import, paid when the screen opens rather than in a redraw

    def _system(self) -> str | None:
        try:
            return self.app.console.color_system
        except Exception:  # no app (a bare render in a test): 256 colours
            return "256"

    def render(self) -> RenderableType:
        plot = self.plot
        width, height = self.size
        if plot is None:
            return Text("loading…")
        system = self._system()
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(one_line(plot.title), style="bold")
        if plot.note:
            head.append(f"  {plot.note}", style="dim")
        parts: list[RenderableType] = [head]
        x = self._cursor_x(plot)
        values: list[float | None] | None = None
        if x is not None:  # inspect: the x under the cursor, each run's value in the legend
            head.append(f"  x={short_number(x)}", style="bold")
            values = [v for _label, _color, v in readout(plot.lines, x)]
        legend = self._legend(plot, system, width, 1 if height < 10 else 2 if height < 15 else 3,
                              values)
        body_height = height - len(parts) - len(legend)
        if plot.message or body_height < 3 or width < 20:
            self._area = None
            return Group(head, Text(plot.message or "", style="dim"))
        t0 = time.perf_counter()
        body, area = self._build(plot, width, body_height, system, x)
        self.last_build_ms = (time.perf_counter() - t0) * 1000
        self.builds += 1
        self._area = (len(parts), *area) if area else None
        return Group(*parts, body, *legend)

    def _cursor_x(self, plot: Plot) -> float | None:
        if self.cursor is None or plot.x_range is None or plot.message:
            return None
        lo, hi = plot.x_range
        return lo + (hi - lo) * self.cursor

    def _legend(self, plot: Plot, system: str | None, width: int, rows: int,
                values: list[float | None] | None = None) -> list[Text]:
        """Every run (with its value at the inspect cursor), wrapped over `rows` rows, names
        shortened in the middle until they fit; paged when even short ones do not (`p`)."""
        labelled = [line for line in plot.lines if line.label]
        if not labelled:
            return []
        shown_values = [""] * len(labelled) if values is None else [
            " —" if v is None else f" {v:.4g}" for v in values]
        full = [one_line(line.label or "") for line in labelled]
        names = full
        for most in (28, 22, 16, 12):  # shorter names, while they still tell runs apart
            short = shorten(full, most)
            if len(set(short)) < len(set(full)):
                break
            names = short
            widths = [len(n) + len(v) + 4 for n, v in zip(names, shown_values)]
            shown, page, pages = legend_page(widths, width + 2, rows, self.legend_page)
            if pages == 1:
                break
        if pages > 1:
            shown, page, pages = legend_page(widths, width + 2 - PAGE_MARK, rows, self.legend_page)
        self.legend_pages = pages
        out = [Text(no_wrap=True, overflow="ellipsis")]
        used = 0
        for i in shown:
            if used and used + widths[i] > width + 2 - (PAGE_MARK if pages > 1 else 0):
                out.append(Text(no_wrap=True, overflow="ellipsis"))
                used = 0
            line = labelled[i]
            out[-1].append("■ ", style=style(line.color, system))
            out[-1].append(names[i], style="dim" if line.dim else "")
            out[-1].append(shown_values[i] + "  ", style="bold")
            used += widths[i]
        if pages > 1:
            out[-1].append(f"{page + 1}/{pages} p›", style="dim")
        for row in out:
            row.rstrip()  # a row's last entry needs no gap after it
        return out

    @staticmethod
    def _color(line: Line, system: str | None) -> int | tuple[int, int, int]:
        return dimmed(line.color, system) if line.dim else for_system(line.color, system)

    @classmethod
    def _build(cls, plot: Plot, width: int, height: int, system: str | None,
               cursor: float | None) -> tuple[Text, tuple[int, int] | None]:
        plt = plotext()
        f = plt.figure
        f.clear()
        f.theme("simple")
        f.plot_size(width, height)
        xs_all: list[float] = []
        # Grey raw curves first, then dimmed runs, then the rest: no colour hides behind grey,
        # and a highlighted run is drawn over the others. (plot.lines keep the runs' order.)
        for line in sorted(plot.lines, key=lambda ln: (ln.color != DIM, not ln.dim)):
            pts = [(x, y) for x, y in zip(line.xs, line.ys)
                   if math.isfinite(x) and math.isfinite(y) and (y > 0 or not plot.log_y)]
            if not pts:
                continue
            pixel = plt.pixel(foreground=cls._color(line, system))
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            signal = f.signal(xs, ys, marker=plt.marker("braille").fill(pixel))
            f.draw(signal.lines() if len(pts) > 1 else signal)
            if line.marks or len(pts) == 1:
                f.draw(f.signal(xs, ys, marker=plt.marker("•").fill(pixel)))
            xs_all += (xs[0], xs[-1])
        if not xs_all:
            why = "no positive values to draw on a log scale" if plot.log_y else "no data yet"
            return Text(why, style="dim"), None
        if cursor is not None and plot.y_range is not None:
            pixel = plt.pixel(foreground=for_system(DIM, system))
            f.draw(f.signal([cursor, cursor], list(plot.y_range),
                            marker=plt.marker("braille").fill(pixel)).lines())
        cls._axes(f, plot, xs_all)
        out = str(f.build())
        first = out.split("\n", 1)[0]
        plain = Text.from_ansi(first).plain
        left, right = plain.find("┌"), plain.rfind("┐")
        return Text.from_ansi(out, no_wrap=True, end=""), (left, right) if 0 <= left < right else None

    @staticmethod
    def _axes(f: Any, plot: Plot, xs_all: list[float]) -> None:
        if plot.log_y:
            f.ruler("y").scale("log")
        if plot.x_range is not None:
            f.ruler("x").lim(*plot.x_range)
        if plot.y_range is not None:
            f.ruler("y").lim(*plot.y_range)
        lo, hi = plot.x_range or (min(xs_all), max(xs_all))
        whole = not plot.zoomed and all(x == int(x) for x in xs_all)
        ticks = plot.x_ticks_between(lo, hi, whole)
        if ticks is not None:
            f.ruler("x").ticks(*ticks)
        if plot.y_ticks:
            f.ruler("y").ticks([t[0] for t in plot.y_ticks], [t[1] for t in plot.y_ticks])

    # -- the mouse ---------------------------------------------------------------------------
    def _fraction(self, x: int, y: int | None = None) -> float | None:
        """Where cell column x falls in the plot, 0 (left edge) to 1; None off the plot."""
        if self._area is None:
            return None
        top, left, right = self._area
        if y is not None and y < top:
            return None
        if not left < x < right:
            return None
        return (x - left - 0.5) / max(1, right - left - 1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        at = self._fraction(event.x)
        if at is not None:
            event.stop()
            self.post_message(self.ZoomAt(0.8, at))

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        at = self._fraction(event.x)
        if at is not None:
            event.stop()
            self.post_message(self.ZoomAt(1.25, at))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self._fraction(event.x, event.y) is not None:
            self._drag = event.x
            self.capture_mouse()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._drag is not None:
            self._drag = None
            self.release_mouse()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._drag is not None and self._area is not None:
            moved = event.x - self._drag
            if moved:
                self._drag = event.x
                _top, left, right = self._area
                self.post_message(self.PanBy(-moved / max(1, right - left - 1)))
            return
        if self.cursor is not None:
            at = self._fraction(event.x, event.y)
            if at is not None:
                self.post_message(self.CursorAt(at))
