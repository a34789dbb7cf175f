"""The real NVML path: skipped unless pynvml.nvmlInit() works (a machine with an NVIDIA GPU).

Each GPU's values are checked against what NVML says directly; a call the device does not
support (utilisation on a MIG-enabled GPU, a fan on an H100) must be NotSupported, never a
failure. GPU memory is held through the CUDA driver (tests/gpu/cuda.py), not torch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import logger
from logger.nvml import GpuSampler

from ..conftest import run_script
from .cuda import ALLOCATE, HOLD

pynvml = pytest.importorskip("pynvml")
try:
    pynvml.nvmlInit()
except pynvml.NVMLError as exc:
    pytest.skip(f"no GPU here (NVML: {exc})", allow_module_level=True)

ALWAYS = ("memoryAllocated", "memoryAllocatedBytes", "memoryTotalBytes", "temp")
UNLESS_UNSUPPORTED = ("gpu", "memory", "powerWatts", "smClock", "enforcedPowerLimitWatts")


def test_every_gpu_is_sampled_with_wandb_keys() -> None:
    gpus = GpuSampler(pynvml)
    values = gpus.sample({os.getpid()})
    assert gpus.count == pynvml.nvmlDeviceGetCount() >= 1
    for i in range(gpus.count):
        handle = pynvml.nvmlDeviceGetHandleByIndex(i)
        for key in ALWAYS:
            assert f"gpu.{i}.{key}" in values, (key, gpus.failures)
        for key in UNLESS_UNSUPPORTED:
            assert f"gpu.{i}.{key}" in values or (i, key if key not in ("gpu", "memory")
                                                  else "utilization") in gpus.unsupported, key
        total = pynvml.nvmlDeviceGetMemoryInfo(handle).total
        assert values[f"gpu.{i}.memoryTotalBytes"] == total
        assert 0 < values[f"gpu.{i}.memoryAllocatedBytes"] <= total
        assert 0 < values[f"gpu.{i}.temp"] < 120
        if f"gpu.{i}.gpu" in values:
            assert 0 <= values[f"gpu.{i}.gpu"] <= 100
        if f"gpu.{i}.powerWatts" in values:
            assert 0 < values[f"gpu.{i}.powerWatts"] < 2000  # watts, not milliwatts
    assert gpus.failures == [], gpus.failures
    again = gpus.sample({os.getpid()})
    assert set(again) == set(values)  # nothing dropped between samples
    gpus.close()


RUN = "\n".join([
    "import time",
    "import logger",
    "logger.init(project='p', settings=logger.Settings(x_stats_sampling_interval=0.2))",
    "time.sleep(1.0)  # samples before the allocation",
    ALLOCATE,
    "time.sleep(2.0)  # samples while it is held",
    "logger.finish()",
])


def test_a_run_records_gpu_rows_and_this_process_gpu_memory(root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, RUN, timeout=300)
    if not proc.stdout.startswith("cuda ok"):
        pytest.skip(f"no CUDA context here: {proc.stdout.splitlines()[:1]}")
    (run_dir,) = (root / "p").iterdir()
    rows = logger.Api(root).run(f"p/{run_dir.name}").history(stream="system", pandas=False)
    key = "system.gpu.0.memoryAllocatedBytes"
    used = [r[key] for r in rows if key in r]
    assert len(used) >= 5 and max(used) - min(used) >= HOLD  # the allocation, seen by NVML
    mine = [r for r in rows if "system.gpu.process.0.usedMemoryBytes" in r]
    if not mine:
        pytest.skip("NVML lists no pid of this PID namespace on GPU 0 (a container): the "
                    "process memory cannot be matched here")
    assert max(r["system.gpu.process.0.usedMemoryBytes"] for r in mine) >= HOLD
    assert "system.gpu.process.0.memoryAllocatedBytes" in mine[-1]
