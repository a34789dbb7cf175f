"""ImportanceScreen: which config keys matter for a metric, over the runs the table shows.

A table (importance share, rank correlation) and a parallel-coordinates chart of the most
important keys against the metric, the two views W&B's docs lead sweep users to.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from logger.textsafe import one_line

from ..model.param_importance import importance
from ..model.runview import RunView
from ..model.stats import hashable
from ..model.table_model import fmt_number
from ..widgets.chart import Chart, Line, Plot
from ..widgets.keybar import KeyBar
from .pick import PickScreen

if TYPE_CHECKING:
    from .main import MainScreen

AXES = 5  # config keys in the parallel-coordinates view
SCALE = (21, 33, 45, 226, 208, 196)  # metric low -> high, six bins


def bar(share: float, width: int = 12) -> str:
    full = max(0, min(width, round(share * width)))
    return "█" * full + "·" * (width - full)


def signed_bar(value: float, width: int = 6) -> str:
    if math.isnan(value):
        return " " * width + "│" + " " * width
    n = max(0, min(width, round(abs(value) * width)))
    left = " " * (width - n) + "█" * n if value < 0 else " " * width
    right = "█" * n + " " * (width - n) if value > 0 else " " * width
    return left + "│" + right


def axis(values: list[Any]) -> tuple[list[float], str]:
    """Values placed on [0, 1], and how the axis reads: numbers (log past 100x), or categories."""
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(nums) == len(values) and nums:
        lo, hi = min(nums), max(nums)
        if lo > 0 and hi / lo >= 100:
            llo, lhi = math.log10(lo), math.log10(hi)
            return ([(math.log10(v) - llo) / (lhi - llo) for v in nums],
                    f"{fmt_number(lo)} … {fmt_number(hi)} (log)")
        span = (hi - lo) or 1.0
        return [(v - lo) / span for v in nums], f"{fmt_number(lo)} … {fmt_number(hi)}"
    keys = sorted({repr(hashable(v)) for v in values})
    index = {k: i for i, k in enumerate(keys)}
    top = max(1, len(keys) - 1)
    cats = sorted({"-" if v is None else fmt_number(v) for v in values})
    return [index[repr(hashable(v))] / top for v in values], " | ".join(cats[:6])


class ImportanceScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "back", "back"),
        Binding("m", "metric", "metric"),
        Binding("question_mark", "app.help", "help"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, main: MainScreen, metric: str | None = None) -> None:
        super().__init__()
        self.main = main
        keys = list(main.model.metrics) or main.model.all_metric_keys()
        self.metric = metric or (keys[0] if keys else "")
        self.rows: list[tuple[str, float, float, int]] = []

    def compose(self) -> ComposeResult:
        yield Static(id="imp-title")
        yield DataTable(id="imp-table", cursor_type="row", zebra_stripes=True)
        yield Chart(id="imp-parallel")
        yield Static(id="imp-axes")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("config key", "importance", "correlation", "runs")
        self.recompute()

    def runs(self) -> list[RunView]:
        return [v for v in self.main.model.visible_runs if not math.isnan(v.metric(self.metric))]

    def recompute(self) -> None:
        runs = self.runs()
        metric = [v.metric(self.metric) for v in runs]
        self.rows = importance([v.config_flat for v in runs], metric)
        title = Text()
        title.append(f"Parameter importance for {one_line(self.metric)}", style="bold")
        title.append(f"  over {len(runs)} runs shown in the table (the filter applies)")
        self.query_one("#imp-title", Static).update(title)
        table = self.query_one(DataTable)
        table.clear()
        for key, share, corr, n in self.rows:
            table.add_row(Text(one_line(key)), Text(f"{bar(share)} {share:5.1%}"),
                          Text(f"{signed_bar(corr)} {'' if math.isnan(corr) else f'{corr:+.2f}'}"),
                          Text(str(n)))
        if not self.rows:
            table.add_row(Text("no config key varies across runs with this metric"),
                          Text(""), Text(""), Text(""))
        self._parallel(runs, metric)

    def _parallel(self, runs: list[RunView], metric: list[float]) -> None:
        keys = [r[0] for r in self.rows[:AXES]]
        chart = self.query_one("#imp-parallel", Chart)
        if not keys or len(runs) < 2:
            chart.plot = Plot("parallel coordinates", (), message="needs 2+ runs and a varying key")
            self.query_one("#imp-axes", Static).update("")
            return
        columns, legend = [], Text()
        for i, key in enumerate(keys + [self.metric]):
            values = ([v.config_flat.get(key) for v in runs] if i < len(keys) else metric)
            placed, reads = axis(values)
            columns.append(placed)
            legend.append(f"{i + 1}:{one_line(key, 20)} ", style="bold")
            legend.append(f"{reads}   ")
        order = sorted(range(len(runs)), key=lambda j: metric[j])
        bins = len(SCALE)
        lines = []
        for rank, j in enumerate(order):
            color = SCALE[min(bins - 1, rank * bins // len(order))]
            lines.append(Line(list(range(len(columns))), [c[j] for c in columns], color))
        ticks = tuple((float(i), str(i + 1)) for i in range(len(columns)))
        chart.plot = Plot(f"parallel coordinates: {len(keys)} keys and {self.metric}",
                          tuple(lines), x_ticks=ticks, y_ticks=((0.0, "min"), (1.0, "max")),
                          note="colour: blue = low metric, red = high")
        self.query_one("#imp-axes", Static).update(legend)

    def action_metric(self) -> None:
        keys = self.main.model.all_metric_keys()

        def done(picked: list[str] | None) -> None:
            if picked:
                self.metric = picked[0]
                self.recompute()

        self.app.push_screen(PickScreen("Importance for which metric", [(k, k) for k in keys],
                                        [self.metric]), done)

    def action_back(self) -> None:
        self.app.pop_screen()
