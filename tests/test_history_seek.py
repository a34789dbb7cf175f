"""scan_history(min_step=N) passes over the frames before step N where a writer's steps never
go back (logger/history_seek.py), and gives exactly the rows a read from the start gives: for
every shape of run, every window, damage where the search lands, and `_runtime` counted from
the run's first row still."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import logger
from logger import events as ev
from logger import history_read
from logger.history_read import HistoryScan
from logger.history_seek import start_of_window

from .test_scale_read import _log, _plain, _reference, _start

A, B = "20260101T000000-script-1-aaaaaa.rws", "20260101T000001-script-2-bbbbbb.rws"


def _write(run_dir: Path, name: str, events: list[Any], per: int = 10) -> Path:
    """A segment of small frames (`per` events each): a search over many of them."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / name
    chunks = [ev.encode_event(e) for e in events]
    path.write_bytes(ev.HEADER + b"".join(ev.frames_from(chunks[i:i + per]) for i in range(0, len(chunks), per)))
    return path


def _one_writer(d: Path) -> None:
    _write(d, A, [*_start("script", 1000.0), *_plain(3000)])


def _same_steps(d: Path) -> None:  # commit=False across flushes: rows at one step merge, across frames too
    _write(d, A, [*_start("script", 1000.0), *[_log(s // 3, 1000.0 + s, **{f"k{s % 3}": s}) for s in range(3000)]],
           per=7)


def _no_rows_between(d: Path) -> None:  # frames of config updates only, here and there
    events: list[Any] = [*_start("script", 1000.0)]
    for s in range(0, 3000, 100):
        events += _plain(100, first=s)
        events += [ev.ConfigUpdate(values={"at": s}, time=1000.0 + s) for _ in range(10)]
    _write(d, A, events)


def _resumed(d: Path) -> None:
    _write(d, B, [*_start("script", 1000.0), *_plain(1500)])
    _write(d, A, [*_start("script", 5000.0, follows=[B]), *_plain(1500, t0=5000.0, first=1500)])


def _rewritten(d: Path) -> None:  # steps go back: no seek, and the same rows
    _write(d, A, [*_start("script", 1000.0), *_plain(2000), *_plain(500, t0=9000.0, first=700), *_plain(500, first=2000)])


def _damaged(d: Path) -> None:  # a byte flipped in each quarter: where the search probes, and where it passes
    path = _write(d, A, [*_start("script", 1000.0), *_plain(3000)])
    data = bytearray(path.read_bytes())
    for at in (len(data) // 4, len(data) // 2, 3 * len(data) // 4):
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))


SHAPES = [_one_writer, _same_steps, _no_rows_between, _resumed, _rewritten, _damaged]
WINDOWS = [(0, None), (1, 5), (17, None), (333, 340), (1499, 1502), (1500, None), (2500, None), (2999, None),
           (3000, None), (5000, None), (None, 40)]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda f: f.__name__)
def test_a_window_gives_what_a_read_from_the_start_gives(tmp_path, monkeypatch, shape):
    monkeypatch.setattr(history_read, "CHUNK", 4096)
    root = tmp_path / "runs"
    shape(root / "p" / "r")
    for lo, hi in WINDOWS:
        for keys in (None, ["loss"]):
            want = _reference(root, keys, lo, hi)
            assert list(HistoryScan(root / "p" / "r", keys, lo, hi).rows()) == want, (lo, hi, keys)


def test_the_frames_before_the_window_are_not_read(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    _resumed(root / "p" / "r")
    began: list[tuple[str, int]] = []
    real = history_read._segment_events

    def spy(path: Path, *a: Any, start: int = ev.HEADER_SIZE, **kw: Any) -> Any:
        began.append((path.name, start))
        return real(path, *a, start=start, **kw)

    monkeypatch.setattr(history_read, "_segment_events", spy)
    rows = list(HistoryScan(root / "p" / "r", None, 2900).rows())
    assert [r["_step"] for r in rows] == list(range(2900, 3000))
    assert [name for name, _ in began] == [A]  # the first writer's steps end before the window: not read
    assert began[0][1] > (root / "p" / "r" / A).stat().st_size * 0.9
    assert rows[0]["_runtime"] == 5000.0 + 2900 - 1000.0  # from the run's first row still


def test_a_logger_written_run_seeks_and_reads_the_same(tmp_path):
    root = tmp_path / "runs"
    run = logger.init(project="p", dir=str(root), id="r")
    for i in range(20000):
        run.log({"loss": 1.0 / (i + 1), "acc": i % 7})
    run.finish()
    (seg,) = (root / "p" / "r").glob("*.rws")
    assert start_of_window(seg, 19000) > seg.stat().st_size // 2
    whole = list(logger.Api(root).run("p/r").scan_history())
    for lo, hi in ((19000, None), (12345, 12400), (0, 3)):
        got = list(logger.Api(root).run("p/r").scan_history(min_step=lo, max_step=hi))
        assert got == [r for r in whole if r["_step"] >= lo and (hi is None or r["_step"] < hi)]


def test_an_odd_segment_is_read_from_its_start(tmp_path):
    path = tmp_path / "x.rws"
    path.write_bytes(b"not a segment at all")
    assert start_of_window(path, 10) == ev.HEADER_SIZE
    path.write_bytes(ev.HEADER + b"\x00" * 64)  # no marker where a frame's head should be
    assert start_of_window(path, 10) == ev.HEADER_SIZE
    assert start_of_window(tmp_path / "gone.rws", 10) == ev.HEADER_SIZE
