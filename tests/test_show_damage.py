"""`runwatch show` and the Api's runs() count every damaged frame of a run, as `tail` (which
reads every frame) counts them: a listing reads each segment from its last snapshot on, and
the damage before that snapshot is counted by logger/damage.py (frame checks, no decoding),
once: the index cache keeps the count."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings
from contextlib import redirect_stderr
from pathlib import Path

import pytest

import logger
from logger import damage
from logger import events as ev
from logger.reader import RootReader
from tests.test_scale_read import A, _log, _start, _write
from tests.test_tail_skips import REPO, _damaged_run, _tail
from tui.cli import export
from tui.cli.runs import cmd_show
from tui.tail_replay import meta_reader


def _show_json(root: Path, ref: str = "p/r1") -> dict:
    out = io.StringIO()
    assert cmd_show(ref, str(root), True, out) == 0
    return json.loads(out.getvalue())


def _boundaries(data: bytes) -> list[int]:
    """Where each frame of a clean segment starts."""
    out, pos = [], ev.HEADER_SIZE
    while pos + ev.FRAME_HEAD_SIZE <= len(data):
        out.append(pos)
        pos += ev.FRAME_HEAD_SIZE + ev.FRAME_HEAD.unpack_from(data, pos)[1]
    return out


def _unreadable_frame_run(root: Path) -> Path:
    """A run the real logger wrote, with a frame whose checksum holds but whose payload is
    not msgpack (0xc1 is never used) put between two of its frames, before its snapshot."""
    run = logger.init(project="p", name="odd", id="r3", dir=str(root))
    for i in range(3000):
        run.log({"loss": i * 0.5})
    run.finish()
    seg = next((root / "p" / "r3").glob("*.rws"))
    data = seg.read_bytes()
    pos = _boundaries(data)[3]
    body = b"\xc1"
    odd = ev.FRAME_HEAD.pack(ev.MARKER, len(body), ev._crc32(body)) + body
    seg.write_bytes(data[:pos] + odd + data[pos:])
    return seg


def test_show_counts_a_damaged_frame_before_the_snapshot_as_tail_does(tmp_path):
    root = tmp_path / "runs"
    _damaged_run(root)
    listing = RootReader(root, meta=True)
    listing.scan()
    run = listing.runs["p/r1"]
    assert run.skipped_frames == 0 and run.segments[next(iter(run.segments))].counted_from > ev.HEADER_SIZE
    assert meta_reader(root).runs["p/r1"].skipped_frames == 1  # every frame read, as tail reads them
    assert "1 damaged frame(s) skipped" in _tail(root).stderr
    first = _show_json(root)
    assert first["skipped_frames"] == 1
    again = RootReader(root, meta=True)  # the count went into the index cache: nothing to scan
    again.scan()
    seg = next(iter(again.runs["p/r1"].segments.values()))
    assert (seg.skipped, seg.counted_from) == (1, 0)
    assert _show_json(root)["skipped_frames"] == 1
    out = io.StringIO()
    cmd_show("p/r1", str(root), False, out)
    assert "damaged frames  1 skipped while reading" in out.getvalue()


@pytest.mark.parametrize("cache", ["1", "0"])
def test_a_checksummed_frame_that_is_not_msgpack_counts_as_tail_counts_it(tmp_path, monkeypatch, cache):
    monkeypatch.setenv("RUNWATCH_CACHE", cache)
    root = tmp_path / "runs"
    _unreadable_frame_run(root)
    full = meta_reader(root).runs["p/r3"].skipped_frames
    assert full == 1
    assert _show_json(root, "p/r3")["skipped_frames"] == full
    assert _show_json(root, "p/r3")["skipped_frames"] == full  # from the cache, or scanned again


def test_api_runs_counts_every_damaged_frame_as_api_run_does(tmp_path):
    root = tmp_path / "runs"
    _damaged_run(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api = logger.Api(root)
        listed = api.runs("p")[0]
        assert listed.skipped_frames == api.run("p/r1").skipped_frames == 1


def test_the_count_stops_at_the_snapshot(tmp_path):
    """Only what lies before the offset given is scanned: damage after it is the reader's."""
    root = tmp_path / "runs"
    seg = _damaged_run(root)
    size = seg.stat().st_size
    assert damage.count_before(seg, size) == 1
    assert damage.count_before(seg, _boundaries(seg.read_bytes())[2]) == 0  # before the damage
    assert damage.count_before(seg, size + 10) is None  # past the end: not read that far


