"""`runwatch top`: this host's GPUs (NVML through the fake of tests/test_system.py) and which
live run's process uses each, matched by pid against a real running logger subprocess; CPU
and memory of its process tree for real (psutil)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import run_script, script_env
from tests.test_cli_support import read_on_a_pty
from tests.test_system import NVMLError, fake_nvml, h100
from tui.cli.top import CLEAR, HostView, cmd_top, render

LIVE = r"""
import os, subprocess, sys, time
import logger
logger.init(project="p", name="live\x1b]52;c;SGVsbG8=\x07run")
child = subprocess.Popen([sys.executable, "-c", "import time; b = bytearray(80 * 2**20); time.sleep(60)"])
held = bytearray(120 * 2**20)
with open("ready", "w") as f:
    f.write(str(child.pid))
end = time.monotonic() + 0.5
while time.monotonic() < end:  # busy: the tree's CPU share is above zero
    pass
while not os.path.exists("stop"):
    time.sleep(0.05)
child.kill()
logger.finish()
"""


class NVMLError_LibraryNotFound(NVMLError):  # noqa: N801 - pynvml's name
    pass


@pytest.fixture
def live_run(root: Path, tmp_path: Path) -> Any:
    """A finished run, then a live one whose script holds a child process: (its pid, child pid)."""
    run_script(tmp_path, "import logger\nlogger.init(project='p', name='done')\nlogger.finish()\n",
               RUNWATCH_SYSTEM_INTERVAL="0")
    work = tmp_path / "live"
    work.mkdir()
    (work / "train.py").write_text(LIVE)
    proc = subprocess.Popen([sys.executable, "train.py"], cwd=work, stdout=subprocess.DEVNULL,
                            env=script_env(RUNWATCH_SYSTEM_INTERVAL="0", RUNWATCH_CONSOLE="off"))
    deadline = time.monotonic() + 30
    while not (work / "ready").exists() or not (work / "ready").read_text():
        assert time.monotonic() < deadline and proc.poll() is None, "the live script did not start"
        time.sleep(0.05)
    yield proc.pid, int((work / "ready").read_text())
    (work / "stop").touch()
    proc.wait(30)


def test_each_gpu_names_the_run_whose_process_tree_uses_it(root: Path, live_run: Any) -> None:
    pid, child = live_run
    on_gpu0 = [SimpleNamespace(pid=child, usedGpuMemory=30 * 2**30)]  # the script's child
    on_gpu1 = [SimpleNamespace(pid=os.getpid(), usedGpuMemory=2**30)]  # not a run: this test
    view = HostView(root, fake_nvml([h100(71 * 2**30, on_gpu0), h100(2**30, on_gpu1)]))
    view.sample()
    time.sleep(0.3)
    snap = view.sample()
    (run,) = snap.runs  # the finished run is not listed
    assert run.pid == pid and child in run.pids
    assert run.gpu_memory == {0: 30 * 2**30}
    assert run.rss > 150 * 2**20  # the script's 120 MB and its child's 80 MB, for real
    assert run.cpu >= 0
    assert [p[2] for p in snap.gpus[0].processes] == [run.run]
    assert "not a run" in snap.gpus[1].processes[0][2]
    assert snap.gpus[0].values["gpu"] == 97
    text = "\n".join(render(snap, root))
    assert "\x1b" not in text and "\\x1b]52" in text  # the run's name, escaped
    gpu0 = next(line for line in text.splitlines() if line.lstrip().startswith("0 "))
    assert f"{child} {run.run} 30.0 GiB" in gpu0 and "71.0/80.0 GiB" in gpu0
    view.close()


def test_without_a_gpu_it_says_so_and_still_shows_the_runs_processes(root: Path,
                                                                    live_run: Any) -> None:
    pid, _child = live_run
    out = io.StringIO()
    nvml = fake_nvml([], NVMLError_LibraryNotFound("NVML Shared Library Not Found"))
    assert cmd_top(root, out, once=True, nvml=nvml) == 0
    text = out.getvalue()
    assert "GPUs: none seen here (no GPU metrics (NVML: NVML Shared Library Not Found))" in text
    assert "no GPU" in text.splitlines()[0] and "1 live run" in text.splitlines()[0]
    (row,) = [line for line in text.splitlines() if f" {pid} " in line]
    assert ("MiB" in row or "GiB" in row) and "\\x1b]52" in row


def test_refreshes_until_interrupted_and_once_prints_one_table(root: Path, tmp_path: Path,
                                                               live_run: Any) -> None:
    # On a terminal: the screen is cleared before each redraw (the one raw sequence), and
    # Ctrl-C leaves with 0. Ctrl-C comes once three frames are shown: a SIGINT at a fixed 3 s
    # reached a loaded machine's Python still importing (exit 130), before top was running.
    argv = [sys.executable, "-m", "tui", "top", str(root), "-n", "0.2"]
    shown = read_on_a_pty(argv, script_env(), tmp_path,
                          interrupt_when=lambda out: out.count(CLEAR.encode()) >= 3)
    frames = shown.split(CLEAR)
    assert len(frames) >= 4 and frames[0] == "" and "\\x1b[H" not in shown
    assert all(f.startswith("runwatch top ·") for f in frames[1:]), [f[:60] for f in frames]
    assert "\x1b]52" not in shown and "\\x1b]52" in shown  # the run's name, escaped
    once = subprocess.run([sys.executable, "-m", "tui", "top", "--once", str(root)],
                          capture_output=True, text=True, env=script_env(), timeout=60)
    assert once.returncode == 0, once.stderr
    assert once.stdout.count("runwatch top ·") == 1 and f" {live_run[0]} " in once.stdout
    bad = subprocess.run([sys.executable, "-m", "tui", "top", "-n", "0"], capture_output=True,
                         text=True, env=script_env(), timeout=60)
    assert bad.returncode != 0 and "--interval 0" in bad.stderr
