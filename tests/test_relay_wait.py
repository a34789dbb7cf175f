"""The console relay is no child of the training script (logger/relay_link.py, console_relay.py):
a script that waits for "any child" gets its own children only, and learns it has none left;
a relay that never starts costs init a timeout, and the script copies its console itself;
finish() never writes to a pipe the console thread has closed (SIGPIPE's default kills)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logger import relay_link
from tests.conftest import script_env

SCRIPT = """
import os, signal, sys, time
import logger
from logger import capture

logger.init(project="p", dir=os.environ["ROOT"], console="redirect")
(cap,) = capture._captures.values()
relay = cap.console.link.pid
with open(f"/proc/{relay}/stat") as f:
    parent = int(f.read().rsplit(")", 1)[1].split()[1])
print("relay alive, ours:", parent == os.getpid(), flush=True)
child = os.fork()
if child == 0:
    time.sleep(0.3)
    os._exit(7)
got, status = os.wait()
print("wait:", got == child, os.WEXITSTATUS(status), flush=True)
signal.alarm(10)  # were the relay our child, the next wait would block for the whole run
for call in (lambda: os.waitpid(-1, os.WNOHANG), os.wait):
    try:
        print("another child:", call(), flush=True)
    except ChildProcessError:
        print("no child left", flush=True)
print("step", flush=True)
logger.log({"x": 1})
logger.finish()
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_os_wait_gets_the_scripts_own_child_and_then_no_child(root: Path, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          env=script_env(ROOT=str(root), RUNWATCH_SYSTEM_INTERVAL="0"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "relay alive, ours: False", "wait: True 7", "no child left", "no child left", "step"]


def test_a_relay_that_never_starts_costs_init_the_timeout_not_the_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stuck = tmp_path / "console_relay.py"
    stuck.write_text("import time\ntime.sleep(60)\n")  # a start that hangs (a stalled NFS home)
    monkeypatch.setattr(relay_link, "RELAY", str(stuck))
    monkeypatch.setattr(relay_link, "START_TIMEOUT", 0.5)
    fds = [os.pipe() for _ in range(3)]
    before = _children()
    try:
        began = time.monotonic()
        link, why = relay_link.start_relay([fds[0][0]], (fds[1][1], fds[2][1]))
        took = time.monotonic() - began
    finally:
        for r, w in fds:
            os.close(r)
            os.close(w)
    assert link is None and "did not start" in why, why
    assert 0.4 < took < 5.0
    assert _children() - before == set()  # killed and reaped: not even a zombie left


def _children() -> set[int]:
    """This process's children, zombies too."""
    found = set()
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                    found.add(int(name))
        except (OSError, ValueError, IndexError):
            continue
    return found


# Scaffolding inside the script, not a stand-in for what is tested: restoring fd 2 in finish()
# is followed by a pause, so that the console thread, seeing every pipe end, finishes first.
PUMP_FIRST = """
import os, signal, time
signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # a write to a pipe with no reader kills
import logger
from logger import capture
logger.init(project="p", dir=os.environ["ROOT"], console="redirect")
(cap,) = capture._captures.values()
os.kill(cap.console.link.pid, signal.SIGKILL)  # the thread copies from here
time.sleep(0.5)
print("before finish", flush=True)
real_dup2 = os.dup2
def dup2(fd, fd2, inheritable=True):
    real_dup2(fd, fd2, inheritable)
    if fd2 == 2:
        time.sleep(0.5)
os.dup2 = dup2
logger.finish()
os.dup2 = real_dup2
print("after finish", flush=True)
"""


def test_finish_never_writes_to_a_pipe_the_console_thread_has_closed(root: Path, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text(PUMP_FIRST)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          env=script_env(ROOT=str(root), RUNWATCH_SYSTEM_INTERVAL="0"))
    assert proc.returncode == 0, (proc.returncode, proc.stderr)  # -13: SIGPIPE
    assert proc.stdout.splitlines() == ["before finish", "after finish"]
