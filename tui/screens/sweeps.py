"""SweepsScreen: each sweep under the root with its progress and its best trial so far.

Per sweep: done / running / failed / stopped trials (from its claim and result records,
logger/sweeps), the best value of its metric so far (the runs' live summaries from the
RunStore, else the agents' recorded results) and that trial's parameters. Enter opens the
importance and parallel-coordinates screen (i or enter) on the sweep's runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from logger.textsafe import one_line

from ..fmt import fmt_exact, fmt_number
from ..model.store import RunStore, Views
from ..widgets.keybar import KeyBar

REREAD_INTERVAL = 2.0  # seconds between re-reads of the sweeps' records (claims, results)
COUNTED = ("finished", "running", "failed", "stopped")  # the columns; the rest go to "other"


@dataclass
class SweepRow:
    """One sweep, as its records say (read in a worker; no RunData, no Textual)."""

    id: str
    project: str
    method: str
    control: str
    metric: str | None
    goal: str
    counts: dict[str, int]
    trials: list[dict[str, Any]] = field(default_factory=list)  # trial, state, run_id, params, metric
    error: str | None = None

    @property
    def paths(self) -> list[str]:
        """The run paths of its trials (as the RunStore names them)."""
        return [f"{self.project}/{t['run_id']}" for t in self.trials if t.get("run_id")]


def read_sweeps(root: Path) -> list[SweepRow]:
    """Every sweep under `root` (<project>/sweeps/<id>/sweep.json); an unreadable one is a
    row that says why, not an exception."""
    from logger.sweeps import sweep_summary
    from logger.sweeps.store import SWEEPS_DIR, Sweep

    rows: list[SweepRow] = []
    for config in sorted(root.glob(f"*/{SWEEPS_DIR}/*/sweep.json")):
        directory = config.parent
        try:
            found = Sweep(directory)
            s = sweep_summary(found)
        except (ValueError, OSError) as exc:  # SweepConfigError is a ValueError
            rows.append(SweepRow(directory.name, directory.parent.parent.name, "?", "?", None,
                                 "minimize", {}, error=f"{type(exc).__name__}: {exc}"))
            continue
        goal = str((found.config.get("metric") or {}).get("goal") or "minimize")
        rows.append(SweepRow(s["id"], s["project"], str(s["method"]), str(s["control"]),
                             s["metric"], goal, dict(s["counts"]), list(s["trials"])))
    return rows


def best_trial(row: SweepRow, views: Views) -> tuple[float, dict[str, Any]] | None:
    """(best metric value so far, that trial's parameters): a run's live summary where the
    store has it (running trials count too), else the value its agent recorded."""
    if not row.metric:
        return None
    best: tuple[float, dict[str, Any]] | None = None
    sign = -1.0 if row.goal == "maximize" else 1.0
    for t in row.trials:
        view = views.get(f"{row.project}/{t.get('run_id')}")
        value = view.metric(row.metric) if view is not None else math.nan
        if math.isnan(value) and isinstance(t.get("metric"), (int, float)):
            value = float(t["metric"])
        if not math.isnan(value) and (best is None or sign * value < sign * best[0]):
            best = (value, dict(t.get("params") or {}))
    return best


def row_cells(row: SweepRow, views: Views) -> list[Text]:
    """The table's cells for one sweep, every string from a file made safe."""
    counts = dict(row.counts)
    other = sum(n for s, n in counts.items() if s not in COUNTED)
    cells = [Text(one_line(f"{row.project}/{row.id}"))]
    cells += [Text(str(counts.get(s, 0))) for s in COUNTED]
    cells.append(Text(str(other)))
    best = best_trial(row, views) if not row.error else None
    metric = f"{one_line(row.metric)} ({'max' if row.goal == 'maximize' else 'min'})" if row.metric else "-"
    cells += [Text(metric), Text(fmt_number(best[0]) if best else "-")]
    return [*cells, Text(one_line(row.method)),
            Text(one_line(row.control if row.control != "resume" else "active"))]


def best_line(row: SweepRow, views: Views) -> Text:
    """Under the table, for the sweep at the cursor: its best trial's parameters (or its error)."""
    text = Text()
    text.append(one_line(f"{row.project}/{row.id}"), style="bold")
    if row.error:
        text.append(f"  unreadable: {one_line(row.error)}", style="red")
        return text
    best = best_trial(row, views)
    if best is None:
        text.append(f"  no trial has logged {one_line(row.metric)} yet" if row.metric
                    else "  has no metric to rank its trials by")
        return text
    text.append(f"  best {one_line(row.metric or '')} = {fmt_number(best[0])} with  ")
    # Every digit of the parameters: the line someone copies to rerun the best trial.
    text.append(" ".join(f"{one_line(k)}={fmt_exact(v)}" for k, v in best[1].items()))
    return text


class SweepsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "back", "back"),
        Binding("i", "importance", "importance (enter)"),
        Binding("question_mark", "app.help", "help"),
        Binding("q", "app.quit", "quit"),
    ]

    def __init__(self, store: RunStore) -> None:
        super().__init__()
        self.store = store
        self.rows: list[SweepRow] = []
        self._unsubscribe = lambda: None

    def compose(self) -> ComposeResult:
        yield Static(id="sweeps-title")
        yield DataTable(id="sweeps-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="sweeps-best")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("sweep", "done", "running", "failed", "stopped", "other", "metric",
                          "best", "method", "state")
        self._unsubscribe = self.store.subscribe(lambda _views: self._draw())
        self.set_interval(REREAD_INTERVAL, self.reread)
        self.reread()

    def on_unmount(self) -> None:
        self._unsubscribe()

    @work(thread=True, exclusive=True, group="sweeps")
    def reread(self) -> None:
        """The sweeps' records, read off the UI thread (a shared root may be slow)."""
        rows = read_sweeps(Path(self.store.root).expanduser())
        self.app.call_from_thread(self._took, rows)

    def _took(self, rows: list[SweepRow]) -> None:
        self.rows = rows
        self._draw()

    def _draw(self) -> None:
        title = Text()
        title.append("Sweeps", style="bold")
        title.append(f"  {len(self.rows)} under {one_line(str(self.store.root))}"
                     if self.rows else "  none under this root yet: `runwatch sweep config.yaml`")
        self.query_one("#sweeps-title", Static).update(title)
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in self.rows:
            table.add_row(*row_cells(row, self.store.views), key=f"{row.project}/{row.id}")
        if self.rows:
            table.move_cursor(row=min(cursor, len(self.rows) - 1))
        self._show_best()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_best()

    def _show_best(self) -> None:
        row = self.current()
        best = best_line(row, self.store.views) if row is not None else Text("")
        self.query_one("#sweeps-best", Static).update(best)

    def current(self) -> SweepRow | None:
        """The sweep at the cursor."""
        cursor = self.query_one(DataTable).cursor_row
        return self.rows[cursor] if self.rows and 0 <= cursor < len(self.rows) else None

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_importance()  # enter on the table (which takes enter before the screen)

    def action_importance(self) -> None:
        """Parameter importance and parallel coordinates over the chosen sweep's runs."""
        from .importance import ImportanceScreen

        row = self.current()
        if row is None:
            return
        self.app.push_screen(ImportanceScreen(self.store, row.paths, metric=row.metric or None))

    def action_back(self) -> None:
        self.app.pop_screen()
