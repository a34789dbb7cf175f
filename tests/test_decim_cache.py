"""The app's reopen cache (tui/model/decim_cache.py): a reopened root holds exactly what a
cold read holds, and a cache that no longer describes the files is never trusted."""

from __future__ import annotations

import dataclasses
import os
import pickle
import random
import threading
from pathlib import Path

import pytest

from logger import events as ev
from tui.model import decim_cache, decim_file, decimate
from tui.model import store as store_module
from tui.model.decimate import points
from tui.model.store import RunStore

T0 = 1_700_000_000.0


def _start(run_id: str, t0: float = T0) -> bytes:
    data = bytearray(ev.HEADER)
    data += ev.encode(ev.SegmentStart(version=ev.FORMAT_VERSION, run_id=run_id, role="script",
                                      host="h", pid=0, proc_start=0, boot_id="b", time=t0))
    data += ev.encode(ev.RunStart(
        project="p", name=f"name-{run_id}", notes=None, tags=["t"], group=None, job_type=None,
        config={"lr": 0.1, "seed": len(run_id)}, command=["train.py"], python="3.11", cwd="/",
        git_commit=None, git_branch=None, resumed=False, time=t0))
    return bytes(data)


def _rows(first: int, last: int, seed: int, nested: bool = False) -> bytes:
    rng, data, batch = random.Random(seed * 7919 + first), bytearray(), []
    for s in range(first, last):
        values: dict = {"loss": 1 / (1 + s) + rng.random() * 0.01, "acc": rng.random()}
        if nested:
            values["val"] = {"loss": rng.random(), "tag": f"s{s}"}
        batch.append(ev.encode_event(ev.Log(step=s, time=T0 + s * 0.5, values=values)))
        if len(batch) == 10:
            data += ev.frame(batch)
            batch = []
    if batch:
        data += ev.frame(batch)
    return bytes(data)


def _finish(steps: int) -> bytes:
    return ev.encode(ev.Finish(time=T0 + steps, exit_code=0, state="finished", error=None))


def _segment(root: Path, run_id: str) -> Path:
    return root / "p" / run_id / f"20240101T000000-script-1-{run_id}.rws"


def make_root(root: Path) -> dict[str, Path]:
    """Three finished runs: one long (fine decimations), one short (raw), one nested."""
    shapes = {"long": (3000, False), "short": (120, False), "nest": (700, True)}
    segs = {}
    for i, (run_id, (steps, nested)) in enumerate(shapes.items()):
        path = segs[run_id] = _segment(root, run_id)
        path.parent.mkdir(parents=True)
        path.write_bytes(_start(run_id, T0 + i) + _rows(0, steps, i, nested) + _finish(steps))
    return segs


def load(root: Path) -> RunStore:
    """A store that read everything on disk, as the app's reading thread does, and saved."""
    store = RunStore(root)
    store._applied.set()  # no UI thread to wait for
    store.first_pass()
    store.catch_up()
    store.cache.save(store._follower.lock)
    return store


def _dec(dec: object) -> object:
    if dec is None:
        return None
    return [getattr(dec, f) for f in ("cap", "size", "_open", "x0", "x1", "lo", "hi", "sum", "n")]


def held(store: RunStore) -> dict[str, str]:
    """Everything the app holds of each run and draws from it, as text (NaN-safe)."""
    out = {}
    for path, run in store._follower.reader.runs.items():
        rs = run.sink
        view = store._snapshots.view(run)
        shown = {f.name: getattr(view, f.name) for f in dataclasses.fields(view) if f.name != "serial"}
        keys = {k: (ks.count, ks.last_step, ks.ordered, ks.xs, ks.ys, _dec(ks.fine), _dec(ks.coarse),
                    rs.spark(k)) for k, ks in rs.keys.items()}
        objects = [(k, list(c.steps), list(c.values)) for k, c in rs.objects.columns.items()]
        segs = [(s.offset, s.size, s.skipped, s.start, s.finish) for s in run.segments.values()]
        drawn = [points(run, k, x) for k in sorted(rs.keys) for x in ("_step", "_runtime")]
        out[path] = repr((shown, keys, objects, rs.spans, rs._ends, list(rs.times), rs.t0, segs,
                          run.summary_flat(), run.version, drawn))
    return out


@pytest.fixture
def segs(tmp_path: Path) -> dict[str, Path]:
    return make_root(tmp_path / "runs")


