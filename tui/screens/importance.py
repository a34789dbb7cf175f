"""ImportanceScreen: which config keys matter for a metric, over the runs the table shows.

A table (importance share, rank correlation) and a parallel-coordinates chart of the most
important keys against the metric, the two views W&B's docs lead sweep users to.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from logger.textsafe import one_line

from ..model.parallel import AXES, bar, parallel_plot, signed_bar
from ..model.param_importance import importance
from ..model.runview import RunView
from ..model.store import RunStore
from ..widgets.chart import Chart
from ..widgets.keybar import KeyBar
from .pick import PickScreen


class ImportanceScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "back", "back"),
        Binding("m", "metric", "metric"),
        Binding("question_mark", "app.help", "help"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, store: RunStore, paths: list[str], metric: str | None = None) -> None:
        """Importance over the runs of `paths` (the runs the table shows when it opens)."""
        super().__init__()
        self.store = store
        self.paths = paths
        keys = list(store.metrics) or store.metric_keys()
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
        return [v for v in self.store.current(self.paths) if not math.isnan(v.metric(self.metric))]

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
        plot, axes = parallel_plot([v.config_flat for v in runs], metric, keys, self.metric)
        self.query_one("#imp-parallel", Chart).plot = plot
        legend = Text()
        for label, reads in axes:
            legend.append(label + " ", style="bold")
            legend.append(f"{reads}   ")
        self.query_one("#imp-axes", Static).update(legend)

    def action_metric(self) -> None:
        keys = self.store.metric_keys()

        def done(picked: list[str] | None) -> None:
            if picked:
                self.metric = picked[0]
                self.recompute()

        self.app.push_screen(PickScreen("Importance for which metric", [(k, k) for k in keys],
                                        [self.metric]), done)

    def action_back(self) -> None:
        self.app.pop_screen()
