"""Frames and the segment reader's I/O: bounded frames, the event limit, linear
resynchronisation, bounded reads, and files a reader must not hang or crash on."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from logger import events as ev
from logger.reader import RootReader
from logger.segment import SegmentReader
from logger.writer import RunwatchWarning, SegmentWriter

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ROOT = REPO / "tests" / "data" / "sample_root"


def burst(tmp_path: Path, steps: int) -> Path:
    """A segment with `steps` steps logged in one burst: one flush."""
    writer = SegmentWriter(tmp_path / "p" / "burst", "burst")
    for i in range(steps):
        writer.append(ev.encode_event(ev.Log(i, 1.0, {f"metric_{k}": 0.1 * k + i for k in range(8)})))
    writer.close()
    return writer.path


def frames_of(data: bytes) -> list[tuple[int, int, list[object]]]:
    """(start, payload length, events) of every frame of an intact segment."""
    out, pos = [], ev.HEADER_SIZE
    while pos < len(data):
        marker, length, _ = ev.FRAME_HEAD.unpack_from(data, pos)
        assert marker == ev.MARKER
        end = pos + ev.FRAME_HEAD_SIZE + length
        out.append((pos, length, ev.scan_frames(data[pos:end])[0]))
        pos = end
    return out


def test_one_flush_is_cut_into_bounded_frames(tmp_path: Path) -> None:
    frames = frames_of(burst(tmp_path, 2000).read_bytes())
    assert len(frames) > 5
    assert max(length for _, length, _ in frames) <= ev.FRAME_BYTES


def test_flipped_bytes_in_a_burst_cost_only_their_own_small_frames(tmp_path: Path) -> None:
    data = bytearray(burst(tmp_path, 2000).read_bytes())
    frames = frames_of(bytes(data))
    per_frame = max(len(events) for _, _, events in frames)
    for i in range(5):  # five flipped bytes, in five frames
        start, length, _ = frames[1 + i * (len(frames) - 2) // 5]
        data[start + ev.FRAME_HEAD_SIZE + length // 2] ^= 0x20
    events, _, skipped = ev.scan_frames(bytes(data), ev.HEADER_SIZE)
    steps = [e.step for e in events if type(e) is ev.Log]
    assert skipped == 5
    assert len(steps) >= 2000 - 5 * per_frame and per_frame < 400  # before: 0 of 2000


def test_an_event_larger_than_a_frame_gets_a_frame_of_its_own(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path / "p" / "big", "big")
    small = [ev.encode_event(ev.Log(i, 1.0, {"x": i})) for i in range(3)]
    big = ev.encode_event(ev.Log(3, 1.0, {"blob": "x" * (3 * ev.FRAME_BYTES)}))
    for payload in (*small, big, *small):
        writer.append(payload)
    writer.close()
    frames = frames_of(writer.path.read_bytes())
    sizes = [len(events) for _, _, events in frames]
    assert [e.step for _, _, es in frames for e in es if type(e) is ev.Log] == [0, 1, 2, 3, 0, 1, 2]
    assert sizes == [1, 3, 1, 3]  # the start, the small ones, the big one alone, the rest


def test_an_event_over_the_limit_is_dropped_with_one_warning_and_counted(tmp_path: Path) -> None:
    writer = SegmentWriter(tmp_path / "p" / "huge", "huge")
    huge = ev.encode_event(ev.Log(1, 1.0, {"blob": b"\0" * (ev.MAX_EVENT_BYTES + 1)}))
    writer.append(ev.encode_event(ev.Log(0, 1.0, {"x": 0})))
    with pytest.warns(RunwatchWarning, match=r"over the 64 MiB limit"):
        writer.append(huge)
        writer.append(huge)
        writer.flush()
    writer.append(ev.encode_event(ev.Log(2, 1.0, {"x": 2})))
    writer.close()
    assert writer.path.stat().st_size < 1 << 20
    events = SegmentReader(writer.path).read_new()
    assert [e.step for e in events if type(e) is ev.Log] == [0, 2]
    assert writer.dropped_steps == 2 and writer.dropped_bytes == 2 * len(huge)


def test_resynchronisation_after_crafted_damage_is_linear(tmp_path: Path) -> None:
    """1.5 MB of frame heads, each claiming a long frame: every one a candidate to check."""
    n = 1_500_000
    heads = bytearray(ev.HEADER)
    while len(heads) < n:
        claim = n - len(heads) - 2 * ev.FRAME_HEAD_SIZE  # ends near the end: an expensive check
        heads += ev.FRAME_HEAD.pack(ev.MARKER, max(claim, 0), 12345)
    good = ev.encode(ev.Log(7, 1.0, {"x": 1}))
    data = bytes(heads) + good
    t = time.perf_counter()
    events, _, skipped = ev.scan_frames(data, ev.HEADER_SIZE)
    took = time.perf_counter() - t
    assert [e.step for e in events] == [7] and skipped == 1
    assert took < 3.0, f"{took:.1f} s to resynchronise over 1.5 MB"  # before: minutes
    path = tmp_path / "heads.rws"
    path.write_bytes(data)
    t = time.perf_counter()
    seg = SegmentReader(path)
    assert [e.step for e in seg.read_new()] == [7] and seg.skipped == 1
    assert time.perf_counter() - t < 3.0


def test_a_huge_sparse_segment_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "sparse.rws"
    with open(path, "wb") as f:
        f.write(ev.HEADER + ev.encode(ev.Log(0, 1.0, {"x": 1})))
        f.write(bytes(32 * 1024 * 1024))  # zeros on disk: read, in bounded chunks
        f.truncate(512 * 1024 * 1024)  # then a hole of zeros: no disk used, jumped over
        f.seek(0, os.SEEK_END)
        f.write(ev.encode(ev.Log(1, 1.0, {"x": 2})))
    seg = SegmentReader(path)
    tracemalloc.start()
    try:
        events = seg.read_new()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [e.step for e in events] == [0, 1] and seg.skipped == 1
    assert peak < 16 * 1024 * 1024, f"peak {peak >> 20} MiB reading a 512 MiB file"


def test_a_frame_longer_than_a_read_chunk_reads_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.rws"
    blob = "y" * (3 * 1024 * 1024)
    path.write_bytes(ev.HEADER + ev.encode(ev.Log(0, 1.0, {"x": 1})) + ev.encode(
        ev.Log(1, 1.0, {"blob": blob})) + ev.encode(ev.Log(2, 1.0, {"x": 3})))
    for limit in (None, 64 * 1024):
        seg = SegmentReader(path)
        got = []
        for _ in range(10):
            got += seg.read_new(limit)
        assert [e.step for e in got] == [0, 1, 2] and seg.skipped == 0


def _with_timeout(fn: Callable[[], object], timeout: float, unblock: Callable[[], None]) -> None:
    """Run `fn` in a thread; if it has not returned in `timeout`, unblock it and fail."""
    done = threading.Event()

    def target() -> None:
        fn()
        done.set()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    if not done.wait(timeout):
        unblock()
        thread.join(5)
        raise AssertionError("a reader blocked on a file that is not a regular file")


@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_fifo_or_socket_named_rws_never_blocks_a_reader(kind: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "p" / "r1"
    run_dir.mkdir(parents=True)
    special = run_dir / "0-special.rws"
    sock = None
    if kind == "fifo":
        os.mkfifo(special)
    else:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        monkeypatch.chdir(run_dir)  # a relative name: socket paths are limited to 108 bytes
        sock.bind(special.name)
    writer = SegmentWriter(run_dir, "r1")
    writer.append(ev.encode_event(ev.Log(0, 1.0, {"x": 1})))
    writer.close()
    reader = RootReader(tmp_path)

    def unblock() -> None:
        os.close(os.open(special, os.O_WRONLY | os.O_NONBLOCK))

    try:
        _with_timeout(reader.scan, 5.0, unblock)
    finally:
        if sock is not None:
            sock.close()
    run = reader.runs["p/r1"]
    assert list(run.history.steps) == [0]
    # Discovery lists regular files only (logger.reader.segment_files); a path that reaches
    # the segment reader anyway (a watcher's event) is refused there, without blocking.
    seg = SegmentReader(special)
    _with_timeout(seg.read_new, 5.0, unblock)
    assert "not a regular file" in (seg.error or "")


DROP_PRIVILEGES = r"""
import os, sys
from logger.reader import RootReader
os.setgid(65534); os.setuid(65534)  # nobody: root reads everything
reader = RootReader(sys.argv[1])
reader.scan(); reader.refresh_states()
run = reader.runs["p/locked"]
print(run.state); print(run.created_at); print(run.errors[0])
"""


def test_a_segment_the_reader_may_not_open_reads_unreadable(tmp_path: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="rw-perm-", dir="/tmp"))  # where nobody may look
    try:
        run_dir = root / "p" / "locked"
        writer = SegmentWriter(run_dir, "locked")
        writer.close()
        for d in (root, root / "p", run_dir):
            d.chmod(0o755)
        writer.path.chmod(0)
        os.utime(writer.path, (1.7e9, 1.7e9))
        if os.geteuid() == 0:
            out = subprocess.run([sys.executable, "-c", DROP_PRIVILEGES, str(root)], cwd=REPO,
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 0, out.stderr
            state, created, error = out.stdout.splitlines()
        else:
            reader = RootReader(root)
            reader.scan()
            reader.refresh_states()
            run = reader.runs["p/locked"]
            state, created, error = run.state, str(run.created_at), run.errors[0]
    finally:
        shutil.rmtree(root)
    assert state == "unreadable"
    assert float(created) == 1.7e9  # the file's mtime, not 1970
    assert error.endswith("unreadable (permission denied)") and "locked" in error


def test_a_segment_that_shrinks_under_a_live_reader_is_reported_once(tmp_path: Path) -> None:
    path = burst(tmp_path, 50)
    seg = SegmentReader(path)
    first = seg.read_new()
    assert len([e for e in first if type(e) is ev.Log]) == 50
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated by someone else
    assert seg.read_new() == []
    with open(path, "ab") as f:
        f.write(data[len(data) // 2 :])  # and written again: the same old events
    assert seg.read_new() == [] and seg.read_new() == []
    assert seg.skipped == 1 and seg.error is not None and "shrank" in seg.error


def test_the_sample_root_written_by_the_first_writer_still_reads() -> None:
    reader = RootReader(SAMPLE_ROOT)
    reader.scan()
    runs = reader.runs
    assert len(runs) >= 12 and all(r.skipped_frames == 0 and not r.errors for r in runs.values())
    assert all(len(runs[f"sweep/s{i:03d}"].history) > 10 for i in range(12))


def test_frames_of_the_first_writer_up_to_4_mib_still_read(tmp_path: Path) -> None:
    payloads = [ev.encode_event(ev.Log(i, 1.0, {"s": "z" * 900})) for i in range(4000)]
    old = ev.frame(payloads)  # one frame per flush, as format 1's first writer wrote
    assert len(old) > 3 * 1024 * 1024
    path = tmp_path / "old.rws"
    path.write_bytes(ev.HEADER + old)
    seg = SegmentReader(path)
    assert [e.step for e in seg.read_new(64 * 1024)] == list(range(4000))
