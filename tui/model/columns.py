"""The run table's columns: typed keys (a run field, a config key or a metric), one sort
direction rule, and what each cell of a run row says (pure Python over RunView snapshots)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from logger.textsafe import one_line

from ..fmt import fmt_ago, fmt_duration, fmt_number
from .console_tail import console_cell
from .runview import SPARK_WIDTH, STALLED_GLYPH, STATE_GLYPHS, RunView
from .stats import sparkline

VALUE_WIDTH = 9
METRIC_WIDTH = VALUE_WIDTH + 1 + SPARK_WIDTH
NARROW = 100  # cells: below this the name narrows so the essentials fit (80x24 is first-class)
MIN_NAME = 14
CONFIG_MIN = 10  # cells of a config column at least: any 32-bit seed (4294967295) whole, and
# fmt_number's short form (-3.142e-05); at 6, "seed" cut 1.23e+08 to "1.23e…", lr to "0.000…"


NEWEST_FIRST = frozenset({"created", "step", "runtime", "updated"})  # sorted high to low first


@dataclass(frozen=True)
class ColumnKey:
    """What a column shows: a run field ("state", "name", "step", ...; "created" sorts only),
    a flat config key, or a metric (the summary's last value, with a sparkline)."""

    kind: Literal["field", "config", "metric"]
    name: str

    @classmethod
    def field(cls, name: str) -> ColumnKey:
        return cls("field", name)

    @classmethod
    def config(cls, name: str) -> ColumnKey:
        return cls("config", name)

    @classmethod
    def metric(cls, name: str) -> ColumnKey:
        return cls("metric", name)

    @property
    def newest_first(self) -> bool:
        """The one sort-direction rule: times and steps sort high to low first, the rest A-Z."""
        return self.kind == "field" and self.name in NEWEST_FIRST

    def __str__(self) -> str:
        return self.name if self.kind == "field" else f"{self.kind}:{self.name}"


CREATED = ColumnKey.field("created")


@dataclass(frozen=True)
class Column:
    key: ColumnKey
    label: str
    width: int
    right: bool = False


def column_value(view: RunView, key: ColumnKey) -> Any:
    """What a run sorts by in a column (None: nothing to sort by)."""
    name = key.name
    if key.kind == "config":
        return view.config_flat.get(name)
    if key.kind == "metric":
        return view.metric_value(name)
    return _FIELD_VALUES[name](view) if name in _FIELD_VALUES else None


def run_cell(view: RunView, col: Column, now: float) -> tuple[str, str]:
    """(text, style name) of one cell of a run row; every string from a file made safe."""
    kind, name = col.key.kind, col.key.name
    if kind == "config":
        value = view.config_flat.get(name)
        if value is None and name not in view.config_flat:
            return "", ""
        return config_text(value, col.width), ""
    if kind == "metric":
        value = view.metric_value(name)  # blank when not logged yet; nan only when logged
        text = "" if value is None else fmt_number(value)
        spark = sparkline(view.sparks.get(name, ()), SPARK_WIDTH)
        return f"{text:>{VALUE_WIDTH}} {spark}", "metric"
    if name == "state":
        if view.stalled(now):
            return f"{STALLED_GLYPH} stalled", "state-stalled"
        return f"{STATE_GLYPHS.get(view.state, '?')} {one_line(view.state)}", f"state-{view.state}"
    if name == "name":
        if view.skipped_frames or view.errors:  # damaged frames or an unreadable segment
            return "⚠ " + one_line(view.name), "state-failed"
        return one_line(view.name), "name"
    if name == "step":
        return ("" if view.step is None else str(view.step)), ""
    if name == "runtime":
        return fmt_duration(view.runtime), ""
    if name == "updated":
        return fmt_ago(view.logged_at, now), "dim"
    if name == "gpu":
        return view.gpu, ""
    if name in ("console", "console_all"):  # the last console line (tui/model/console_tail.py)
        return console_cell(view.console, view.state, name == "console_all"), "dim"
    if name in _TEXT_FIELDS:
        return one_line(column_value(view, col.key)), _TEXT_FIELDS[name]
    return "", ""


def config_text(value: Any, width: int) -> str:
    """A config cell: an integer whole where the column has room (W&B's runs table shows
    ints whole; four digits made seeds 123456789 and 123456790 both read 1.23e+08), else
    and for floats the short form (the detail screen has the exact value)."""
    if type(value) is int:
        whole = str(value)
        if len(whole) <= width:
            return whole
    return fmt_number(value)


_FIELD_VALUES: dict[str, Callable[[RunView], Any]] = {
    "created": lambda v: v.created_at, "state": lambda v: v.state, "name": lambda v: v.name,
    "project": lambda v: v.project, "notes": lambda v: v.notes, "tags": lambda v: ",".join(v.tags),
    "step": lambda v: v.step, "runtime": lambda v: v.runtime, "updated": lambda v: v.logged_at,
    "gpu": lambda v: v.gpu or None,
    "sweep": lambda v: v.sweep_id or "",
}
_TEXT_FIELDS = {"project": "dim", "tags": "tags", "notes": "notes", "sweep": "dim"}  # field -> cell style


def sortable(value: Any) -> tuple[int, Any]:
    """Mixed types sort without TypeError: numbers, then strings, then the rest by repr."""
    if isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, (int, float)):
        return (0, value if not math.isnan(value) else -math.inf)
    if isinstance(value, str):
        return (1, value.lower())
    return (2, repr(value))


def abbreviate(key: str, width: int) -> str:
    """A config key's header in `width` cells: whole if it fits, else its last dotted part,
    then its words shortened to initials but the last (learning_rate -> l_rate), then cut."""
    key = one_line(key)
    if len(key) <= width:
        return key
    tail = key.rsplit(".", 1)[-1] or key
    if len(tail) <= width:
        return tail
    words = [w for w in tail.replace("-", "_").split("_") if w]
    short = "_".join([w[0] for w in words[:-1]] + words[-1:]) if len(words) > 1 else tail
    return short if len(short) <= width else short[: max(1, width - 1)] + "…"


def table_columns(width: int, *, projects: bool, sweeps: bool, config: tuple[str, ...],
                  metrics: list[Column]) -> list[Column]:
    """The table's columns for `width` cells. State, name, the first metric with its
    sparkline, step and "updated" come first, so that 80 columns show them without scrolling;
    then the project (when the root holds several), config keys, the other metrics, the rest."""
    field = ColumnKey.field
    narrow = width < NARROW
    cols = [Column(field("state"), "state", 10)]
    if projects:
        cols.append(Column(field("project"), "project", 9 if narrow else 12))
    cols += metrics[:1]
    cols += [Column(field("step"), "step", 7, True), Column(field("updated"), "updated", 8, True)]
    # The name takes what the essentials leave (gutter 2, one space after each column).
    used = 2 + sum(c.width + 1 for c in cols) + 1
    name = max(MIN_NAME, min(22, width - used)) if narrow else 22
    cols.insert(1, Column(field("name"), "name", name))
    if sweeps:
        cols.append(Column(field("sweep"), "sweep", 10))
    for key in config:
        size = min(10 if narrow else 16, max(CONFIG_MIN, len(key) + 1))
        cols.append(Column(ColumnKey.config(key), abbreviate(key, size), size, True))
    cols += metrics[1:]
    cols += [Column(field("runtime"), "runtime", 8, True), Column(field("tags"), "tags", 16),
             Column(field("notes"), "notes", 24)]
    return cols
