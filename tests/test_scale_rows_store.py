"""Every row cheap, and memory per run bounded by the screen (issue 14): the store finds a
root's segments with one scan of its run directories, a snapshot keeps a sparkline's drawn
levels (not every bucket mean), and a run's recent row times are kept as doubles."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.test_tui_support import write_run
from tui.model.columns import SPARK_WIDTH
from tui.model.decimate import RECENT, RunSeries
from tui.model.stats import sparkline
from tui.model.store import RunStore


def _store(root: Path, metrics: tuple[str, ...] = ()) -> tuple[RunStore, dict]:
    posted: dict = {}
    store = RunStore(root, post=posted.update)
    store._snapshots.metrics = metrics
    store._applied.set()  # no UI to wait for
    return store, posted


def test_the_first_pass_lists_each_run_directory_once(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "runs"
    for i in range(60):
        write_run(root, f"run{i:03d}", project=f"p{i % 2}", steps=3)
    (root / ".trash" / "old").mkdir(parents=True)  # a hidden project: never read
    write_run(root / ".trash", "gone", project="x", steps=3)
    listed: list[str] = []
    scandir = os.scandir

    def counting(path: str | os.PathLike[str] = ".") -> os._ScandirIterator[str]:
        listed.append(os.fspath(path))
        return scandir(path)

    store, posted = _store(root)
    monkeypatch.setattr(os, "scandir", counting)
    store.first_pass()
    monkeypatch.undo()
    assert len(posted) == 60 and not any(".trash" in p for p in posted)
    runs = [p for p in listed if os.path.dirname(os.path.dirname(p)) == os.fspath(root)]
    assert len(runs) <= 60 + 2, f"{len(runs)} run directory listings for 60 runs"


def test_a_snapshot_keeps_the_sparkline_it_draws_not_every_bucket(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    write_run(root, "long", steps=200, metrics=lambda i: {"loss": 1.0 / (i + 1), "acc": i % 17})
    write_run(root, "short", steps=3)
    store, posted = _store(root, metrics=("loss", "acc"))
    store.first_pass()
    store.catch_up()
    with store._follower.lock:
        runs = store._follower.reader.runs
        views = {p: store._snapshots.view(r) for p, r in runs.items()}
        means = {p: {k: r.sink.spark(k) for k in ("loss", "acc")} for p, r in runs.items()}
    for path, view in views.items():
        for key in ("loss", "acc"):
            assert len(view.sparks[key]) <= SPARK_WIDTH
            assert sparkline(view.sparks[key], SPARK_WIDTH) == sparkline(means[path][key], SPARK_WIDTH)
    long = views["proj/long"].sparks
    held = sum(sys.getsizeof(v) for v in long.values())
    assert held <= 400, f"{held} B of sparkline data for 2 keys"


def test_a_runs_recent_row_times_are_kept_compact(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    write_run(root, "r", steps=500)
    store, _ = _store(root)
    store.first_pass()
    store.catch_up()
    with store._follower.lock:
        run = store._follower.reader.runs["proj/r"]
        sink = run.sink
        assert isinstance(sink, RunSeries)
        times = list(sink.times)
        held = sys.getsizeof(sink.times)
    assert times == [1_700_000_000.0 + i for i in range(500 - RECENT, 500)]
    assert held <= 8 * RECENT + 200, f"{held} B for {RECENT} times"


def test_the_first_pass_posts_a_few_times_not_once_a_batch(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Each post costs the UI a table update (a sort and a repaint): the first screenful at
    once, then at most one every FIRST_POSTS seconds, and every run in one of them."""
    import tui.model.store as store_module

    root = tmp_path / "runs"
    for i in range(300):
        write_run(root, f"run{i:03d}", steps=2)
    monkeypatch.setattr(store_module, "FIRST_SCREEN", 10)
    monkeypatch.setattr(store_module, "FIRST_BATCH", 10)  # 30 batches
    posts: list[int] = []
    seen: set[str] = set()

    def post(views: dict) -> None:
        posts.append(len(views))
        seen.update(views)

    store = RunStore(root, post=post)
    store._applied.set()
    started = time.monotonic()
    store.first_pass()
    took = time.monotonic() - started
    assert seen == {f"proj/run{i:03d}" for i in range(300)}
    assert posts[0] == 10  # the first screenful, alone
    assert len(posts) <= 2 + took / getattr(store_module, "FIRST_POSTS", 0.25), (posts, took)


def test_the_first_pass_runs_without_the_cyclic_collector(tmp_path: Path) -> None:
    """Collections during a listing find nothing and cost ~9 % of it (10k runs: ~0.24 s)."""
    import gc

    root = tmp_path / "runs"
    for i in range(5):
        write_run(root, f"run{i}", steps=2)
    during: list[bool] = []
    store = RunStore(root, post=lambda views: during.append(gc.isenabled()))
    store._applied.set()
    assert gc.isenabled()
    store.first_pass()
    assert during and not any(during)
    assert gc.isenabled()
