"""The runs the screen shows are read back first (issue 14): `store.want(paths)` puts them
before the rest of the history fill, and into the first pass itself, between its reads."""

from __future__ import annotations

from tests.snapshot_support import write_snap_run
from tui.model.store import FIRST_SCREEN, RunStore, segment_paths


def _root(tmp_path, runs: int, steps: int):
    root = tmp_path / "runs"  # with snapshots: rows first (a big run without is fed as read)
    for i in range(runs):
        write_snap_run(root, f"r{i:05d}", steps=steps, t0=1_700_000_000.0 + i * 100)
    return root


def _unfed(store: RunStore) -> set[str]:
    return store.with_runs([], lambda _: {p for p, r in store._follower.reader.runs.items()
                                          if r.unfed()})


def test_a_wanted_run_is_filled_during_the_first_pass_and_posted_filled_last(tmp_path):
    root = _root(tmp_path, 2 * FIRST_SCREEN + 12, 10)  # a second batch read in parts
    first = segment_paths(root)[5]  # read in the first batch: known before the second
    wanted = f"proj/{first.parent.name}"
    posted: list[dict] = []
    store = RunStore(root, None, posted.append)
    store.want([wanted, "proj/not-a-run"], "panel")
    store.first_pass()
    unfed = _unfed(store)
    assert wanted not in unfed  # filled before the pass ended, not after it
    assert len(unfed) >= len(store._follower.reader.runs) - FIRST_SCREEN // 2
    # The filled snapshot is the last one posted of it: no held-back older one after it.
    last = [views[wanted] for views in posted if wanted in views][-1]
    assert last.version == store.with_runs([wanted], lambda runs: runs[0].version)


def test_the_filler_feeds_the_wanted_runs_before_the_newest(tmp_path):
    root = _root(tmp_path, 12, 5000)  # a run or two per fill batch
    posted: list[dict] = []
    store = RunStore(root, None, posted.append)
    store.first_pass()
    store.read_rest()
    posted.clear()
    oldest, second = "proj/r00000", "proj/r00001"  # the table's last rows: filled last before
    store.want([second], "rows")
    store.want([oldest], "panel")
    store.fill_histories()
    fed = [set(views) for views in posted if views]
    assert oldest in fed[0] and "proj/r00011" not in fed[0]  # the newest is no longer first
    order = [next(i for i, paths in enumerate(fed) if p in paths) for p in (oldest, second)]
    assert order[1] <= 1 and order[0] <= order[1]  # the panel's run, then the rows'
    assert not _unfed(store) and store.filled
