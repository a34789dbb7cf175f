"""The run table's model: which rows (filtered, grouped, sorted) and what each cell says.

Pure Python over RunView snapshots; the RunTable widget only draws what this returns. Every
string that came from a file goes through `logger.textsafe` here, before it is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter, not_
from typing import Any

from logger.query import FilterError, compile_filter
from logger.textsafe import one_line

from ..fmt import fmt_mean_std
from .columns import (
    CREATED,
    METRIC_WIDTH,
    Column,
    ColumnKey,
    column_value,
    fmt_ago,
    fmt_number,
    run_cell,
    sortable,
    table_columns,
)
from .console_tail import CONSOLE_COLUMNS
from .runview import STALLED_GLYPH, STATE_GLYPHS, RunView
from .stats import hashable, mean_std
from .system_plots import GPU_COLUMN

ALL_BUT_SEED = ("*",)  # group_keys value: every config key except seeds
SWEEP = "@sweep"  # a group_keys entry: the run's sweep, not a config key
AUTO_CONFIG_COLUMNS = 3  # config columns shown, when not grouping, for keys that vary
_UNSEEN = object()
NO_MATCH = "no run matches the filter: / then ctrl+u clears it"  # said, not an empty table


RUNTIME = ColumnKey.field("runtime")
Keyed = tuple[tuple[int, Any], int, "Row"]  # sort value, first-seen tie-break, the run's row
TIE = itemgetter(1)


def _aggregate_label(view: RunView, key: str) -> str | None:
    """`key.min` when the run's summary holds define_metric aggregates of `key`, else None."""
    value = view.summary.get(key)
    if type(value) is dict and value and "_type" not in value:
        return f"{key}.{next(iter(value))}"
    return None


def is_seed(key: str) -> bool:
    return "seed" in key.rsplit(".", 1)[-1].lower()


@dataclass
class Group:
    key: Any
    label: str
    runs: list[RunView] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # group-by key -> value


@dataclass(frozen=True)
class Row:
    kind: str  # "run" | "group"
    key: str  # run path, or "group:<label>"
    run: RunView | None = None
    group: Group | None = None


