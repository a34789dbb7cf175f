"""scan_history in one pass where the writers' snapshots prove the order (logger/history_order.py):
the same rows as a straightforward reader for odd runs of every kind (steps going back, resumes,
several writers, nested dicts, rows sharing a step, damaged frames, snapshots or none), pages a
frame long, and DataFrames from columns with no row built."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import logger
from logger import RunwatchWarning, history_order, history_read
from logger import events as ev
from logger.flat import flatten
from logger.history_read import HistoryScan
from logger.history_table import frame
from logger.reader import RootReader
from logger.segment import SegmentReader

_INT64 = 2**63


# -- a straightforward reader: every event decoded, rows merged by step in a dict -----------
def reference(root: Path, keys: list[str] | None = None, lo: int | None = None,
              hi: int | None = None) -> list[dict[str, Any]]:
    reader = RootReader(root)
    reader.scan()
    run = reader.runs["p/r"]
    merged: dict[int, dict[str, Any]] = {}
    start = run.created_at  # _runtime's zero: the run's start, as W&B's (and the summary's)
    for name in run.writers:
        for e in SegmentReader(run.dir / name).read_new():
            if type(e) is not ev.Log or not -_INT64 <= e.step < _INT64:
                continue
            row = merged.setdefault(e.step, {"_step": e.step})
            row.update(flatten(e.values))
            row["_timestamp"] = e.time
    rows = []
    for step in sorted(merged):
        row = merged[step]
        row["_runtime"] = row["_timestamp"] - start
        if (lo is None or step >= lo) and (hi is None or step < hi) and all(k in row for k in keys or ()):
            rows.append(row if keys is None else {k: v for k, v in row.items() if k.startswith("_") or k in keys})
    return rows


def same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    """Equal rows, NaN equal to NaN (and 1 to 1.0: History holds a column's numbers as floats)."""
    def plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: "NaN" if v != v else v for k, v in r.items()} for r in rows]
    return plain(a) == plain(b)


# -- odd runs -----------------------------------------------------------------------------
def _start(role: str, t0: float, follows: list[str]) -> list[ev.Event]:
    return [ev.SegmentStart(version=ev.FORMAT_VERSION, run_id="r", role=role, host="h", pid=1, proc_start=0,
                            boot_id="", time=t0),
            ev.RunStart(project="p", name="r", notes=None, tags=[], group=None, job_type=None, config={},
                        command=[], python="3", cwd="/", git_commit=None, git_branch=None,
                        resumed=bool(follows), time=t0, follows=follows)]


VALUE = st.one_of(st.floats(allow_nan=True, allow_infinity=False, width=64), st.integers(-5, 5),
                  st.text(max_size=3), st.booleans(), st.none(), st.lists(st.integers(0, 3), max_size=2),
                  st.fixed_dictionaries({"x": st.floats(-1, 1), "y": st.fixed_dictionaries({"z": st.integers(-(2**63), 2**64 - 1)})}),
                  st.just({"_type": "image-file", "path": "media/a.png"}), st.just({}))
VALUES = st.dictionaries(st.sampled_from(["a", "b", "c.d", "n", 7]), VALUE, min_size=1, max_size=4)
# Mostly a step further; sometimes the same step (commit=False across flushes), or back.
DELTA = st.sampled_from([1, 1, 1, 1, 1, 1, 2, 0, 0, -1, -40, 10**19])
OTHER = st.sampled_from([ev.ConsoleChunk(time=1.0, stream="stdout", text="x" * 50),
                         ev.SummaryUpdate(values={"a": 1}, removed=[], time=1.0),
                         ev.Heartbeat(time=1.0)])
OP = st.one_of(st.tuples(st.just("log"), DELTA, VALUES), st.tuples(st.just("log"), st.just(1), VALUES),
               st.tuples(st.just("other"), OTHER), st.tuples(st.just("snap")))
WRITER = st.fixed_dictionaries({"role": st.sampled_from(["script", "rank 1"]), "first": st.integers(0, 300),
                                "ops": st.lists(OP, max_size=120), "follows": st.booleans(),
                                "damage": st.none() | st.floats(0.05, 0.95)})


def write_run(run_dir: Path, writers: list[dict[str, Any]]) -> None:
    """Each writer a segment, as a writer lays it out: a snapshot (its own frame) only while
    its steps never went back."""
    run_dir.mkdir(parents=True)
    names: list[str] = []
    for i, w in enumerate(writers):
        name = f"2026010{i}T000000-{w['role'].replace(' ', '')}-{i}-{'abcdef'[i] * 6}.rws"
        t0 = 1000.0 * (i + 1)
        chunks = [ev.encode_event(e) for e in _start(w["role"], t0, names[-1:] if w["follows"] else [])]
        step, top, rows, grew, t = w["first"], None, 0, True, t0
        for op in w["ops"]:
            t += 0.5
            if op[0] == "log":
                step = step + op[1] if op[1] != 10**19 else 10**19
                grew = grew and (top is None or step >= top)
                top = step if top is None else max(top, step)
                chunks.append(ev.encode_event(ev.Log(step=step, time=t, values=op[2])))
                rows += 1
            elif op[0] == "other":
                chunks.append(ev.encode_event(op[1]))
            elif grew:
                chunks.append(ev.encode(ev.Snapshot(time=t, events=len(chunks), rows=rows, max_step=step,
                                                    last_time=t)))
        data = bytearray(ev.HEADER + ev.frames_from(chunks))
        if w["damage"] is not None:
            at = ev.HEADER_SIZE + int((len(data) - ev.HEADER_SIZE - 1) * w["damage"])
            data[at] ^= 0x55
        (run_dir / name).write_bytes(bytes(data))
        names.append(name)


@settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(writers=st.lists(WRITER, min_size=1, max_size=3), chunk=st.sampled_from([64, 700, 5000, 1 << 20]),
       window=st.tuples(st.none() | st.integers(0, 400), st.none() | st.integers(0, 400)),
       keys=st.sampled_from([None, ["a"], ["a", "c.d"], ["y.z"], ["x"]]))
def test_scan_equals_a_straightforward_reader_on_odd_runs(tmp_path_factory, writers, chunk, window, keys):
    root = tmp_path_factory.mktemp("runs")
    write_run(root / "p" / "r", writers)
    saved = history_read.CHUNK
    history_read.CHUNK = chunk
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a writer's honest snapshot never makes the scan warn
            got = list(HistoryScan(root / "p" / "r", keys, *window).rows())
            columns = frame(HistoryScan(root / "p" / "r", keys, *window), 0, tuple(keys) if keys else None)
    finally:
        history_read.CHUNK = saved
    want = reference(root, keys, *window)
    assert same(got, want)
    # The DataFrame's columns, gathered without rows: the same values, NaN where a row lacks a key.
    names = {k for r in want for k in r} | ({*keys, "_step", "_timestamp", "_runtime"} if keys else set())
    assert set(columns) == names
    for k in names:
        assert same([dict(enumerate(columns[k]))], [dict(enumerate(r.get(k, math.nan) for r in want))]), k


# -- the first pass, and what proves the order ----------------------------------------------
def _logged(tmp_path: Path, steps: list[int | None]) -> Path:
    """A run written by the real logger: `None` a plain log(), an int log(step=...)."""
    root = tmp_path / "runs"
    run = logger.init(project="p", id="r", dir=str(root))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        for i, step in enumerate(steps):
            run.log({"loss": i * 0.5, "acc": i}, step=step)
    run.finish()
    return root


def _counting(monkeypatch) -> list[int]:
    seen = [0]
    note = history_order.Writer.note

    def counted(self, events):
        seen[0] += len(events)
        note(self, events)

    monkeypatch.setattr(history_order.Writer, "note", counted)
    return seen


def test_a_finished_run_is_read_once(tmp_path, monkeypatch):
    root = _logged(tmp_path, [None] * 20_000)
    seen = _counting(monkeypatch)
    scan = HistoryScan(root / "p" / "r")
    rows = list(scan.rows())
    assert same(rows, reference(root)) and len(rows) == 20_000
    assert all(w.proven for w in scan.writers)
    assert seen[0] < 2_000  # the first frames and what follows the snapshot, not 20,000 steps


def test_a_run_whose_steps_went_back_leaves_no_snapshot_to_trust_after(tmp_path, monkeypatch):
    monkeypatch.setattr(logger.framing, "SNAPSHOT_EVERY", 8192)  # snapshots before the steps go back
    root = _logged(tmp_path, [*range(0, 3000), *range(1000, 1500), *range(3000, 3100)])
    scan = HistoryScan(root / "p" / "r")
    assert same(list(scan.rows()), reference(root))
    assert not scan.streams  # what follows the last snapshot shows the steps going back


def test_a_snapshot_its_rows_contradict_is_said_not_followed_blindly(tmp_path):
    root = tmp_path / "runs"
    steps = [*range(3000), *range(1000, 1100), *range(3000, 5000)]  # back in a middle frame
    logs = [ev.Log(step=s, time=1000.0 + i, values={"a": i}) for i, s in enumerate(steps)]
    # A forged snapshot: "steps only grew, up to 4999", over rows that went back.
    chunks = [ev.encode_event(e) for e in (*_start("script", 1000.0, []), *logs)]
    chunks.append(ev.encode(ev.Snapshot(time=9000.0, events=len(chunks), rows=5100, max_step=4999, last_time=9000.0)))
    (root / "p" / "r").mkdir(parents=True)
    (root / "p" / "r" / "20260101T000000-script-1-aaaaaa.rws").write_bytes(ev.HEADER + ev.frames_from(chunks))
    with pytest.warns(RunwatchWarning, match="steps go back"):
        rows = list(HistoryScan(root / "p" / "r").rows())
    assert len(rows) == 5100  # nothing lost, nothing raised: the rows as written


def test_pages_are_a_frame_of_rows_not_a_chunk(tmp_path):
    root = _logged(tmp_path, [None] * 20_000)
    sizes = [len(p) for p in HistoryScan(root / "p" / "r").pages()]
    assert sum(sizes) == 20_000 and max(sizes) < 2 * ev.FRAME_BYTES // 40  # a row is > 40 bytes


# -- DataFrames -----------------------------------------------------------------------------
def test_history_dataframe_comes_from_columns_without_building_rows(tmp_path, monkeypatch):
    pd = pytest.importorskip("pandas")
    root = _logged(tmp_path, [None] * 3000)
    want = pd.DataFrame(reference(root))
    monkeypatch.setattr(HistoryScan, "build", lambda *a: pytest.fail("a row was built"))
    run = logger.Api(root).run("p/r")
    frame = run.history(samples=0)
    assert list(frame.columns[:3]) == ["_step", "_timestamp", "_runtime"] and len(frame) == 3000
    pd.testing.assert_frame_equal(frame[list(want.columns)], want)
    assert list(run.history(keys=["acc"], samples=0).columns) == ["_step", "acc"]


def test_history_sampled_frames_pick_the_rows_they_always_did(tmp_path):
    pytest.importorskip("pandas")
    root = _logged(tmp_path, [None] * 3000)
    run = logger.Api(root).run("p/r")
    rows = run.history(samples=40, pandas=False)
    frame = run.history(samples=40)
    assert frame["_step"].tolist() == [r["_step"] for r in rows] and len(rows) == 40
    assert all(not math.isnan(v) for v in frame["loss"])
