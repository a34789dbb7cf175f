"""The run table's rows in a sort column's order, kept between rebuilds (issue 14: a 10k-run
table re-sorted every run at each update, 14 times while a root loaded, ~0.16 s each).

Only runs whose snapshot changed since the last call are keyed again; the sort starts from
the last order (nearly sorted: Timsort merges, ~1 ms for 10k runs); ties keep the order runs
were first seen in; runs without a value to sort by come last. Pure Python, no Textual.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter, not_
from typing import Any

from .columns import ColumnKey, column_value, sortable
from .runview import RunView

RUNTIME = ColumnKey.field("runtime")  # a running run's runtime grows: never kept


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


Keyed = tuple[tuple[int, Any], int, Row]  # sort value, first-seen tie-break, the run's row
TIE = itemgetter(1)


class RowOrder:
    """Run rows sorted by a column, for every run (`every_run`) or some (`sorted`)."""

    def __init__(self) -> None:
        self._rows: dict[str, Row] = {}  # path -> its run row (the same while its view is)
        self._seq: dict[str, int] = {}  # path -> when first seen (ties sort in this order)
        self._changed: set[str] = set()  # runs updated since the last every_run(), which...
        self._keyed: dict[str, Keyed] = {}  # ...keeps runs with a value
        self._unkeyed: dict[str, Row] = {}  # ...and those without one (listed last)
        self._ordered: list[Keyed] = []  # ...sorted (the next sort's nearly sorted input)
        self._unkeyed_rows: list[Row] | None = []  # ...in first-seen order (None: to sort)
        self._keyed_for: tuple[ColumnKey, bool] | None = None  # ...for this sort column
        self._sort_keys: dict[str, tuple[RunView, tuple[int, Any] | None]] = {}  # sorted()'s...
        self._sort_for: ColumnKey | None = None  # ...for this sort column

    def changed(self, paths: Iterable[str]) -> None:
        """These runs have new snapshots (new runs among them)."""
        seq = self._seq
        for path in paths:
            if path not in seq:
                seq[path] = len(seq)
            self._changed.add(path)

    def run_row(self, view: RunView) -> Row:
        row = self._rows.get(view.path)
        if row is None or row.run is not view:
            row = self._rows[view.path] = Row("run", view.path, run=view)
        return row

    def every_run(self, views: dict[str, RunView], key: ColumnKey, reverse: bool) -> list[Row]:
        """Every run's row in `key`'s order (`views`: every run, as `changed` heard of them)."""
        keyed, unkeyed = self._keyed, self._unkeyed
        changed: Any = self._changed
        if (key, reverse) != self._keyed_for:
            keyed.clear()
            unkeyed.clear()
            self._ordered, self._unkeyed_rows = [], None
            self._keyed_for, changed = (key, reverse), views.keys()
        base = self._ordered
        if changed:
            fresh, stale = [], set()
            for path in changed:
                view = views[path]
                entry = self._key_run(view, key, reverse)
                was = keyed.get(path)
                if was is not None:
                    stale.add(was[1])  # its tie-break: unique to the run
                if entry is None:
                    keyed.pop(path, None)
                    if path not in unkeyed:  # a run newly without a value: where it goes
                        self._unkeyed_rows = None
                    unkeyed[path] = self.run_row(view)
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
        else:  # the same runs: their rows may be new ones
            self._unkeyed_rows = [unkeyed[r.key] for r in self._unkeyed_rows]
        return [*map(itemgetter(2), ordered), *self._unkeyed_rows]

    def _key_run(self, view: RunView, key: ColumnKey, reverse: bool) -> Keyed | None:
        """(sort value, tie-break, row) of a run; None when it has no value to sort by."""
        value = column_value(view, key)
        if value is None or value == "":
            return None
        seq = self._seq[view.path]
        return (sortable(value), -seq if reverse else seq, self.run_row(view))

    def sorted(self, views: list[RunView], key: ColumnKey, reverse: bool) -> list[RunView]:
        """`views` in `key`'s order, those without a value last (in their order); a run's
        sort value is kept while its snapshot is the same (filtered or grouped tables)."""
        if key != self._sort_for:
            self._sort_keys, self._sort_for = {}, key
        keys = self._sort_keys
        timed = key == RUNTIME
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
        present.sort(key=itemgetter(0), reverse=reverse)
        return [v for _, v in present] + missing