async def test_the_app_s_detail_counts_the_damage_before_the_snapshot(tmp_path):
    """The detail screen's info tab: the app lists runs as `ls` does, from their snapshots on;
    opening a run counts the rest, as `show` and tail count it."""
    from tests.test_tui_detail import open_detail
    from tests.test_tui_main import started
    from tests.test_tui_support import wait_for
    from tui.app import RunwatchApp

    root = tmp_path / "runs"
    _damaged_run(root)
    async with RunwatchApp(root).run_test(size=(120, 40)) as pilot:
        await started(pilot, runs=1)
        detail = await open_detail(pilot)
        await pilot.press("2")
        await wait_for(pilot, lambda: "damaged frame" in str(detail.query_one("#info-run").render()))
        assert "1 damaged frame(s) skipped while reading" in str(detail.query_one("#info-run").render())
    again = RootReader(root, meta=True)  # and the count went into the index cache, as show's does
    again.scan()
    seg = next(iter(again.runs["p/r1"].segments.values()))
    assert (seg.skipped, seg.counted_from) == (1, 0)


def test_export_says_what_it_skipped_as_tail_says_it(tmp_path):
    """export wrote a damaged run's rows and said nothing of the frame it passed over: it says
    so now on stderr, in tail's words (stdout holds the data alone), and still exits 0."""
    root = tmp_path / "runs"
    _damaged_run(root)
    said = [line for line in _tail(root).stderr.splitlines() if "damaged" in line]
    for args in ([], ["-o", str(tmp_path / "r.csv")], ["-o", str(tmp_path / "r.jsonl")]):
        got = subprocess.run([sys.executable, "-m", "tui", "export", "p/r1", "--root", str(root), *args],
                             cwd=REPO, capture_output=True, text=True, timeout=120)
        assert got.returncode == 0, got.stderr
        assert [line for line in got.stderr.splitlines() if "damaged" in line] == said
        assert "runwatch" not in got.stdout


def test_export_counts_rows_past_int64_as_show_does(tmp_path):
    root = tmp_path / "runs"
    logs = [_log(s, 10.0 + s, loss=0.5 + s) for s in range(5)] + [_log(2**63 + 7, 20.0, loss=1.5)]
    _write(root / "p" / "r", A, [*_start("script", 9.0), *logs])
    shown = _show_json(root, "p/r")["dropped_rows"]
    assert shown == 1
    err, out = io.StringIO(), io.StringIO()
    with redirect_stderr(err):
        assert export.cmd_export("p/r", str(root), None, None, [], out) == 0
    assert "run p/r: 1 row(s) with a step outside 64 bits, skipped" in err.getvalue()
    assert len(out.getvalue().splitlines()) == 6  # the header and the five rows a history holds


