"""`runwatch top` on a real GPU: every GPU NVML sees, with real values, and the live run whose
script holds memory on GPU 0 (through the CUDA driver) named on that GPU's line. Skipped
unless pynvml.nvmlInit() works."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.cli.top import HostView, render

from ..conftest import script_env
from .cuda import ALLOCATE, HOLD

pynvml = pytest.importorskip("pynvml")
try:
    pynvml.nvmlInit()
except pynvml.NVMLError as exc:
    pytest.skip(f"no GPU here (NVML: {exc})", allow_module_level=True)

LIVE = "\n".join([
    "import os, time",
    "import logger",
    "logger.init(project='p', name='on-gpu')",
    ALLOCATE,
    "open('ready', 'w').write(CUDA)",
    "while not os.path.exists('stop'):",
    "    time.sleep(0.05)",
    "logger.finish()",
])


def test_top_shows_every_gpu_and_the_run_holding_memory_on_it(root: Path, tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(LIVE)
    proc = subprocess.Popen([sys.executable, "train.py"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            env=script_env(RUNWATCH_SYSTEM_INTERVAL="0"))
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "ready").exists() or not (tmp_path / "ready").read_text():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        status = (tmp_path / "ready").read_text()
        view = HostView(root)  # the real pynvml
        view.sample()
        time.sleep(0.5)
        snap = view.sample()
        assert snap.gpu_problem == "" and len(snap.gpus) == pynvml.nvmlDeviceGetCount()
        for row in snap.gpus:
            assert 0 < row.values["memoryAllocatedBytes"] <= row.values["memoryTotalBytes"]
            assert 0 < row.values["temp"] < 120
        (run,) = snap.runs
        assert run.pid == proc.pid and run.rss > 0
        text = "\n".join(render(snap, root))
        assert "GiB" in text and "no GPU" not in text
        if status != "cuda ok":
            pytest.skip(f"no CUDA context here: {status}")
        listed = {pid for pid, _used, _who in snap.gpus[0].processes}
        if proc.pid not in listed:
            pytest.skip("NVML lists no pid of this PID namespace (a container): the run cannot "
                        "be matched to its GPU here")
        assert run.gpu_memory.get(0, 0) >= HOLD
        who = {pid: whose for pid, _used, whose in snap.gpus[0].processes}
        assert who[proc.pid] == run.run
        view.close()
    finally:
        (tmp_path / "stop").touch()
        proc.wait(60)


def test_top_once_from_the_command_line(root: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "tui", "top", "--once", str(root)],
                         capture_output=True, text=True, env=script_env(), timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    count = pynvml.nvmlDeviceGetCount()
    assert f"{count} GPU" in lines[0]
    rows = [line for line in lines if line[:3].strip().isdigit()]
    assert len(rows) == count and all("GiB" in row and "°C" in row for row in rows)