class TableModel:
    """Runs in, rows and cells out. The screen sets the options; `rebuild()` applies them."""

    def __init__(self) -> None:
        self.views: dict[str, RunView] = {}
        self.rows: list[Row] = []
        self.groups: dict[Any, Group] = {}
        self.filter_text = ""
        self._predicate: Callable[[Any], bool] = lambda run: True
        self._matched: dict[str, tuple[int, bool]] = {}
        self.group_keys: tuple[str, ...] = ()
        self.collapsed: set[str] = set()
        self.sort_key = CREATED
        self.sort_reverse = CREATED.newest_first
        self.metrics: tuple[str, ...] = ()
        self.marked: set[str] = set()
        self.width = 120  # cells the table has (the widget says): columns fit it
        self.projects: set[str] = set()  # a project column when there are several
        self.follow_newest = False  # the cursor stays on the newest run (the screen moves it)
        self._config_cols: tuple[str, ...] = ()
        self._config_epoch: Any = -1
        self._epoch = 0  # grows when a run arrives or its config changes
        self.visible_runs: list[RunView] = []
        self.cols: list[Column] = []
        self._first_value: dict[str, Any] = {}
        self._varying: set[str] = set()
        self._key_runs: dict[str, int] = {}
        self._config_runs = 0
        self.has_sweeps = False  # some run is a sweep's trial: the sweep column shows
        self._id_keys: tuple[int, frozenset[str]] = (-1, frozenset())
        # Per run, kept between rebuilds (a 10k-run rebuild was ~0.16 s, 14 of them while a
        # root loads; now what changed costs, and the rest is one pass and a sort):
        self._sort_keys: dict[str, tuple[RunView, tuple[int, Any] | None]] = {}  # for...
        self._sort_for: ColumnKey | None = None  # ...this sort column (filtered or grouped)
        self._rows: dict[str, Row] = {}  # path -> its run row (the same while its view is)
        self._seq: dict[str, int] = {}  # path -> when first seen (ties sort in this order)
        self._changed: set[str] = set()  # runs updated since the last flat rebuild, which...
        self._keyed: dict[str, Keyed] = {}  # ...keeps runs with a value
        self._unkeyed: dict[str, Row] = {}  # ...and those without one (listed last)
        self._ordered: list[Keyed] = []  # ...sorted (the next sort's nearly sorted input)
        self._unkeyed_rows: list[Row] | None = []  # ...in first-seen order (None: to sort)
        self._keyed_for: tuple[ColumnKey, bool] | None = None  # ...for this sort column
        self._labels: dict[str, tuple[str, str | None]] = {}  # metric -> (label, run it came from)

    # -- input -------------------------------------------------------------------------------
    def update(self, views: dict[str, RunView]) -> None:
        for path, view in views.items():
            old = self.views.get(path)
            if old is None or old.config_flat is not view.config_flat:
                self._epoch += 1
                self._note_config(view.config_flat, new_run=old is None)
            if old is None:
                self._seq[path] = len(self._seq)
            self.views[path] = view
            self._changed.add(path)
            self._note_labels(path, view)
            self.has_sweeps = self.has_sweeps or view.sweep_id is not None
            self.projects.add(view.project)

    def _note_config(self, flat: dict[str, Any], new_run: bool) -> None:
        """Track which config keys vary, incrementally (10k runs: O(new), not O(all))."""
        if new_run:
            self._config_runs += 1
        for k, v in flat.items():
            if is_seed(k):
                continue
            try:
                hv = hashable(v)
                hash(hv)
            except TypeError:
                continue
            first = self._first_value.get(k, _UNSEEN)
            if first is _UNSEEN:
                self._first_value[k] = hv
                self._key_runs[k] = 0
            elif first != hv:
                self._varying.add(k)
            if new_run:
                self._key_runs[k] += 1

    def set_filter(self, text: str) -> None:
        """Raises FilterError (with the part at fault: bad syntax, a state no run can have,
        `<` against a word, a key no run has) and keeps the old filter on a bad one."""
        predicate = compile_filter(text, self.views.values())
        self.filter_text = text.strip()
        self._predicate = predicate
        self._matched.clear()

    def matches(self, view: RunView) -> bool:
        hit = self._matched.get(view.path)
        if hit is not None and hit[0] == view.version:
            return hit[1]
        try:
            ok = bool(self._predicate(view))
        except FilterError:
            ok = False
        self._matched[view.path] = (view.version, ok)
        return ok

    # -- columns -----------------------------------------------------------------------------
    def config_columns(self) -> tuple[str, ...]:
        if self.group_keys and self.group_keys != ALL_BUT_SEED:
            return tuple(k for k in self.group_keys if k != SWEEP)
        if self._config_epoch != (self._epoch, self.group_keys):
            self._config_epoch = (self._epoch, self.group_keys)
            keys = self.varying_keys()
            if self.group_keys:
                ids = self.id_keys()
                keys = tuple(k for k in keys if k not in ids)
            self._config_cols = keys[:AUTO_CONFIG_COLUMNS if not self.group_keys else 6]
        return self._config_cols

    def id_keys(self) -> frozenset[str]:
        """Config keys that differ in every run (a timestamp, a unique id): grouping by "every
        key but the seed" leaves them out, else every run is a group of one. Only when some
        seed or some other key varies, so that a plain sweep of one run per lr keeps lr."""
        if self._id_keys[0] == self._epoch:
            return self._id_keys[1]
        values: dict[str, set[Any]] = {}
        counts: dict[str, int] = {}
        seeds: dict[str, set[Any]] = {}
        for view in self.views.values():
            for k, v in view.config_flat.items():
                try:
                    hv = hashable(v)
                    hash(hv)
                except TypeError:
                    continue
                (seeds if is_seed(k) else values).setdefault(k, set()).add(hv)
                counts[k] = counts.get(k, 0) + 1
        unique = {k for k, vs in values.items() if counts[k] >= 2 and len(vs) == counts[k]}
        vary = any(len(vs) > 1 for vs in seeds.values()) or any(
            len(vs) > 1 for k, vs in values.items() if k not in unique)
        found = frozenset(unique if vary else ())
        self._id_keys = (self._epoch, found)
        return found

    def varying_keys(self, limit: int | None = None) -> tuple[str, ...]:
        """Config keys whose value differs between runs, or that some runs lack (seeds left
        out), in first-seen order."""
        runs = self._config_runs
        varying = [k for k in self._first_value
                   if k in self._varying or self._key_runs[k] < runs]
        return tuple(varying[:limit] if limit else varying)

    def all_config_keys(self) -> list[str]:
        keys: dict[str, None] = {}
        for view in self.views.values():
            keys.update(dict.fromkeys(view.config_flat))
        return sorted(keys)

    def all_metric_keys(self) -> list[str]:
        keys: dict[str, None] = {}
        for view in self.views.values():
            keys.update(dict.fromkeys(view.numeric_keys))
        return sorted(keys)

    def columns(self) -> list[Column]:
        metrics = []
        for key in self.metrics:
            if key == GPU_COLUMN:  # offered by the metric picker beside the logged keys
                metrics.append(Column(ColumnKey.field("gpu"), "GPU", 16))
            elif key in CONSOLE_COLUMNS:  # the last console line, offered beside the GPU column
                metrics.append(Column(ColumnKey.field(CONSOLE_COLUMNS[key][0]), CONSOLE_COLUMNS[key][1], 40))
            else:
                metrics.append(Column(ColumnKey.metric(key), one_line(self.metric_label(key)),
                                      METRIC_WIDTH, True))
        return table_columns(self.width, projects=len(self.projects) > 1, sweeps=self.has_sweeps,
                             config=self.config_columns(), metrics=metrics)

    def set_width(self, width: int) -> bool:
        """The table is `width` cells wide now; True if its columns changed with it."""
        self.width = width
        cols = self.columns()
        if [(c.key, c.width) for c in cols] == [(c.key, c.width) for c in self.cols]:
            return False
        self.cols = cols
        return True

    def metric_label(self, key: str) -> str:
        """A metric column's name: `val/loss.min` when the runs summarise val/loss with
        define_metric (the cell shows that aggregate), else the key as logged. Found once
        over every run, then kept up to date by `update()` (columns() asks at each rebuild)."""
        known = self._labels.get(key)
        if known is None:
            known = self._labels[key] = (key, None)
            for view in self.views.values():
                label = _aggregate_label(view, key)
                if label is not None:
                    known = self._labels[key] = (label, view.path)
                    break
        return known[0]

    def _note_labels(self, path: str, view: RunView) -> None:
        """A run's new snapshot may give a metric its aggregate's name, or take it away."""
        for key, (label, source) in list(self._labels.items()):
            if source is None:
                found = _aggregate_label(view, key)
                if found is not None:
                    self._labels[key] = (found, path)
            elif source == path and _aggregate_label(view, key) != label:
                del self._labels[key]  # found again over every run when next asked

    def sort_options(self) -> list[tuple[ColumnKey, str]]:
        """(column key, label) of everything the table can sort by."""
        opts = [(CREATED, "created (newest first)")]
        opts += [(c.key, c.label) for c in self.columns()]
        return opts

    def sort_by(self, key: ColumnKey) -> None:
        self.sort_key = key
        self.sort_reverse = key.newest_first

    def sort_or_reverse(self, key: ColumnKey) -> None:
        """A header click: sort by that column, or reverse if it is the sort column already."""
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_by(key)

    # -- marks -------------------------------------------------------------------------------
    def toggle_mark(self, row: Row) -> None:
        """Mark the row's run (or every run of its group), or unmark if all are marked."""
        paths = {v.path for v in row.group.runs} if row.group else {row.key}
        if paths <= self.marked:
            self.marked -= paths
        else:
            self.marked |= paths

    def mark_visible(self) -> None:
        self.marked |= {v.path for v in self.visible_runs}

    def targets(self, row: Row | None) -> list[RunView]:
        """What an edit applies to: the marked runs, else the row's run or its group's runs."""
        if self.marked:
            return [self.views[p] for p in sorted(self.marked) if p in self.views]
        if row is None:
            return []
        if row.kind == "group" and row.group is not None:
            return list(row.group.runs)
        return [row.run] if row.run is not None else []

    # -- rows --------------------------------------------------------------------------------
    def rebuild(self) -> list[Row]:
        self.cols = self.columns()
        if self.filter_text:
            visible = [v for v in self.views.values() if self.matches(v)]
        else:
            visible = list(self.views.values())
        self.visible_runs = visible
        if not self.group_keys:
            self.groups = {}
            if self.filter_text or self.sort_key == RUNTIME:
                self.rows = [self._run_row(v) for v in self._sorted(visible)]
            else:
                self.rows = self._every_run_sorted()
            return self.rows
        groups: dict[Any, Group] = {}
        for view in visible:
            gkey, values = self._group_of(view)
            group = groups.get(gkey)
            if group is None:
                group = groups[gkey] = Group(gkey, self._group_label(values), values=values)
            group.runs.append(view)
        self.groups = groups
        rows: list[Row] = []
        for group in self._sorted_groups(list(groups.values())):
            rows.append(Row("group", "group:" + group.label, group=group))
            if rows[-1].key not in self.collapsed:
                rows.extend(self._run_row(v) for v in self._sorted(group.runs))
        self.rows = rows
        return rows

    def _group_of(self, view: RunView) -> tuple[Any, dict[str, Any]]:
        flat = view.config_flat
        if self.group_keys == ALL_BUT_SEED:
            ids = self.id_keys()
            items = {k: v for k, v in flat.items() if not is_seed(k) and k not in ids}
            gkey = tuple(sorted((k, repr(hashable(v))) for k, v in items.items()))
            shown = {k: items.get(k) for k in self.config_columns()}
            return gkey, shown
        values = {k: view.sweep_id if k == SWEEP else flat.get(k) for k in self.group_keys}
        return tuple(repr(hashable(v)) for v in values.values()), values

    @staticmethod
    def _group_label(values: dict[str, Any]) -> str:
        if not values:
            return "(same config)"
        return " ".join(f"{one_line('sweep' if k == SWEEP else k)}="
                        f"{fmt_number(v) if v is not None else '-'}" for k, v in values.items())

    def _run_row(self, view: RunView) -> Row:
        row = self._rows.get(view.path)
        if row is None or row.run is not view:
            row = self._rows[view.path] = Row("run", view.path, run=view)
        return row

    def _every_run_sorted(self) -> list[Row]:
        """Every run's row in the sort column's order, those without a value last, ties in
        first-seen order. Only runs updated since the last call are keyed again, and the
        sort starts from the last order (nearly sorted: Timsort merges; 10k runs ~2 ms)."""
        key, reverse = self.sort_key, self.sort_reverse
        keyed, unkeyed = self._keyed, self._unkeyed
        changed: Any = self._changed
        if (key, reverse) != self._keyed_for:
            keyed.clear()
            unkeyed.clear()
            self._ordered, self._unkeyed_rows = [], None
            self._keyed_for, changed = (key, reverse), self.views.keys()
        base = self._ordered
        if changed:
            fresh, stale = [], set()
            for path in changed:
                entry = self._key_run(path, key, reverse)
                was = keyed.get(path)
                if was is not None:
                    stale.add(was[1])  # its tie-break: unique to the run
                if entry is None:
                    keyed.pop(path, None)
                    if path not in unkeyed:  # a run newly without a value: where it goes
                        self._unkeyed_rows = None
                    unkeyed[path] = self._run_row(self.views[path])
                else:
                    if unkeyed.pop(path, None) is not None:
                        self._unkeyed_rows = None
                    keyed[path] = entry
                    fresh.append(entry)
            if stale:  # the runs keyed again, out of the last order (in C: ~0.5 ms for 10k)
                base = list(compress(base, map(not_, map(stale.__contains__, map(TIE, base)))))
            base += fresh
            self._changed = set()
        self._ordered = ordered = sorted(base, reverse=reverse)
        if self._unkeyed_rows is None:
            seq = self._seq
            self._unkeyed_rows = sorted(unkeyed.values(), key=lambda r: seq[r.key])
        else:  # same runs: their rows may be new ones
            self._unkeyed_rows = [unkeyed[r.key] for r in self._unkeyed_rows]
        return [*map(itemgetter(2), ordered), *self._unkeyed_rows]

    def _key_run(self, path: str, key: ColumnKey, reverse: bool) -> Keyed | None:
        """(sort value, tie-break, row) of a run; None when it has no value to sort by."""
        view = self.views[path]
        value = column_value(view, key)
        if value is None or value == "":
            return None
        seq = self._seq[path]
        return (sortable(value), -seq if reverse else seq, self._run_row(view))

    def _sorted(self, views: list[RunView]) -> list[RunView]:
        """Runs in the sort column's order, those without a value last (in their order)."""
        key = self.sort_key
        if key != self._sort_for:
            self._sort_keys, self._sort_for = {}, key
        keys = self._sort_keys
        timed = key == RUNTIME  # a running run's runtime grows: never kept
        present: list[tuple[tuple[int, Any], RunView]] = []
        missing: list[RunView] = []
        for v in views:
            kept = keys.get(v.path)
            if kept is not None and kept[0] is v:
                sort_key = kept[1]
            else:
                value = column_value(v, key)
                sort_key = None if value is None or value == "" else sortable(value)
                if not (timed and v.state == "running"):
                    keys[v.path] = (v, sort_key)
            if sort_key is None:
                missing.append(v)
            else:
                present.append((sort_key, v))
        present.sort(key=itemgetter(0), reverse=self.sort_reverse)
        return [v for _, v in present] + missing

    def _sorted_groups(self, groups: list[Group]) -> list[Group]:
        key = self.sort_key

        def group_value(g: Group) -> Any:
            if key.kind == "config":
                return g.values.get(key.name, g.runs[0].config_flat.get(key.name))
            vals = [column_value(v, key) for v in g.runs]
            vals = [v for v in vals if v is not None and v != ""]
            if not vals:
                return None
            if all(isinstance(v, (int, float)) for v in vals):
                return sum(vals) / len(vals) if key.kind == "metric" else max(vals)
            return min(vals, key=sortable)

        present = [(group_value(g), g) for g in groups]
        have = [(sortable(v), g) for v, g in present if v is not None]
        none = [g for v, g in present if v is None]
        have.sort(key=lambda p: p[0], reverse=self.sort_reverse)
        return [g for _, g in have] + sorted(none, key=lambda g: g.label)

    # -- cells -------------------------------------------------------------------------------
    def run_cells(self, view: RunView, now: float) -> list[tuple[str, str]]:
        """(text, style name) per column for a run row."""
        out: list[tuple[str, str]] = []
        for col in self.cols:
            out.append(run_cell(view, col, now))
        return out

    def group_cells(self, row: Row, now: float) -> list[tuple[str, str]]:
        group = row.group
        assert group is not None
        out: list[tuple[str, str]] = []
        counts: dict[str, int] = {}
        for v in group.runs:
            state = "stalled" if v.stalled(now) else v.state
            counts[state] = counts.get(state, 0) + 1
        for col in self.cols:
            kind, arg = col.key.kind, col.key.name
            key = arg if kind == "field" else ""
            if key == "state":
                glyphs = {**STATE_GLYPHS, "stalled": STALLED_GLYPH}
                text = " ".join(f"{n}{glyphs[s]}" for s, n in counts.items() if s in glyphs)
                out.append((text, "group"))
            elif key == "name":
                arrow = "▸" if row.key in self.collapsed else "▾"
                n = len(group.runs)
                label = f"{arrow} {n} run{'s' if n != 1 else ''}"
                if not self.cols or not any(c.key.kind == "config" for c in self.cols):
                    label += f" {group.label}"  # else the config columns say it
                out.append((label, "group"))
            elif kind == "config":
                value = group.values.get(arg, group.runs[0].config_flat.get(arg))
                out.append((fmt_number(value) if value is not None else "", "group"))
            elif key == "sweep":
                sweeps = {v.sweep_id for v in group.runs}
                out.append((one_line(sweeps.pop() or "") if len(sweeps) == 1 else "", "dim"))
            elif key == "step":
                steps = [v.step for v in group.runs if v.step is not None]
                out.append((str(max(steps)) if steps else "", "group"))
            elif key == "updated":
                out.append((fmt_ago(max(v.logged_at for v in group.runs), now), "dim"))
            elif kind == "metric":
                out.append((self._metric_cell(group, arg), "group"))
            else:
                out.append(("", ""))
        return out

    @staticmethod
    def _metric_cell(group: Group, key: str) -> str:
        """Mean ± std of the runs that logged `key`: blank when none did, nan when all NaN."""
        logged = [x for x in (v.metric_value(key) for v in group.runs) if x is not None]
        if not logged:
            return ""
        m, s = mean_std(logged)
        return "nan" if math.isnan(m) else fmt_mean_std(m, s)

    def row_signature(self, row: Row, now: float) -> Any:
        """What a cached rendering of this row depends on (besides the columns)."""
        if row.kind == "run":
            v = row.run
            assert v is not None
            ago = fmt_ago(v.logged_at, now)
            runtime = int(v.runtime) if v.state == "running" else 0
            return (v.serial, row.key in self.marked, ago, runtime, v.stalled(now))
        group = row.group
        assert group is not None
        return (tuple(v.serial for v in group.runs), row.key in self.collapsed,
                fmt_ago(max(v.logged_at for v in group.runs), now),
                all(v.path in self.marked for v in group.runs))
