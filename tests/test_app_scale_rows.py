"""The app at scale (issue 14): every row first, as a listing reads it (snapshots, digests), with
the summary and state a full read gives; the histories (decimations) fill in after."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import logger
from logger.reader import RootReader
from tests.test_tui_support import write_run
from tui.model.decimate import points
from tui.model.store import RunStore


def _full(root: Path) -> dict[str, Any]:
    reader = RootReader(root)
    reader.scan()
    return {p: (r.state, r.summary_flat(), r.step, r.numeric_keys(), r.name, r.tags)
            for p, r in reader.runs.items()}


def _roots(root: Path) -> None:
    """Runs a listing must get right: snapshots, define_metric aggregates, a hand-set summary
    key, nested keys, a resume, a crash (no finish), and rows past the last snapshot."""
    run = logger.init(project="p", id="agg", dir=str(root), tags=["t"])
    run.define_metric("loss", summary="min,max,mean")
    for i in range(2000):
        run.log({"loss": 1.0 / (i + 1), "acc": i * 0.5, "opt": {"lr": 0.1 / (i + 1)}})
    run.summary["best"] = 7
    run.finish()
    first = logger.init(project="p", id="res", dir=str(root))
    for i in range(300):
        first.log({"loss": float(i)})
    first.finish()
    again = logger.init(project="p", id="res", dir=str(root), resume="allow")
    again.log({"loss": -1.0, "word": "w"})
    again.finish()
    for i in range(5):  # no snapshot, no finish: a writer that crashed
        write_run(root, f"crash{i}", project="p", state=None, pid=0, steps=400,
                  metrics=lambda s, i=i: {"loss": 1.0 / (s + 1 + i), "acc": s * 0.1})


def test_every_row_comes_first_with_the_summary_and_state_a_full_read_gives(tmp_path):
    root = tmp_path / "runs"
    _roots(root)
    posted: dict[str, Any] = {}
    store = RunStore(root, None, posted.update)
    store.first_pass()
    want = _full(root)
    got = {p: (v.state, v.summary, v.step, list(v.numeric_keys), v.name, v.tags)
           for p, v in posted.items()}
    assert got == want
    # Rows first: no history decoded into the decimations yet...
    lacking = store.with_runs(sorted(want), lambda runs: [bool(r.unfed()) for r in runs])
    assert all(lacking)
    store.fill_histories()
    # ...then filled in from disk: what a reader keeping every row would decimate.
    reader = RootReader(root)
    reader.scan()
    for path in want:
        ref = reader.runs[path].history
        xs, ys = ref.series("loss")
        got_pts = store.with_runs([path], lambda runs: points(runs[0], "loss"))
        assert sum(got_pts[4]) == len(ys)
        assert math.isclose(got_pts[1][-1], ys[-1]) and got_pts[0][-1] == xs[-1]
    assert store.with_runs(sorted(want), lambda runs: [r.unfed() for r in runs]) == [[]] * len(want)


def test_live_rows_reach_the_decimations_as_read_once_the_history_is_in(tmp_path):
    root = tmp_path / "runs"
    run = logger.init(project="p", id="live", dir=str(root))
    for i in range(100):
        run.log({"loss": float(i)})
    run._writer.flush()
    store = RunStore(root, None, lambda views: None)
    store.first_pass()
    store.fill_histories()
    for i in range(100, 150):
        run.log({"loss": float(i)})
    run.finish()
    store.ingest(sorted((root / "p" / "live").glob("*.rws")))
    pts = store.with_runs(["p/live"], lambda runs: (runs[0].unfed(), points(runs[0], "loss")))
    assert pts[0] == []  # nothing to read back: the new rows went straight to the sink
    assert sum(pts[1][4]) == 150 and pts[1][0][-1] == 149


async def test_the_app_shows_every_row_before_the_histories_are_in(tmp_path):
    """Drive the real app: at the first moment every run is in the table with the summary a
    full read gives, some run's history is not in the decimations yet; later all are."""
    from tui.app import RunwatchApp
    from tui.screens.main import MainScreen

    root = tmp_path / "runs"
    for i in range(120):
        write_run(root, f"run{i:04d}", project="p", steps=2000,
                  metrics=lambda s, i=i: {"loss": 1.0 / (s + 1 + i), "acc": s * 1e-3})
    want = _full(root)
    seen: dict[str, Any] = {}
    app = RunwatchApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.screen, MainScreen):
            await pilot.pause(0.01)
        store = app.screen.store

        def heard(views: dict[str, Any]) -> None:
            if "rows" in seen:
                return
            complete = len(store.views) == len(want) and all(
                v.summary == want[p][1] and v.state == want[p][0] for p, v in store.views.items())
            if complete:
                seen["rows"] = True
                seen["filled"] = store.filled
                seen["table"] = len(app.screen.model.views)

        store.subscribe(heard)
        heard({})
        for _ in range(3000):
            if store.filled and "rows" in seen:
                break
            await pilot.pause(0.01)
        assert seen.get("rows") and seen["filled"] is False
        assert store.filled
        lacking = store.with_runs(sorted(want), lambda runs: [r.unfed() for r in runs])
        assert lacking == [[]] * len(want)