def test_logs_says_it_skipped_a_damaged_frame(tmp_path):
    root = tmp_path / "runs"
    _damaged_run(root)
    said = [line for line in _tail(root).stderr.splitlines() if "damaged" in line]
    got = subprocess.run([sys.executable, "-m", "tui", "logs", "p/r1", "--root", str(root)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0
    assert [line for line in got.stderr.splitlines() if "damaged" in line] == said


def test_damage_in_the_first_frame_is_counted_once(tmp_path):
    """A listing reads a segment's first frames before it takes the snapshot: damage there is
    counted by that read, and not again by the count of what lies before the snapshot."""
    root = tmp_path / "runs"
    _unreadable_frame_run(root)
    seg = next((root / "p" / "r3").glob("*.rws"))
    data = bytearray(seg.read_bytes())
    data[ev.HEADER_SIZE + ev.FRAME_HEAD_SIZE + 2] ^= 0xFF  # the first frame's payload
    seg.write_bytes(bytes(data))
    full = meta_reader(root).runs["p/r3"].skipped_frames
    assert full == 2
    assert _show_json(root, "p/r3")["skipped_frames"] == full
    assert _show_json(root, "p/r3")["skipped_frames"] == full


def _damaged_past_the_snapshot(root: Path) -> Path:
    """_damaged_run's run (one frame damaged before its snapshot), then a frame whose checksum
    fails and a whole one after it, past the snapshot: a listing's read counts the one after
    the snapshot, the one before only when asked (logger/damage.py)."""
    seg = _damaged_run(root)
    body = b"\x90"  # an empty list of events
    crc = ev._crc32(body)
    with open(seg, "ab") as f:
        f.write(ev.FRAME_HEAD.pack(ev.MARKER, 1, crc ^ 1) + body + ev.FRAME_HEAD.pack(ev.MARKER, 1, crc) + body)
    return seg


def _runs_warned(root: Path, by_path: bool = False) -> tuple[list[str], object]:
    """What Api().runs() (or, `by_path`, Api().run()) warned of the damaged run, and the run."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = logger.Api(root).run("p/r1") if by_path else logger.Api(root).runs("p")[0]
    return [str(w.message) for w in caught if "damaged" in str(w.message)], run


@pytest.mark.parametrize("cache", ["1", "0"])
def test_api_runs_warns_at_least_the_count_its_listing_has(tmp_path, monkeypatch, cache):
    """runs() and run() warned "1 damaged frame(s)" where skipped_frames said 2: they scan nothing at
    build time (a 1M-step run lists in ~1 ms), so where damage before a snapshot is not
    counted yet it says "at least" the count it has."""
    monkeypatch.setenv("RUNWATCH_CACHE", cache)
    root = tmp_path / "runs"
    _damaged_past_the_snapshot(root)
    for by_path in (False, True, False):  # run(path) is as lazy; a count skipped_frames made is the Run's
        said, run = _runs_warned(root, by_path)
        assert said == ["run p/r1: at least 1 damaged frame(s) in its segment files were skipped "
                        "(run.skipped_frames counts every one); the rest of the run reads normally"]
        assert run.skipped_frames == 2 == meta_reader(root).runs["p/r1"].skipped_frames


def test_api_runs_warns_the_exact_count_where_the_index_cache_holds_it(tmp_path):
    root = tmp_path / "runs"
    _damaged_past_the_snapshot(root)
    assert _show_json(root)["skipped_frames"] == 2  # show's count, kept in the index cache
    for by_path in (False, True):
        said, run = _runs_warned(root, by_path)
        assert said == ["run p/r1: 2 damaged frame(s) in its segment files were skipped; "
                        "the rest of the run reads normally"]
        assert run.skipped_frames == 2


def test_the_api_s_warnings_point_at_the_script_s_line(tmp_path):
    """runs() builds its Runs in a comprehension, run() directly: either way a warning names
    the caller's file and line, not runwatch's (warnings.warn's stacklevel, found by walking out)."""
    root = tmp_path / "runs"
    run = logger.init(project="p", dir=str(root), id="r1")
    for i in range(3000):
        run.log({"a": i})
    run._writer.flush()
    (seg,) = (root / "p" / "r1").glob("*.rws")
    data = bytearray(seg.read_bytes())
    data[-200] ^= 0xFF  # a frame after the last snapshot: counted by the listing itself
    seg.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        logger.Api(root).run("p/r1")
        logger.Api(root).runs("p")
    assert [(Path(w.filename).name, "damaged frame" in str(w.message)) for w in said] == [
        ("test_show_damage.py", True)] * 2


def test_reading_a_runs_rows_says_what_it_passed_over(tmp_path):
    """scan_history() and history() of a run damaged before its last snapshot (which the
    listing does not read) said nothing of the rows they left out: they warn once a read, in
    tail's words, at the script's line."""
    root = tmp_path / "runs"
    run = logger.init(project="p", dir=str(root), id="r1")
    for i in range(200000):
        run.log({"a": i})
    run.finish()
    (seg,) = (root / "p" / "r1").glob("*.rws")
    data = bytearray(seg.read_bytes())
    data[len(data) // 3] ^= 0xFF
    seg.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        got = logger.Api(root).run("p/r1")
        assert said == []  # the listing read nothing before the snapshot
        rows = sum(1 for _ in got.scan_history())
        got.history(pandas=False)
    assert 190000 < rows < 200000
    assert [(Path(w.filename).name, str(w.message)) for w in said] == [
        ("test_show_damage.py", "run p/r1: 1 damaged frame(s) skipped while reading its rows; "
                                "the rest of the run reads normally")] * 2
