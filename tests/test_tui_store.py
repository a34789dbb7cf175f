"""The RunStore that the App owns and hands to screens, the messages that carry its
snapshots, and the table's typed column keys."""

from __future__ import annotations

from tests.test_tui_support import sweep, write_run
from tui.messages import RunsChanged
from tui.model.columns import ColumnKey
from tui.model.store import RunStore
from tui.model.table_model import TableModel


def test_runs_changed_carries_its_snapshots_and_folds_a_burst(tmp_path):
    root = tmp_path / "runs"
    write_run(root, "a00001", name="a")
    write_run(root, "b00001", name="b")
    posted: dict = {}
    RunStore(root, None, posted.update).first_pass()
    a, b = posted["proj/a00001"], posted["proj/b00001"]
    older, newer = RunsChanged({a.path: a}), RunsChanged({b.path: b})
    assert older.can_replace(newer)  # the queue drops `older`: `newer` carries both
    assert newer.views == {a.path: a, b.path: b}


def test_the_store_applies_snapshots_tells_subscribers_and_runs_functions_over_runs(tmp_path):
    root = tmp_path / "runs"
    sweep(root, 3)
    batches: list[dict] = []
    store = RunStore(root, None, batches.append)
    store.first_pass()
    heard: list[set[str]] = []
    stop = store.subscribe(lambda views: heard.append(set(views)))
    for batch in batches:
        store.apply(batch)
    assert set(store.views) == {"proj/run000", "proj/run001", "proj/run002"}
    assert set().union(*heard) == set(store.views)
    names = store.with_runs(["proj/run002", "proj/gone", "proj/run000"],
                            lambda runs: [r.name for r in runs])
    assert names == ["run-2", "run-0"]
    assert store.metric_keys() == ["acc", "loss"]
    stop()
    store.apply({})
    assert len(heard) == len(batches)


def test_column_keys_are_typed_with_one_sort_direction_rule():
    model = TableModel()
    model.metrics = ("loss",)
    keys = {str(c.key): c.key for c in model.columns()}
    assert keys["metric:loss"] == ColumnKey.metric("loss") and keys["state"].kind == "field"
    for key, newest_first in ((ColumnKey.field("step"), True), (ColumnKey.field("name"), False),
                              (ColumnKey.metric("loss"), False), (ColumnKey.field("updated"), True)):
        model.sort_or_reverse(key)  # a header click
        assert (model.sort_key, model.sort_reverse) == (key, newest_first)
        model.sort_or_reverse(key)
        assert model.sort_reverse is not newest_first
        model.sort_by(key)  # the sort picker
        assert model.sort_reverse is newest_first
