"""StatusLine: the run table's one line of state (root, counts, filter, group, marks, loading)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from logger.textsafe import one_line, safe_text

from ..model.store import RunStore
from ..model.table_model import ALL_BUT_SEED, NO_MATCH, SWEEP, TableModel


class StatusLine(Static):
    def __init__(self, **kwargs: str) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown = ""

    def show(self, model: TableModel, store: RunStore, baseline: str | None = None) -> None:
        """Say what the table shows; repaints only when the words changed."""
        text = status_text(model, store, baseline)
        if text.plain != self._shown:  # Static.update re-lays out the screen: only on change
            self._shown = text.plain
            self.update(text, layout=False)  # one line high (app.tcss): no re-layout of the screen


def status_text(m: TableModel, store: RunStore, baseline: str | None = None) -> Text:
    """The status line; `baseline` is the pinned run's path (named by its run's name)."""
    running = sum(1 for v in m.views.values() if v.state == "running")
    text = Text()
    text.append("runwatch ", style="bold")
    text.append(safe_text(str(store.root)))
    text.append(f"  {len(m.visible_runs)}/{len(m.views)} runs, {running} running")
    if m.filter_text and m.views and not m.visible_runs:
        text.append(f"  {NO_MATCH}", style="bold")
    if m.filter_text:
        text.append("  filter: ", style="bold")
        text.append(safe_text(m.filter_text))
    if m.group_keys:
        keys = "all but seed" if m.group_keys == ALL_BUT_SEED else ",".join(
            "sweep" if k == SWEEP else k for k in m.group_keys)
        text.append("  group: ", style="bold")
        text.append(safe_text(keys))
    if m.marked:
        text.append(f"  {len(m.marked)} marked", style="bold")
    pinned = m.views.get(baseline) if baseline else None
    if pinned is not None:
        text.append("  baseline: ", style="bold")
        text.append(one_line(pinned.name))
    if m.follow_newest:
        text.append("  following newest (F)", style="bold")
    if store.polling:
        text.append("  (polling)")
    if not store.filled and store.total_bytes:
        pct = 100 * store.loaded_bytes / store.total_bytes
        text.append(f"  loading histories {pct:.0f}%")
    return text
