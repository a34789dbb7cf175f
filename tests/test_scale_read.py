"""Reading history from the segments a chunk at a time (logger/history_read.py) gives what the
reader's merged History gives, for every shape a run can have: several writers, resumes,
rewritten steps, nested and media values, damage. Chunks are made tiny so pages, and rows
that share a step across a page boundary, are exercised."""

from __future__ import annotations

import random
import warnings
from pathlib import Path
from typing import Any

import pytest

import logger
from logger import Api, RunwatchWarning, history_read
from logger import events as ev
from logger.api import Run
from logger.history_read import HistoryScan
from logger.reader import RootReader


def _start(role: str, t0: float, follows: list[str] | None = None) -> list[ev.Event]:
    return [
        ev.SegmentStart(version=ev.FORMAT_VERSION, run_id="r", role=role, host="h", pid=1,
                        proc_start=0, boot_id="", time=t0),
        ev.RunStart(project="p", name="r", notes=None, tags=[], group=None, job_type=None, config={},
                    command=[], python="3", cwd="/", git_commit=None, git_branch=None,
                    resumed=bool(follows), time=t0, follows=follows or []),
    ]


def _log(step: int, t: float, **values: Any) -> ev.Log:
    return ev.Log(step=step, time=t, values=values)


def _write(run_dir: Path, name: str, events: list[ev.Event]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / name
    path.write_bytes(ev.HEADER + ev.frames_from([ev.encode_event(e) for e in events]))
    return path


def _plain(n: int, t0: float = 1000.0, first: int = 0, rank: int = 0) -> list[ev.Event]:
    return [_log(s, t0 + s, loss=rank * 1000 + s * 0.5, acc=s, **({"val": -s} if s % 7 == 0 else {}))
            for s in range(first, first + n)]


A, B, C = "20260101T000000-script-1-aaaaaa.rws", "20260101T000001-script-2-bbbbbb.rws", "20260101T000002-rank1-3-cccccc.rws"


def _one_writer(d: Path) -> None:
    _write(d, A, [*_start("script", 1000.0), *_plain(600)])


def _same_steps(d: Path) -> None:  # commit=False across flushes: rows at one step merge
    logs = [_log(s // 3, 1000.0 + s, **{f"k{s % 3}": s}) for s in range(900)]
    _write(d, A, [*_start("script", 1000.0), *logs])


def _nested(d: Path) -> None:
    media = {"_type": "image-file", "path": "media/a.png", "width": 2, "height": 2}
    logs = [_log(s, 1000.0 + s, loss=s * 1.5, opt={"lr": 0.1 * s, "m": {"b": s}}, img=media, lst=[1, "a"])
            for s in range(300)]
    logs.append(ev.Log(step=300, time=1300.0, values={7: 1.0, "loss": 2.5}))  # an old writer's int key
    _write(d, A, [*_start("script", 1000.0), *logs, *_plain(200, first=301)])


def _rewritten(d: Path) -> None:  # one writer whose steps went back (step= before the current)
    logs = [*_plain(400), *_plain(100, t0=5000.0, first=150), *_plain(100, first=400)]
    _write(d, A, [*_start("script", 1000.0), *logs])


def _resumed(d: Path) -> None:  # the resume sorts first by name: its generation puts it after
    _write(d, B, [*_start("script", 1000.0), *_plain(300)])
    _write(d, A, [*_start("script", 2000.0, follows=[B]), *_plain(300, t0=2000.0, first=300)])


def _resumed_back(d: Path) -> None:  # resumed from an older checkpoint: steps 200.. again
    _write(d, A, [*_start("script", 1000.0), *_plain(300)])
    _write(d, B, [*_start("script", 2000.0, follows=[A]), *_plain(300, t0=2000.0, first=200)])


def _ranks(d: Path) -> None:  # two ranks logging the same steps
    _write(d, A, [*_start("rank 0", 1000.0), *_plain(300)])
    _write(d, C, [*_start("rank 1", 900.0), *_plain(300, t0=900.0, rank=1)])


def _damaged(d: Path) -> None:
    path = _write(d, A, [*_start("script", 1000.0), *_plain(3000)])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one frame lost, the rest reads
    data += ev.encode(_log(5000, 9000.0, loss=1.0))[:-3]  # and a torn tail
    path.write_bytes(bytes(data))


def _editor_and_empty(d: Path) -> None:
    _write(d, A, [*_start("script", 1000.0), *_plain(300)])
    _write(d, B, [*_start("editor", 3000.0)[:1], ev.SetTags(tags=None, add=["x"], remove=[], time=3000.0)])
    (d / C).write_bytes(ev.HEADER)


SHAPES = [_one_writer, _same_steps, _nested, _rewritten, _resumed, _resumed_back, _ranks, _damaged,
          _editor_and_empty]
QUERIES = [(None, None, None), (["loss"], None, None), (["loss", "val"], None, None),
           (None, 40, 160), (["acc"], 250, None), (["opt.m.b", "img"], None, 120), (["nope"], None, None)]


def _reference(root: Path, keys: list[str] | None, lo: int | None, hi: int | None) -> list[dict[str, Any]]:
    """What the reader's merged History gives (the rows scan_history gave before)."""
    reader = RootReader(root)
    reader.scan()
    rows = reader.runs["p/r"].history.rows(keys, lo, hi)
    return [r for r in rows if keys is None or all(k in r for k in keys)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda f: f.__name__)
def test_streamed_history_equals_the_merged_history(tmp_path, monkeypatch, shape):
    monkeypatch.setattr(history_read, "CHUNK", 2048)  # pages of a few dozen rows
    root = tmp_path / "runs"
    shape(root / "p" / "r")
    for keys, lo, hi in QUERIES:
        want = _reference(root, keys, lo, hi)
        got = list(HistoryScan(root / "p" / "r", keys, lo, hi).rows())
        assert got == want, (shape.__name__, keys, lo, hi)
        assert [r["_step"] for r in got] == sorted({r["_step"] for r in got})


def test_the_first_pass_tells_which_runs_stream(tmp_path):
    root = tmp_path / "runs"
    expected = {_one_writer: True, _resumed: True, _rewritten: False, _resumed_back: False, _ranks: False}
    for shape, streams in expected.items():
        shape(root / "p" / shape.__name__)
        assert HistoryScan(root / "p" / shape.__name__).streams is streams, shape.__name__


def test_scan_history_reads_the_segments_not_a_history_held_in_memory(tmp_path):
    # A RunData that holds no history (what a lazy listing gives) still scans every row.
    root = tmp_path / "runs"
    _resumed(root / "p" / "r")
    reader = RootReader(root, keep_history=False)
    reader.scan()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        run = Run(reader.runs["p/r"], root)
    rows = list(run.scan_history())
    assert [r["_step"] for r in rows] == list(range(600))
    assert rows == _reference(root, None, None, None)


@pytest.mark.parametrize("shape", [_one_writer, _rewritten, _ranks, _resumed, _damaged],
                         ids=lambda f: f.__name__)
def test_history_samples_as_before(tmp_path, monkeypatch, shape):
    monkeypatch.setattr(history_read, "CHUNK", 2048)
    root = tmp_path / "runs"
    shape(root / "p" / "r")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        run = Api(root).run("p/r")
    rows = _reference(root, None, None, None)
    picks = sorted(random.Random(0).sample(range(1, len(rows) - 1), 48))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", RunwatchWarning)
        assert run.history(samples=50, pandas=False) == [rows[0], *(rows[i] for i in picks), rows[-1]]
        assert run.history(samples=0, pandas=False) == rows
        only = [{k: r[k] for k in ("_step", "loss")} for r in rows]
        assert run.history(samples=10_000, keys=["loss"], pandas=False) == only
    # what was passed over is said, once a read, as tail says it
    assert [str(w.message) for w in said] == ["run p/r: 1 damaged frame(s) skipped while reading its rows; "
                                              "the rest of the run reads normally"] * 3 * (shape is _damaged)
    with pytest.raises(KeyError, match="no single writer 'rank 9'"):
        list(run.scan_history(writer="rank 9"))


def test_history_dataframe_is_built_from_columns(tmp_path):
    pd = pytest.importorskip("pandas")
    root = tmp_path / "runs"
    _nested(root / "p" / "r")
    run = Api(root).run("p/r")
    frame = run.history(samples=0)
    want = pd.DataFrame(_reference(root, None, None, None))
    assert list(frame.columns[:3]) == ["_step", "_timestamp", "_runtime"]
    assert sorted(frame.columns) == sorted(want.columns) and len(frame) == len(want)
    pd.testing.assert_frame_equal(frame[list(want.columns)], want)
    assert list(run.history(keys=["acc"]).columns) == ["_step", "acc"]


def test_a_segment_read_with_a_decoder_keeps_to_its_limit_and_reads_every_event(tmp_path):
    from logger.segment import SegmentReader

    path = _write(tmp_path / "p" / "r", A, [*_start("script", 1000.0), *_plain(3000)])
    plain = SegmentReader(path).read_new()
    seg = SegmentReader(path)
    seg.decode = history_read._decode_steps
    first = seg.read_new(4096)
    assert 0 < len(first) < len(plain) // 2 and seg.pending > 0  # the limit held (a frame or two)
    got = first
    while seg.pending:
        got += seg.read_new(4096)
    assert [(type(e).__name__ == "StepLog", getattr(e, "step", None)) for e in got] == \
        [(type(e) is ev.Log, getattr(e, "step", None)) for e in plain]


def test_a_sampled_history_reads_a_plain_run_once_and_a_miscounted_one_right(tmp_path, monkeypatch):
    """history(samples=N) of a run whose first pass counts its rows (a Log a step, steps from
    the first to the last) picks in one read; where that count is off (damage its snapshot
    counted) it counts again, and gives the rows a count made as it read would give."""
    root = tmp_path / "runs"
    run = logger.init(project="p", dir=str(root), id="r")
    for i in range(20000):
        run.log({"loss": 1.0 / (i + 1)})
    run.finish()
    reads = []
    real = HistoryScan.chunks

    def counted(self: HistoryScan, *a: Any, **kw: Any) -> Any:
        reads.append(1)
        return real(self, *a, **kw)

    monkeypatch.setattr(HistoryScan, "chunks", counted)
    whole = list(Api(root).run("p/r").scan_history())
    picks = sorted(random.Random(0).sample(range(1, len(whole) - 1), 98))
    want = [whole[0], *(whole[i] for i in picks), whole[-1]]
    reads.clear()
    assert Api(root).run("p/r").history(samples=100, pandas=False) == want
    assert len(reads) == 1
    (seg,) = (root / "p" / "r").glob("*.rws")
    data = bytearray(seg.read_bytes())
    data[len(data) // 3] ^= 0xFF  # a frame before the last snapshot: its rows counted, not readable
    seg.write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunwatchWarning)
        got = Api(root).run("p/r")
        whole = list(got.scan_history())
        reads.clear()
        sampled = got.history(samples=100, pandas=False)
    assert len(whole) < 20000 and len(reads) == 3
    picks = sorted(random.Random(0).sample(range(1, len(whole) - 1), 98))
    assert sampled == [whole[0], *(whole[i] for i in picks), whole[-1]]
