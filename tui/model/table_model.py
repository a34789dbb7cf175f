"""The run table's model: which rows (filtered, grouped, sorted) and what each cell says.

Pure Python over RunView snapshots; the RunTable widget only draws what this returns. Every
string that came from a file goes through `logger.textsafe` here, before it is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logger.query import FilterError, compile_filter
from logger.textsafe import one_line

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
from .group_cells import group_cells
from .row_order import RUNTIME, Group, Row, RowOrder
from .runview import RunView
from .stats import hashable
from .system_plots import GPU_COLUMN

ALL_BUT_SEED = ("*",)  # group_keys value: every config key except seeds
SWEEP = "@sweep"  # a group_keys entry: the run's sweep, not a config key
AUTO_CONFIG_COLUMNS = 3  # config columns shown, when not grouping, for keys that vary
_UNSEEN = object()
_PLAIN = frozenset((str, int, float, bool, type(None)))  # config values hashable as they are
NO_MATCH = "no run matches the filter: / then ctrl+u clears it"  # said, not an empty table


def _aggregate_label(view: RunView, key: str) -> str | None:
    """`key.min` when the run's summary holds define_metric aggregates of `key`, else None."""
    value = view.summary.get(key)
    if type(value) is dict and value and "_type" not in value:
        return f"{key}.{next(iter(value))}"
    return None


def is_seed(key: str) -> bool:
    return "seed" in key.rsplit(".", 1)[-1].lower()


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
        self._seed_keys: dict[str, bool] = {}  # config key -> is_seed(key)
        self._config_runs = 0
        self.has_sweeps = False  # some run is a sweep's trial: the sweep column shows
        self._id_keys: tuple[int, frozenset[str]] = (-1, frozenset())
        # Per run, kept between rebuilds (a 10k-run rebuild was ~0.16 s, 14 of them while a
        # root loads; now what changed costs, and the rest is one pass and a sort):
        self._order = RowOrder()  # run rows sorted, kept between rebuilds (row_order.py)
        self._labels: dict[str, tuple[str, str | None]] = {}  # metric -> (label, run it came from)

    # -- input -------------------------------------------------------------------------------
    def update(self, views: dict[str, RunView]) -> None:
        self._order.changed(views)
        for path, view in views.items():
            old = self.views.get(path)
            if old is None or old.config_flat is not view.config_flat:
                self._epoch += 1
                self._note_config(view.config_flat, new_run=old is None)
            self.views[path] = view
            self._note_labels(path, view)
            self.has_sweeps = self.has_sweeps or view.sweep_id is not None
            self.projects.add(view.project)

    def _note_config(self, flat: dict[str, Any], new_run: bool) -> None:
        """Track which config keys vary, incrementally (10k runs: O(new), not O(all)); a
        key's seed test is kept, a plain value is its own hashable (10k runs: 22 -> 9 ms)."""
        if new_run:
            self._config_runs += 1
        first_value, key_runs, seeds = self._first_value, self._key_runs, self._seed_keys
        for k, v in flat.items():
            seed = seeds.get(k)
            if seed is None:
                seed = seeds[k] = is_seed(k)
            if seed:
                continue
            if type(v) in _PLAIN:
                hv = v
            else:
                try:
                    hv = hashable(v)
                    hash(hv)
                except TypeError:
                    continue
            first = first_value.get(k, _UNSEEN)
            if first is _UNSEEN:
                first_value[k] = hv
                key_runs[k] = 0
            elif first != hv:
                self._varying.add(k)
            if new_run:
                key_runs[k] += 1

    def set_filter(self, text: str) -> None:
        """Raises FilterError (with the part at fault: bad syntax, a state no run can have,
        `<` against a word, a key no run has) and keeps the old filter on a bad one."""
        predicate = compile_filter(text, self.views.values())
        self.filter_text = text.strip()
        self._predicate = predicate
        self._matched.clear()

    def filter_problem(self, text: str) -> str:
        """Why set_filter would refuse `text` ("" when it would take it), without setting it."""
        try:
            compile_filter(text, self.views.values())
        except FilterError as exc:
            return str(exc)
        return ""

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
                self.rows = [self._order.run_row(v) for v in self._sorted(visible)]
            else:
                self.rows = self._order.every_run(self.views, self.sort_key, self.sort_reverse)
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
                rows.extend(self._order.run_row(v) for v in self._sorted(group.runs))
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

    def _sorted(self, views: list[RunView]) -> list[RunView]:
        return self._order.sorted(views, self.sort_key, self.sort_reverse)

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
        """(text, style name) per column for a group row (tui/model/group_cells.py)."""
        return group_cells(row, self.cols, row.key in self.collapsed, now)

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
