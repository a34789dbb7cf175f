"""A segment without its start (a writer killed before its first write, an older version's
zero-byte file) has no live writer: its run is `crashed` within about a second, as a killed
run with a start is, never `running` for the heartbeat window (30 s) or longer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from logger import events as ev
from logger.liveness import HEARTBEAT_WINDOW, START_GRACE
from logger.reader import RootReader, segment_files
from tests.conftest import script_env

# Scaffolding inside the script, not a stand-in for what is tested: the first write into the
# root (the segment's first bytes) says "ready" and waits, so the SIGKILL lands between the
# segment's creation and its first write.
KILLED_BEFORE_FIRST_WRITE = textwrap.dedent("""
    import os, sys, time
    root = os.path.realpath(sys.argv[1])
    real_write = os.write

    def write(fd, data):
        try:
            target = os.path.realpath(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            target = ""
        if target.startswith(root + os.sep):
            real_write(1, b"ready\\n")
            time.sleep(60)
        return real_write(fd, data)

    os.write = write
    import logger
    logger.init(project="p", dir=root)
""")


def _states(reader: RootReader) -> dict[str, str]:
    return {path: run.state for path, run in reader.runs.items()}


def _until_not_running(reader: RootReader, limit: float) -> float:
    """Seconds until no run of `reader` reads `running` (refreshing as the app does)."""
    start = time.monotonic()
    while "running" in _states(reader).values():
        assert time.monotonic() - start < limit, _states(reader)
        time.sleep(0.1)
        reader.refresh_states()
        reader.scan()
    return time.monotonic() - start


def test_a_writer_killed_before_its_first_write_leaves_no_run_running(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    env = script_env(RUNWATCH_CONSOLE="off", RUNWATCH_SYSTEM_INTERVAL="0")
    with subprocess.Popen([sys.executable, "-c", KILLED_BEFORE_FIRST_WRITE, str(root)],
                          env=env, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        os.kill(proc.pid, signal.SIGKILL)
    reader = RootReader(root)
    reader.scan()
    assert _until_not_running(reader, START_GRACE + 2.0) < HEARTBEAT_WINDOW
    # No segment without its start: the killed writer's bytes never got a segment's name.
    for run_dir in (root / "p").iterdir():
        for seg in segment_files(run_dir):
            assert seg.stat().st_size > len(ev.HEADER), seg


def test_a_zero_byte_segment_reads_crashed_within_a_second_or_two(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "p" / "r1"
    run_dir.mkdir(parents=True)
    (run_dir / f"20260101T000000-script-{os.getpid()}-abcdef{ev.SEGMENT_SUFFIX}").write_bytes(b"")
    reader = RootReader(tmp_path / "runs")
    reader.scan()
    assert _states(reader) == {"p/r1": "running"}  # just made: its writer may be writing it
    took = _until_not_running(reader, START_GRACE + 2.0)
    assert _states(reader) == {"p/r1": "crashed"} and took < START_GRACE + 2.0


def test_an_old_zero_byte_segment_reads_crashed_at_first_sight(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "p" / "r1"
    run_dir.mkdir(parents=True)
    seg = run_dir / f"20260101T000000-script-1-abcdef{ev.SEGMENT_SUFFIX}"
    seg.write_bytes(ev.HEADER)  # a header and no start: the same
    old = time.time() - 5
    os.utime(seg, (old, old))
    reader = RootReader(tmp_path / "runs")
    reader.scan()
    assert _states(reader) == {"p/r1": "crashed"}
