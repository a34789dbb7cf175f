"""A segment without a snapshot, decoded from its first byte in the app's first pass for the
rows' summaries, feeds its rows to the decimations in that same pass (issue 14): each of its
frames is decoded once, not again by the history filler. A segment with a snapshot keeps
the rows-first order (its rows come from the snapshot, the filler decodes them after), and
so does a small one (RunData.SAME_PASS: its decimation would hold other runs' rows back)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from logger import events as ev
from logger.rundata import RunData
from tests.snapshot_support import write_snap_run
from tests.test_tui_support import write_run
from tui.model.decimate import points
from tui.model.store import RunStore

BIG, SMALL = 30_000, 50  # a big run's first-pass read stops short of its end (read_rest)
BIG_RUNS = ("proj/r0000", "proj/r0001")


def _metrics(i: int):
    return lambda s: {"loss": 1.0 / (s + 1 + i), "acc": (s % 97) * 1e-2}


def _write(root: Path, snapshots: bool, prefix: str = "r") -> None:
    write = write_snap_run if snapshots else write_run
    for i, steps in enumerate((BIG, BIG, SMALL, SMALL, SMALL)):
        write(root, f"{prefix}{i:04d}", steps=steps, metrics=_metrics(i), pid=0,
              t0=1_700_000_000.0 + i * 100)


@pytest.fixture
def decoded(monkeypatch):
    """Log events decoded by the real reader and filler (both decode through ev.scan), per
    run directory: a counting pass-through, the reading itself untouched."""
    counts: dict[str, int] = {}
    real = ev.scan

    def scan(data: Any, *args: Any) -> Any:
        found = real(data, *args)
        for e in found.events:
            if type(e) is ev.Log:
                counts["all"] = counts.get("all", 0) + 1
        return found

    monkeypatch.setattr(ev, "scan", scan)
    return counts


def _read(root: Path) -> RunStore:
    store = RunStore(root, None, lambda views: None)
    store.first_pass()
    store.read_rest()  # the reading thread's pass: every row and summary (`loaded`)
    return store


def _points(store: RunStore, key: str) -> dict[str, Any]:
    paths = sorted(store._follower.reader.runs)
    return dict(zip(paths, store.with_runs(paths, lambda runs: [points(r, key) for r in runs])))


def test_a_root_without_snapshots_is_decoded_once_in_the_first_pass(tmp_path, decoded):
    root = tmp_path / "runs"
    _write(root, snapshots=False)
    sizes = [p.stat().st_size for p in sorted(root.rglob("*.rws"))]
    assert min(sizes[:2]) > 4 * RunData.SAME_PASS > 20 * max(sizes[2:])
    store = _read(root)
    assert decoded["all"] == 2 * BIG + 3 * SMALL  # every frame decoded once, for the summaries...
    paths = sorted(store._follower.reader.runs)
    unfed = dict(zip(paths, store.with_runs(paths, lambda runs: [r.unfed() for r in runs])))
    assert [p for p in paths if not unfed[p]] == list(BIG_RUNS)  # ...the big ones' rows fed
    store.fill_histories()  # only the small runs' rows are read back (rows first)
    assert decoded["all"] == 2 * BIG + 2 * 3 * SMALL and store.filled
    assert store.loaded_bytes == sum(sizes[2:])  # bytes the filler read back: theirs only


def test_the_first_pass_decimations_equal_a_fill_after_read(tmp_path):
    """What the reading pass alone decimated equals what the filler decimates afterwards
    from the same rows with snapshots (rows first, filled after)."""
    plain, snap = tmp_path / "plain", tmp_path / "snap"
    _write(plain, snapshots=False)
    _write(snap, snapshots=True)
    same = _read(plain)  # the big runs: no fill_histories(), the pass itself
    after = _read(snap)
    after.fill_histories()
    for key in ("loss", "acc"):
        got, want = _points(same, key), _points(after, key)
        assert got.keys() == want.keys()
        for path in BIG_RUNS:
            (gx, gm, glo, ghi, gn), (wx, wm, wlo, whi, wn) = got[path], want[path]
            assert sum(wn) == BIG
            assert (gx, glo, ghi, gn) == (wx, wlo, whi, wn), path
            assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(gm, wm, strict=True))


def test_a_segment_with_a_snapshot_keeps_rows_first_beside_one_without(tmp_path, decoded):
    root = tmp_path / "runs"
    _write(root, snapshots=True, prefix="s")
    write_run(root, "plain0", steps=BIG, metrics=_metrics(9), pid=0, t0=1_600_000_000.0)
    store = _read(root)
    assert decoded["all"] == BIG  # only the run without a snapshot was decoded
    paths = sorted(store._follower.reader.runs)
    lacking = dict(zip(paths, store.with_runs(paths, lambda runs: [bool(r.unfed()) for r in runs])))
    assert lacking == {p: not p.endswith("plain0") for p in paths}
    assert _points(store, "loss")["proj/plain0"][4] and not _points(store, "loss")["proj/s0000"][4]
    store.fill_histories()
    assert decoded["all"] == 2 * BIG + 3 * SMALL + BIG  # the snapshot runs' rows, once each
    assert sum(_points(store, "loss")["proj/s0000"][4]) == BIG