def test_a_reopened_root_holds_exactly_what_a_cold_read_holds(segs: dict[str, Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    root = segs["long"].parents[2]
    first = load(root)
    assert first.cache.restored == 0 and decim_cache.cache_path(root).exists()  # type: ignore[union-attr]
    again = load(root)
    assert again.cache.restored == 3
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    cold = load(root)
    assert cold.cache.restored == 0
    assert held(again) == held(first) == held(cold)
    budget = [s._book.fine_left for s in (first, again, cold)]
    assert budget[0] == budget[1] == budget[2] < decimate.FINE_BUDGET  # restored runs paid
    # Nothing was decoded again: every segment's reader starts where the entry left it.
    for run in again._follower.reader.runs.values():
        assert all(s.offset == s.size for s in run.segments.values())


def test_a_grown_segment_resumes_from_its_offset(segs: dict[str, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root, path = segs["long"].parents[2], segs["long"]
    cut = path.stat().st_size - len(_finish(3000))
    os.truncate(path, cut)  # the run while it was live: no finish yet
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    stayed = load(root)  # an app that stays open across the growth: the reference
    monkeypatch.delenv("RUNWATCH_CACHE")
    load(root)
    with open(path, "ab") as f:
        f.write(_rows(3000, 3500, 9) + _finish(3500))
    reads: list[int] = []
    original = decim_cache.RootReader.read_paths

    def counting(self, paths, limit=None):  # type: ignore[no-untyped-def]
        known = self._segments.get(path)
        if known is not None and path in map(Path, paths):
            reads.append(known[1].offset)
        return original(self, paths, limit)

    monkeypatch.setattr(decim_cache.RootReader, "read_paths", counting)
    again = load(root)
    assert again.cache.restored == 3
    assert reads and reads[0] == cut  # it read on from where the cache left the segment
    run = again._follower.reader.runs["p/long"]
    assert run.sink.keys["loss"].count == 3500 and run.state == "finished"
    # The open app reads the growth as the reopened one did (a first pass, then passes).
    stayed._follower.reader.read_paths([path], limit=store_module.FIRST_LIMIT)
    stayed.catch_up()
    assert held(again) == held(stayed)
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    cold_run = load(root)._follower.reader.runs["p/long"]
    assert run.summary_flat() == cold_run.summary_flat()
    for key in ("loss", "acc"):
        a, b = points(run, key), points(cold_run, key)
        assert a[0] == b[0] and a[2:] == b[2:]  # x, min, max, counts exact
        assert a[1] == pytest.approx(b[1], rel=1e-12)  # means: sums added in other chunks


def _rewrite(path: Path, how: str) -> None:
    data = path.read_bytes()
    other = _start(path.parent.name, T0) + _rows(0, 3000, 42) + _finish(3000)
    assert len(other) == len(data)
    if how == "replaced":  # a new file of the same size renamed over it
        tmp = path.with_name("x.tmp")
        tmp.write_bytes(other)
        os.replace(tmp, path)
    elif how == "rewritten":  # the same inode, the same size, other bytes
        st = os.stat(path)
        with open(path, "r+b") as f:
            f.write(other)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    elif how == "rewritten longer":  # the same inode, grown, but the bytes before differ
        with open(path, "r+b") as f:
            f.write(other + _rows(3000, 3100, 1))
    elif how == "truncated":
        os.truncate(path, len(data) // 2)


@pytest.mark.parametrize("how", ["replaced", "rewritten", "rewritten longer", "truncated"])
def test_a_segment_that_changed_otherwise_is_read_again(segs: dict[str, Path], how: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = segs["long"].parents[2]
    load(root)
    _rewrite(segs["long"], how)
    again = load(root)
    assert again.cache.restored == 2  # the other two runs
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    assert held(again) == held(load(root))


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "entry":  # a byte of the last run's pickle
        data[-10] ^= 0xFF
    elif how == "index":
        data[len(decim_file.MAGIC) + 12] ^= 0xFF
    elif how == "cut":
        del data[len(data) // 2:]
    elif how == "garbage":
        data = bytearray(os.urandom(len(data)))
    elif how == "empty":
        data = bytearray()
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["entry", "index", "cut", "garbage", "empty"])
def test_a_damaged_cache_costs_only_what_it_damaged(segs: dict[str, Path], how: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    root = segs["long"].parents[2]
    load(root)
    cache = decim_cache.cache_path(root)
    assert cache is not None
    _damage(cache, how)
    again = load(root)
    restored = again.cache.restored
    assert restored == 2 if how == "entry" else 0 < restored < 3 if how == "cut" else restored == 0
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    assert held(again) == held(load(root))
    assert load(root).cache.restored == 0
    monkeypatch.delenv("RUNWATCH_CACHE")
    assert load(root).cache.restored == 3  # the damaged file was written again, whole


def test_runwatch_cache_0_neither_reads_nor_writes(segs: dict[str, Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    root = segs["long"].parents[2]
    load(root)
    cache = decim_cache.cache_path(root)
    assert cache is not None
    written = cache.read_bytes()
    with open(segs["short"], "ab") as f:  # grows: a store that read the cache would rewrite it
        f.write(_rows(120, 130, 5))
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    store = load(root)
    assert store.cache.restored == 0 and store.cache.path is None
    assert cache.read_bytes() == written
    monkeypatch.delenv("RUNWATCH_CACHE")
    cache.unlink()
    monkeypatch.setenv("RUNWATCH_CACHE", "off")
    load(root)
    assert not cache.exists()


def test_code_that_changed_ignores_the_cache(segs: dict[str, Path],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root = segs["long"].parents[2]
    load(root)
    monkeypatch.setattr(decim_cache, "code_stamp", lambda: "another version of the app")
    assert load(root).cache.restored == 0


def test_a_cache_others_can_write_is_not_read(segs: dict[str, Path]) -> None:
    root = segs["long"].parents[2]
    load(root)
    cache = decim_cache.cache_path(root)
    assert cache is not None and cache.stat().st_mode & 0o077 == 0  # written private
    cache.chmod(0o666)
    assert load(root).cache.restored == 0


class _Boom:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo pwned > pwned.txt",))


def test_an_entry_that_names_other_code_is_refused(segs: dict[str, Path], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Even with its hash right, an entry builds only this package's classes."""
    root = segs["long"].parents[2]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(decim_cache, "_dumps", lambda run: pickle.dumps(_Boom()))
    load(root)
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    again = load(root)
    assert again.cache.restored == 0 and not (tmp_path / "pwned.txt").exists()
    assert set(again._follower.reader.runs) == {"p/long", "p/short", "p/nest"}


def test_the_file_is_bounded(segs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = segs["long"].parents[2]
    load(root)
    cache = decim_cache.cache_path(root)
    assert cache is not None
    whole = cache.stat().st_size
    monkeypatch.setattr(decim_cache, "MAX_BYTES", whole // 2)
    cache.unlink()
    load(root)
    assert 0 < cache.stat().st_size <= whole // 2 + 4096
    again = load(root)
    assert 0 < again.cache.restored < 3
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    assert held(again) == held(load(root))


def test_a_run_whose_name_is_not_utf8_is_read_not_cached(segs: dict[str, Path]) -> None:
    root = segs["long"].parents[2]
    odd = root / "p" / os.fsdecode(b"r\xff")
    odd.mkdir()
    (odd / segs["short"].name).write_bytes(segs["short"].read_bytes())
    first = load(root)
    assert decim_cache.cache_path(root).exists()  # type: ignore[union-attr]
    again = load(root)
    assert again.cache.restored == 3 and len(again._follower.reader.runs) == 4
    assert held(again) == held(first)


def test_what_a_run_holds_for_a_while_is_not_cached(segs: dict[str, Path]) -> None:
    """A whole history a screen read (meta mode's `full()`) is not written to the cache."""
    root = segs["long"].parents[2]
    store = RunStore(root)
    store._applied.set()
    store.first_pass()
    store.catch_up()
    run = store._follower.reader.runs["p/long"]
    run._full = RunStore  # stands for a whole history read for a screen
    run._merged = (0, RunStore)
    store.cache.save(store._follower.lock)
    again = load(root)
    assert again.cache.restored == 3
    restored = again._follower.reader.runs["p/long"]
    assert restored._full is None and restored._merged is None


def test_an_app_closed_while_loading_keeps_the_entries_it_did_not_read(
        segs: dict[str, Path]) -> None:
    root = segs["long"].parents[2]
    load(root)
    store = RunStore(root)
    store._applied.set()
    with store._follower.lock:  # it met one run only, and was closed then
        store.cache.restore([segs["short"]])
    store.cache.save(store._follower.lock)
    again = load(root)
    assert again.cache.restored == 3
    segs["nest"].unlink()
    segs["nest"].parent.rmdir()
    store = RunStore(root)
    store.cache.save(store._follower.lock)  # a run whose directory went is dropped
    assert set(load(root).cache._index.runs) == {"p/long", "p/short"}  # type: ignore[union-attr]


def test_the_first_restore_brings_the_newest_runs_whatever_the_paths(
        segs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    root = segs["long"].parents[2]
    load(root)
    monkeypatch.setattr(decim_cache, "NEWEST", 1)
    store = RunStore(root)
    with store._follower.lock:
        first = store.cache.restore([segs["short"]])  # "nest" started last: the table's top
        again = store.cache.restore([segs["nest"], segs["long"]])
    assert [u.run.path for u in first] == ["p/nest", "p/short"]
    assert [u.run.path for u in again] == ["p/long"]


def test_the_store_saves_in_a_thread_of_its_own(segs: dict[str, Path]) -> None:
    """The app's reading thread saves once loaded, without waiting for the pickling."""
    root = segs["long"].parents[2]
    store = RunStore(root, force_polling=True)
    store._applied.set()
    reading = threading.Thread(target=store.read, daemon=True)
    reading.start()
    try:
        for _ in range(400):
            if len(store.cache.saved_versions) == 3:
                break
            threading.Event().wait(0.05)
    finally:
        store.stop()
        reading.join(10)
    assert store.loaded and load(root).cache.restored == 3
