"""Liveness where a pid cannot say: writers in their own PID namespace, on clocks that are ahead.

The writers here are real processes; `unshare` puts them in a PID namespace of their own (as a
container sharing the host's hostname is), and `--uts` gives them a hostname of their own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from logger import events as ev
from logger.reader import RootReader
from logger.rundata import HEARTBEAT_WINDOW
from tests.conftest import script_env

WRITER = """
import os, sys, time
from pathlib import Path
AHEAD = float(os.environ.get("CLOCK_AHEAD", "0"))
if AHEAD:
    _real = time.time
    time.time = lambda: _real() + AHEAD  # this host's clock is ahead of the reader's
import logger, logger.writer
logger.writer.HEARTBEAT_INTERVAL = 0.3
run = logger.init(project="p", id="w1", dir=sys.argv[1])
run.log({"loss": 1.0})
Path(sys.argv[2]).write_text(str(os.getpid()))
time.sleep(300)
"""


def _unshare(*extra: str) -> list[str] | None:
    exe = shutil.which("unshare")
    if exe is None:
        return None
    cmd = [exe, "--pid", "--fork", "--mount-proc", "--map-root-user", *extra]
    try:
        ok = subprocess.run([*cmd, "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return None
    return cmd if ok else None


def _start(tmp_path: Path, root: Path, prefix: list[str], **env: str) -> subprocess.Popen[bytes]:
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(WRITER))
    flag = tmp_path / "started"
    log = tmp_path / "writer.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*prefix, sys.executable, str(script), str(root), str(flag)],
                                env=script_env(**env), start_new_session=True,
                                stdout=out, stderr=out)
    deadline = time.monotonic() + 30
    while not (flag.exists() and _row_on_disk(root)):  # started, and its first flush is done
        if proc.poll() is not None or time.monotonic() > deadline:
            _kill(proc)
            raise AssertionError(f"writer did not start: {log.read_text()}")
        time.sleep(0.05)
    return proc


def _row_on_disk(root: Path) -> bool:
    return any(type(e) is ev.Log for path in root.glob("p/w1/*.rws")
               for e in ev.scan_frames(path.read_bytes(), ev.HEADER_SIZE)[0])


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def _state(reader: RootReader, now: float | None = None) -> str:
    reader.scan()
    run = reader.runs["p/w1"]
    run.refresh_state(now)
    return run.state


def test_a_writer_in_its_own_pid_namespace_reads_running_until_it_dies(tmp_path, monkeypatch):
    prefix = _unshare()
    if prefix is None:
        pytest.skip("unshare --pid --mount-proc is not available here (see the simulated test)")
    root = tmp_path / "runs"
    proc = _start(tmp_path, root, prefix)
    try:
        reader = RootReader(root)
        start = next(iter(reader.scan()[0].run.segments.values())).start
        assert start is not None and start.pid == 1  # pid 1 in its namespace: our pid 1 is init
        assert _state(reader) == "running"
        from logger import liveness

        monkeypatch.setattr(liveness, "HEARTBEAT_WINDOW", 2.0)  # heartbeats come every 0.3 s
        # Heartbeats keep arriving: running, over more than one window.
        for _ in range(8):
            assert _state(reader) == "running"
            time.sleep(0.5)
        assert _state(RootReader(root)) == "running"  # a fresh reader (the Api) agrees
    finally:
        _kill(proc)
    # Gone: the file stops moving, and a reader that watches it says so within the window.
    deadline = time.monotonic() + 15
    while _state(reader) == "running":
        assert time.monotonic() < deadline, "a dead namespaced writer still reads running"
        time.sleep(0.3)
    assert _state(reader) == "crashed"


def test_a_dead_writer_whose_clock_is_ahead_reads_crashed(tmp_path):
    prefix = _unshare("--uts")
    if prefix is None:
        pytest.skip("unshare --pid --uts is not available here (see the simulated test)")
    root = tmp_path / "runs"
    host = [*prefix, "sh", "-c", 'hostname other-box && exec "$0" "$@"']
    proc = _start(tmp_path, root, host, CLOCK_AHEAD=str(7 * 86400))
    reader = RootReader(root)
    try:
        assert _state(reader) == "running"
        seg = next(iter(reader.runs["p/w1"].segments.values()))
        assert seg.start is not None and seg.start.host == "other-box"
        assert seg.last_time > time.time() + 86400  # its events carry times a week ahead
    finally:
        _kill(proc)
    later = time.time() + HEARTBEAT_WINDOW + 1
    assert _state(reader, now=later) == "crashed"
    assert _state(RootReader(root), now=later) == "crashed"


def _segment(run_dir: Path, start: ev.SegmentStart, *more: ev.Event) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "20260101T000000-script-1-abcdef.rws"
    path.write_bytes(ev.HEADER + b"".join(ev.encode(e) for e in (start, *more)))
    return path


def _start_event(**kw: object) -> ev.SegmentStart:
    from logger.host import boot_id

    base: dict[str, object] = dict(version=ev.FORMAT_VERSION, run_id="w1", role="script",
                                   host=socket.gethostname(), pid=1, proc_start=123456789,
                                   boot_id=boot_id(), time=time.time())
    base.update(kw)
    return ev.SegmentStart(**base)  # type: ignore[arg-type]


def test_simulated_foreign_namespace_is_judged_by_heartbeats_seen(tmp_path):
    """The same, without unshare: a segment whose writer recorded another PID namespace (pid 1
    there, start time unlike our pid 1's), heartbeating while the test appends to it."""
    run_dir = tmp_path / "runs" / "p" / "w1"
    path = _segment(run_dir, _start_event(pid_ns="pid:[1]"))
    reader = RootReader(tmp_path / "runs")
    for _ in range(3):
        with open(path, "ab") as f:
            f.write(ev.encode(ev.Heartbeat(time=time.time())))
        assert _state(reader) == "running"
    assert _state(reader, now=time.time() + HEARTBEAT_WINDOW + 1) == "crashed"


def test_a_future_clock_never_keeps_a_silent_segment_running(tmp_path):
    """A writer on another host whose events are a week ahead, silent for longer than the
    window by this reader's clock (its file's mtime is old): crashed, whatever its events say."""
    run_dir = tmp_path / "runs" / "p" / "w1"
    ahead = time.time() + 7 * 86400
    path = _segment(run_dir, _start_event(host="elsewhere", time=ahead),
                    ev.Log(step=0, time=ahead, values={"loss": 1.0}))
    old = time.time() - 3600
    os.utime(path, (old, old))
    assert _state(RootReader(tmp_path / "runs")) == "crashed"


def test_a_segment_created_but_not_yet_written_is_a_starting_run(tmp_path):
    """A writer creates its file, then writes its first frame: a reader in between must not
    call the run crashed (tail printed "crashed" then "running" for a healthy run)."""
    run_dir = tmp_path / "runs" / "p" / "w1"
    run_dir.mkdir(parents=True)
    path = run_dir / "20260101T000000-script-1-abcdef.rws"
    path.write_bytes(b"")
    reader = RootReader(tmp_path / "runs")
    assert _state(reader) == "running"
    assert _state(reader, now=time.time() + HEARTBEAT_WINDOW + 1) == "crashed"  # never written
    path.write_bytes(ev.HEADER + ev.encode(_start_event(host="elsewhere")))
    assert _state(reader) == "running"
