"""A live run charted against another metric (`X` in the detail charts) reads only what its
segment grew by at each redraw, and draws what a fresh read of the whole segment draws."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from logger import events as ev
from tui.model import decimate
from tui.model.store import RunStore

from .test_decim_cache import T0, _segment, _start

KEY, X = "loss", "epoch"


def _rows(first: int, last: int, epoch_of=lambda s: s // 7) -> bytes:  # type: ignore[no-untyped-def]
    data, batch = bytearray(), []
    for s in range(first, last):
        values = {KEY: 1 / (1 + s) + (s % 13) * 1e-3, X: epoch_of(s), "lr": 0.1}
        if s % 5 == 0:
            values = {KEY: float(s)}  # rows without the x metric are left out
        batch.append(ev.encode_event(ev.Log(step=s, time=T0 + s, values=values)))
        if len(batch) == 10:
            data += ev.frame(batch)
            batch = []
    if batch:
        data += ev.frame(batch)
    return bytes(data)


def _points(store: RunStore, fresh: bool = False) -> tuple[list, ...]:  # type: ignore[type-arg]
    def draw(runs):  # type: ignore[no-untyped-def]
        if fresh:
            runs[0].sink.extra.clear()
        return decimate.points(runs[0], KEY, X, cap=256)

    return store.with_runs(["p/live"], draw)


def _axis(store: RunStore) -> decimate.MetricAxis:
    return store.with_runs(["p/live"], lambda runs: runs[0].sink.extra[(KEY, X, 256)][2])


def _same(a: tuple[list, ...], b: tuple[list, ...]) -> None:  # type: ignore[type-arg]
    assert a[0] == b[0] and a[2:] == b[2:]  # x, min, max and counts exactly
    assert a[1] == pytest.approx(b[1], rel=1e-12)  # means: the same sums, added in other chunks


@pytest.fixture
def live(tmp_path: Path) -> tuple[RunStore, Path]:
    path = _segment(tmp_path / "runs", "live")
    path.parent.mkdir(parents=True)
    path.write_bytes(_start("live") + _rows(0, 3000))
    store = RunStore(tmp_path / "runs")
    store._applied.set()
    store.first_pass()
    store.catch_up()
    return store, path


def _grow(store: RunStore, path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)
    with store._follower.lock:
        store._follower.reader.read_paths([path])


def test_a_redraw_reads_only_what_the_segment_grew_by(live: tuple[RunStore, Path]) -> None:
    store, path = live
    first = _points(store)
    assert _axis(store).reads == [(0, os.path.getsize(path))]
    assert _points(store) == first and len(_axis(store).reads) == 1  # nothing new: no read
    for grown in (_rows(3000, 3400), _rows(3400, 3410), b""):
        before = os.path.getsize(path)
        _grow(store, path, grown)
        drawn = _points(store)
        reads = _axis(store).reads
        assert reads[-1] == (before, os.path.getsize(path)) or not grown
        assert all(begin > 0 for begin, _ in reads[1:])  # never the whole segment again
        _same(drawn, _points(store, fresh=True))
    assert len(drawn[0]) <= 256  # what is kept is the decimation, not the rows
    # The pairs are History.series': every row holding both, sorted by x, decimated.
    _same(drawn, store.with_runs(["p/live"], _from_history))


def _from_history(runs):  # type: ignore[no-untyped-def]
    xs, ys = decimate.disk_history(runs[0], [KEY, X]).series(KEY, X)
    dec = decimate.Decimator(256)
    dec.extend(xs, ys)
    return dec.points_counted()


def test_an_x_that_steps_back_is_read_whole_again(live: tuple[RunStore, Path]) -> None:
    store, path = live
    _points(store)
    before = os.path.getsize(path)
    _grow(store, path, _rows(3000, 3100, epoch_of=lambda s: s % 3))  # epoch restarts
    drawn = _points(store)
    assert _axis(store).reads[-1] == (0, os.path.getsize(path)) and before > 0
    _same(drawn, _points(store, fresh=True))
