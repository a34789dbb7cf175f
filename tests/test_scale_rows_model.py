"""Every row cheap at 10,000 runs (issue 14): the table model keys a run again only when its
snapshot changed, names metric columns without a scan per call, and gives the same rows as
sorting every run afresh."""

from __future__ import annotations

import random
from typing import Any

import pytest

import tui.model.row_order as ro
import tui.model.table_model as tm
from tui.model.columns import ColumnKey, column_value, sortable
from tui.model.runview import RunView
from tui.model.table_model import TableModel


def view(i: int, loss: float | None, version: int = 1, state: str = "finished",
         summary: dict[str, Any] | None = None) -> RunView:
    if summary is None:
        summary = {} if loss is None else {"loss": loss}
    return RunView(path=f"p/r{i}", id=f"r{i}", project="p", dir=None, name=f"run-{i % 7}",  # type: ignore[arg-type]
                   notes="", tags=(), group=None, job_type=None, config={"lr": i % 3},
                   config_flat={"lr": i % 3}, summary=summary, state=state, exit_code=0,
                   error=None, step=i, created_at=float(i), updated_at=float(i),
                   finished_at=float(i), version=version, numeric_keys=("loss",))


def brute(model: TableModel) -> list[str]:
    """The rows as sorting every run afresh gives them (the model's rule, written plainly)."""
    key = model.sort_key
    present = [(sortable(column_value(v, key)), v.path) for v in model.views.values()
               if column_value(v, key) not in (None, "")]
    present.sort(key=lambda p: p[0], reverse=model.sort_reverse)
    missing = [v.path for v in model.views.values() if column_value(v, key) in (None, "")]
    return [p for _, p in present] + missing


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]

    def counting(v: RunView, key: ColumnKey) -> Any:
        calls[0] += 1
        return column_value(v, key)

    monkeypatch.setattr(ro, "column_value", counting)
    return calls


def test_a_rebuild_keys_only_the_runs_whose_snapshot_changed(counted: list[int]) -> None:
    model = TableModel()
    model.metrics = ("loss",)
    model.update({v.path: v for v in (view(i, i * 0.5) for i in range(2000))})
    model.rebuild()
    for sort in (ColumnKey.metric("loss"), ColumnKey.field("name"), tm.CREATED):
        model.sort_by(sort)
        model.rebuild()
        counted[0] = 0
        changed = view(5, 0.01, version=2)
        model.update({changed.path: changed})
        rows = model.rebuild()
        assert counted[0] <= 2, f"{counted[0]} runs keyed again for one changed run ({sort})"
        assert [r.key for r in rows] == brute(model)
        assert next(r for r in rows if r.key == changed.path).run is changed


def test_rows_stay_those_of_a_fresh_sort_through_random_updates(counted: list[int]) -> None:
    rng = random.Random(1)
    model = TableModel()
    model.metrics = ("loss",)
    model.update({v.path: v for v in (view(i, rng.choice([None, 1.0, 2.0, rng.random()]))
                                      for i in range(300))})
    sorts = [ColumnKey.metric("loss"), ColumnKey.field("name"), ColumnKey.field("step"),
             ColumnKey.config("lr"), tm.CREATED]
    for round_ in range(40):
        if round_ % 7 == 0:
            model.sort_or_reverse(rng.choice(sorts))
        batch = [view(rng.randrange(320), rng.choice([None, 0.5, rng.random()]), version=round_ + 2)
                 for _ in range(rng.randrange(1, 20))]
        model.update({v.path: v for v in batch})
        counted[0] = 0
        rows = model.rebuild()
        assert [r.key for r in rows] == brute(model)
        assert round_ % 7 == 0 or counted[0] <= len(batch)  # a new sort column keys every run
        assert all(r.run is model.views[r.key] for r in rows)


def test_metric_columns_are_named_without_a_scan_of_every_run_per_rebuild() -> None:
    reads = [0]

    class Summary(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            reads[0] += 1
            return super().get(key, default)

    model = TableModel()
    model.metrics = ("loss",)
    model.update({v.path: v for v in (view(i, None, summary=Summary(loss=float(i)))
                                      for i in range(1000))})
    model.rebuild()
    reads[0] = 0
    for _ in range(5):
        model.rebuild()
    assert reads[0] < 50, f"{reads[0]} summary reads for 5 rebuilds of 1000 runs"
    assert model.cols[2].label == "loss"
    # a run that now summarises loss with define_metric names the column...
    agg = view(3, None, version=2, summary={"loss": {"min": 0.1}})
    model.update({agg.path: agg})
    model.rebuild()
    assert [c.label for c in model.cols if c.key == ColumnKey.metric("loss")] == ["loss.min"]
    # ...until it no longer does
    plain = view(3, 0.2, version=3)
    model.update({plain.path: plain})
    model.rebuild()
    assert [c.label for c in model.cols if c.key == ColumnKey.metric("loss")] == ["loss"]
