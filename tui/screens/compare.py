"""CompareScreen: the marked runs side by side against a baseline: the config keys that
differ, then every summary metric with its change from the baseline's value.

What it shows is computed by tui/model/compare.py from the store's snapshots; it redraws
when one of the runs changes (looked for once a second, while on top).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from ..model.compare import Comparison, compare
from ..model.store import RunStore
from ..widgets.keybar import KeyBar

CHECK_INTERVAL = 1.0


class CompareScreen(Screen[None]):
    DEFAULT_CSS = """
    CompareScreen #compare-title { height: auto; padding: 0 1; }
    CompareScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape,backspace", "back", "back"),
        Binding("B", "baseline", "baseline: this column"),
        Binding("question_mark", "app.help", "help"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, store: RunStore, paths: list[str], baseline: str | None) -> None:
        super().__init__()
        self.store = store
        self.paths = paths
        self.baseline = baseline if baseline in paths else paths[0]
        self.comparison: Comparison | None = None
        self._drawn: object = None

    def compose(self) -> ComposeResult:
        yield Static(id="compare-title")
        yield DataTable(id="compare-table", zebra_stripes=True, cursor_type="column")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(CHECK_INTERVAL, self._check)
        self._check()
        self.query_one(DataTable).focus()

    def _versions(self) -> tuple[object, ...]:
        views = self.store.views
        return (self.baseline, *(views[p].version if p in views else -1 for p in self.paths))

    def _check(self) -> None:
        if self.app.screen is not self:
            return
        versions = self._versions()
        if versions != self._drawn:
            self._drawn = versions
            self.redraw()

    def redraw(self) -> None:
        views = self.store.current(self.paths)
        base = self.store.views.get(self.baseline)
        if not views:
            return
        self.comparison = result = compare(views, base)
        self._title(result)
        table = self.query_one(DataTable)
        column = table.cursor_column
        table.clear(columns=True)
        table.add_column(Text("key", style="bold"), key="key")
        for i, name in enumerate(result.names):
            label = Text(name, style="bold")
            label.append(" (baseline)" if i == 0 else "", style="italic")
            table.add_column(label, key=result.paths[i])
        self._fill(table, result)
        table.move_cursor(column=min(column, len(result.names)))

    def _fill(self, table: DataTable[Text], result: Comparison) -> None:
        n = len(result.names)
        table.add_row(Text("config ≠", style="bold"), *[Text()] * n)
        if not result.config:
            table.add_row(Text("  (all same)", style="dim"), *[Text()] * n)
        for row in result.config:
            table.add_row(Text("  " + row.key), *[Text(v) for v in row.values])
        table.add_row(Text("summary Δ", style="bold"), *[Text()] * n)
        if not result.metrics:
            table.add_row(Text("  (none yet)", style="dim"), *[Text()] * n)
        for metric in result.metrics:
            cells = [Text(metric.values[0])]
            for value, delta, better in zip(metric.values[1:], metric.deltas, metric.better):
                cell = Text(value)
                if delta:
                    style = "green" if better is True else "red" if better is False else "dim"
                    cell.append(f" {delta}", style=style)
                cells.append(cell)
            table.add_row(Text("  " + metric.key), *cells)

    def _title(self, result: Comparison) -> None:
        text = Text()
        text.append(f"Comparing {len(result.names)} runs", style="bold")
        text.append(f" against baseline {result.names[0]}: config keys that differ "
                    f"({result.same_keys} more the same), summary deltas")
        text.append("\ngreen: better, red: worse (by name or define_metric) · "
                    "B on a run's column makes it the baseline", style="dim")
        self.query_one("#compare-title", Static).update(text)

    # -- actions -----------------------------------------------------------------------------
    def action_back(self) -> None:
        self.app.pop_screen()

    def action_baseline(self) -> None:
        """The run of the column under the cursor becomes the baseline."""
        result = self.comparison
        column = self.query_one(DataTable).cursor_column
        if result is None or not 1 <= column <= len(result.paths):
            self.notify("move to a run's column (←/→), then B makes it the baseline")
            return
        self.baseline = result.paths[column - 1]
        self._check()
        self.query_one(DataTable).move_cursor(column=1)
