"""The index cache (logger/index.py) never changes what a listing says: whatever happened to the
segments or to the cache file since it was written, a reader with the cache reads exactly what
a reader without it (RUNWATCH_CACHE=0) reads. Values are compared by repr, so 1 and 1.0, a
tuple and a list, or NaN and a number never pass for each other."""

from __future__ import annotations

import math
import os
import struct
import time
from pathlib import Path

import pytest

import logger
from logger import events as ev
from logger import index
from logger.edit import edit_notes, edit_tags
from logger.reader import RootReader
from logger.rundata import HEARTBEAT_WINDOW


def _listing(root: Path) -> str:
    reader = RootReader(root, meta=True)
    reader.scan()
    return repr({k: (r.state, r.summary_flat(), r.summary, r.config, r.tags, r.name, r.notes, r.step, r.rows,
                     r.group, r.job_type, r.created_at, r.skipped_frames, r.errors, r.numeric_keys())
                 for k, r in sorted(reader.runs.items())})


def _cold(root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as m:
        m.setenv("RUNWATCH_CACHE", "0")
        return _listing(root)


def _cache() -> Path:
    (path,) = Path(os.environ["XDG_CACHE_HOME"]).glob("runwatch/index-*")
    return path


def _run(root: Path, run_id: str, values: list[float], finish: bool = True, **kw: object) -> logger.Run:
    run = logger.init(project="p", id=run_id, name="n", dir=str(root), **kw)
    for v in values:
        run.log({"loss": v, "acc": v * 2})
    if finish:
        run.finish()
    else:
        run._writer.flush()
    return run


def _segment(root: Path, run_id: str) -> Path:
    (path,) = (root / "p" / run_id).glob("*script*.rws")
    return path


def test_a_run_read_unchanged_takes_its_listing_from_the_cache(tmp_path, monkeypatch):
    """The fast path is taken (no summary derived again), and gives every type back as it was:
    NaN, ints, nested config, tags as a tuple, a define_metric aggregate."""
    root = tmp_path / "runs"
    run = logger.init(project="p", id="r", dir=str(root), config={"lr": 1e-3, "opt": {"b": [1, 2]}},
                      tags=["a", "b"], group="g")
    run.define_metric("loss", summary="min,max")
    run.log({"loss": 0.5, "n": 3, "bad": math.nan, "val": {"acc": 0.5, "deep": {"x": 1}}, "a.b": 1})
    run.log({"loss": 0.25, "n": 4, "bad": math.nan})
    run.summary["best"] = 7
    run.summary["best_of"] = {"val": 0.5}  # nested as W&B nests it: a restored summary too
    run.finish()
    cold = _cold(root, monkeypatch)
    assert _listing(root) == cold  # writes the cache
    assert _cache().exists()

    def no_summary(*a: object) -> None:
        raise AssertionError("the summary was derived again")

    monkeypatch.setattr("logger.rundata.summary_of", no_summary)
    assert _listing(root) == cold


def test_a_segment_that_grew_is_read_on_from_the_cached_offset(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    _run(root, "u", [5.0])  # unchanged: its listing comes from the cache
    run = _run(root, "g", [1.0, 2.0], finish=False)
    before = _listing(root)  # cached while live: summary loss=2.0, 2 rows
    assert set(index.load(root).runs) == {"p/u", "p/g"}
    for v in (3.0, 4.0):
        run.log({"loss": v, "acc": v})
    run.finish()
    after = _listing(root)
    assert after == _cold(root, monkeypatch) != before
    assert "'finished'" in after and "'loss': 4.0" in after


def _segment_bytes(values: list[float], t: float = 1.7e9) -> bytes:
    """A whole finished segment, written by hand so that only the values differ between two
    of them (no snapshot, no system sample): the same size for the same number of values."""
    from tests.test_liveness import _start_event

    events = [_start_event(run_id="s", pid=os.getpid(), time=t),
              ev.RunStart(project="p", name="n", notes=None, tags=[], group=None, job_type=None,
                          config={}, command=[], python="3", cwd="/", git_commit=None,
                          git_branch=None, resumed=False, time=t)]
    events += [ev.Log(step=i, time=t + i, values={"loss": v}) for i, v in enumerate(values)]
    events.append(ev.Finish(time=t + len(values), exit_code=0, state="finished", error=None))
    return ev.HEADER + b"".join(ev.encode(e) for e in events)


def _hand_run(root: Path, values: list[float]) -> Path:
    path = root / "p" / "s" / "20260101T000000-script-1-abcdef.rws"
    path.parent.mkdir(parents=True)
    path.write_bytes(_segment_bytes(values))
    return path


def test_a_segment_replaced_by_a_same_size_file_is_read_again(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    path = _hand_run(root, [1.0, 2.0, 3.0])
    before = _listing(root)
    data = _segment_bytes([9.0, 8.0, 7.0])
    assert len(data) == path.stat().st_size
    tmp = path.with_name(".new")
    tmp.write_bytes(data)
    os.utime(tmp, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))  # even the same mtime
    os.replace(tmp, path)  # a new inode: another file under the same name
    after = _listing(root)
    assert after == _cold(root, monkeypatch) != before
    assert "'loss': 7.0" in after


def test_a_segment_rewritten_in_place_at_the_same_size_is_read_again(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    path = _hand_run(root, [1.0, 2.0, 3.0])
    before = _listing(root)
    data = _segment_bytes([9.0, 8.0, 7.0])
    st = path.stat()
    assert len(data) == st.st_size
    with open(path, "r+b") as f:  # the same inode, the same size
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a second later
    after = _listing(root)
    assert after == _cold(root, monkeypatch) != before


def test_a_segment_rewritten_in_place_and_longer_is_read_again(tmp_path, monkeypatch):
    """Same inode, larger than what was read: not an append (the bytes that ended what was
    read are not there any more), so not read on from the cached offset."""
    root = tmp_path / "runs"
    path = _hand_run(root, [1.0, 2.0, 3.0])
    before = _listing(root)
    data = _segment_bytes([9.0, 8.0, 7.0, 6.0, 5.0])
    assert len(data) > path.stat().st_size
    with open(path, "r+b") as f:
        f.write(data)
    after = _listing(root)
    assert after == _cold(root, monkeypatch) != before
    assert "'loss': 5.0" in after


def test_a_truncated_segment_is_read_again(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    _run(root, "t", [float(i) for i in range(200)])
    before = _listing(root)
    path = _segment(root, "t")
    os.truncate(path, path.stat().st_size // 2)
    after = _listing(root)
    assert after == _cold(root, monkeypatch) != before
    assert "'finished'" not in after


@pytest.mark.parametrize("damage", ["garbage", "cut", "flip", "empty"])
def test_a_damaged_cache_file_is_no_cache(tmp_path, monkeypatch, damage):
    root = tmp_path / "runs"
    _run(root, "d", [0.125, 0.5])
    cold = _cold(root, monkeypatch)
    _listing(root)
    cache = _cache()
    data = cache.read_bytes()
    if damage == "garbage":
        data = b"\x93garbage" + data[8:]
    elif damage == "cut":
        data = data[: len(data) // 2]
    elif damage == "flip":  # a value the cache holds: msgpack would read it, as another number
        at = data.rfind(struct.pack(">d", 0.5))
        assert at > 0
        data = data[:at] + struct.pack(">d", 0.75) + data[at + 8:]
    else:
        data = b""
    cache.write_bytes(data)
    assert _listing(root) == cold
    assert _listing(root) == cold  # and the cache written again reads the same


def test_a_cache_written_by_other_code_is_not_read(tmp_path, monkeypatch):
    """An index made by another version of the code (the stamp differs) is dropped whole:
    what it derived may not be what this code derives."""
    root = tmp_path / "runs"
    _run(root, "c", [1.0, 2.0])
    cold = _cold(root, monkeypatch)
    _listing(root)
    forged = _forge(root, monkeypatch, loss=99.0)
    assert "99.0" in _listing(root)  # the forgery reads, under this code's stamp...
    _write(root, forged, monkeypatch, stamp="another code")
    assert _listing(root) == cold  # ...and not under another's


def _forge(root: Path, monkeypatch: pytest.MonkeyPatch, loss: float) -> index.Cached:
    """The cache of `root` with every listing and entry saying loss=`loss`."""
    cached = index.load(root)
    assert cached.entries and cached.runs
    for entry in cached.entries.values():
        detail = index._detail_decoder.decode(entry.detail)
        detail.stats["loss"].last = loss
        entry.detail = index.msgspec.Raw(index._encoder.encode(detail))
    runs = {}
    for key, listing in cached.runs.items():
        listing.summary["loss"] = loss  # type: ignore[union-attr]
        runs[key] = listing
    forged = index.Cached(cached.entries, runs)
    _write(root, forged, monkeypatch)
    return forged


def _write(root: Path, cached: index.Cached, monkeypatch: pytest.MonkeyPatch, stamp: str | None = None) -> None:
    with monkeypatch.context() as m:
        if stamp is not None:
            m.setattr(index, "code_stamp", lambda: stamp)
        index.save(root, cached.entries, cached.runs)


def test_runwatch_cache_0_neither_reads_nor_writes_the_cache(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    _run(root, "o", [1.0, 2.0])
    cold = _cold(root, monkeypatch)
    _listing(root)
    _forge(root, monkeypatch, loss=99.0)
    cache = _cache()
    stamp = cache.stat().st_mtime_ns
    assert "99.0" in _listing(root)
    monkeypatch.setenv("RUNWATCH_CACHE", "0")
    assert _listing(root) == cold
    _run(root, "o2", [3.0])
    _listing(root)
    assert cache.stat().st_mtime_ns == stamp  # not written either


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_unwritable_cache_directory_is_no_error(tmp_path, monkeypatch, where):
    root = tmp_path / "runs"
    _run(root, "u", [1.0, 2.0])
    cold = _cold(root, monkeypatch)
    blocker = tmp_path / "xdg"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker if where == "a file" else blocker / "deeper"))
    assert _listing(root) == cold
    assert _listing(root) == cold
    assert blocker.read_text() == "not a directory"


def test_edits_made_after_the_cache_was_written_show(tmp_path, monkeypatch):
    """`runwatch tag` / `note` / the app write an editor segment; every open after it reads
    the edit, and the edit after that one."""
    root = tmp_path / "runs"
    _run(root, "e", [1.0, 2.0], tags=["first"])
    run_dir = root / "p" / "e"
    before = _listing(root)
    edit_tags(run_dir, "e", add=["best"], remove=["first"])
    tagged = _listing(root)
    assert tagged == _cold(root, monkeypatch) != before
    assert "('best',)" in tagged
    assert _listing(root) == tagged  # now cached with its editor segment
    edit_notes(run_dir, "e", "second thoughts")
    noted = _listing(root)
    assert noted == _cold(root, monkeypatch) != tagged
    assert "'second thoughts'" in noted


def test_a_running_runs_state_comes_from_time_not_from_the_cache(tmp_path, monkeypatch):
    """A writer on another host, silent since: running while its file is fresh, crashed once
    this reader's clock is past the heartbeat window, the cache being as it was."""
    from tests.test_liveness import _segment as write_segment
    from tests.test_liveness import _start_event

    root = tmp_path / "runs"
    path = write_segment(root / "p" / "w1", _start_event(host="elsewhere"))
    fresh = time.time() - HEARTBEAT_WINDOW + 2
    os.utime(path, (fresh, fresh))
    assert "'running'" in _listing(root)  # and cached
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3)
    later = _listing(root)
    assert "'crashed'" in later and later == _cold(root, monkeypatch)


def test_an_older_versions_cache_of_the_root_is_removed(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    _run(root, "v", [1.0])
    cache = index.cache_file(root)
    assert cache is not None and f"-v{index.VERSION}-" in cache.name
    older = cache.with_name(cache.name.replace(f"-v{index.VERSION}-", "-v1-"))
    older.parent.mkdir(parents=True, exist_ok=True)
    older.write_bytes(b"an index in the old format")
    assert _listing(root) == _cold(root, monkeypatch)
    assert cache.exists() and not older.exists()
