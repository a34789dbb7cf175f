"""Order across stdout and stderr: a real script alternating os.write(1, ...) and
os.write(2, ...) as fast as it can, then SIGKILLed. Where both fds write to one place (a
terminal, `2>&1`) the run keeps the exact order the script wrote them in, as that terminal
showed them (two destinations keep two named streams: tests/test_console.py)."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from logger.streams import console_lines

from .conftest import script_env

N = 3000
ALTERNATING = f"""
    import os, signal, time
    import logger
    from logger.streams import console_lines
    run = logger.init(project="p")
    for i in range({N}):
        os.write(1, b"o%d\\n" % i)
        os.write(2, b"e%d\\n" % i)
    os.write(1, b"DONE\\n")
    deadline = time.monotonic() + 60  # DONE stored (the flush intervals: ~0.2 s, more loaded)
    while time.monotonic() < deadline and all(t != "DONE" for _t, _s, t in console_lines(run.run_dir)):
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGKILL)  # then no finish at all
"""
WRITTEN = [line for i in range(N) for line in (f"o{i}", f"e{i}")] + ["DONE"]


def stored(root: Path) -> list[tuple[str, str]]:
    (run_dir,) = (root / "p").iterdir()
    return [(stream, text) for _t, stream, text in console_lines(run_dir) if stream != "note"]


def run_killed(root: Path, tmp_path: Path, out_fd: int, err_fd: int, reads: list[int]) -> bytes:
    """Run the script with fds 1 and 2 given; what it wrote to the `reads` ends."""
    (tmp_path / "train.py").write_text(textwrap.dedent(ALTERNATING))
    proc = subprocess.Popen([sys.executable, "train.py"], stdout=out_fd, stderr=err_fd, cwd=tmp_path,
                            env=script_env(RUNWATCH_DIR=str(root), RUNWATCH_SYSTEM_INTERVAL="0"))
    got = bytearray()
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        for fd in select.select(reads, [], [], 0.2)[0]:
            try:
                got += os.read(fd, 65536)
            except OSError:  # EIO: a pty whose writers have gone
                pass
    assert proc.wait(10) == -signal.SIGKILL
    return bytes(got)


def test_one_terminal_keeps_the_order_written_across_both_streams(root: Path, tmp_path: Path) -> None:
    master, slave = pty.openpty()
    try:
        shown = run_killed(root, tmp_path, slave, slave, [master])
    finally:
        os.close(slave)
    os.close(master)
    got = stored(root)
    assert [text for _s, text in got] == WRITTEN  # every line, in the order written
    assert {s for s, _t in got} == {"output"}  # both streams, as one terminal showed them
    assert shown.decode().replace("\r\n", "\n").split() == WRITTEN  # the terminal got the same


def test_one_pipe_as_2_to_1_keeps_the_order_too(root: Path, tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    try:
        shown = run_killed(root, tmp_path, write_end, write_end, [read_end])
    finally:
        os.close(write_end)
    os.close(read_end)
    assert [text for _s, text in stored(root)] == WRITTEN
    assert shown.decode().split() == WRITTEN
