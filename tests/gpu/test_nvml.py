"""The real NVML path: skipped unless pynvml.nvmlInit() works (a machine with an NVIDIA GPU)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import logger
from logger.nvml import GpuSampler

from ..conftest import run_script

pynvml = pytest.importorskip("pynvml")
try:
    pynvml.nvmlInit()
except pynvml.NVMLError as exc:
    pytest.skip(f"no GPU here (NVML: {exc})", allow_module_level=True)

KEYS = ("gpu", "memory", "memoryAllocated", "memoryAllocatedBytes", "memoryTotalBytes", "temp",
        "powerWatts", "smClock")


def test_every_gpu_is_sampled_with_wandb_keys() -> None:
    gpus = GpuSampler(pynvml)
    values = gpus.sample({os.getpid()})
    assert gpus.count >= 1
    for i in range(gpus.count):
        for key in KEYS:
            assert f"gpu.{i}.{key}" in values, (key, gpus.failures)
        assert 0 <= values[f"gpu.{i}.gpu"] <= 100
        assert 0 < values[f"gpu.{i}.memoryAllocatedBytes"] <= values[f"gpu.{i}.memoryTotalBytes"]
        assert 0 < values[f"gpu.{i}.temp"] < 120
    assert gpus.failures == [], gpus.failures
    again = gpus.sample({os.getpid()})
    assert set(again) == set(values)  # nothing dropped between samples
    gpus.close()


def test_a_run_records_gpu_rows_and_this_process_gpu_memory(root: Path, tmp_path: Path) -> None:
    proc = run_script(tmp_path, """
        import time
        import logger
        logger.init(project="p", settings=logger.Settings(x_stats_sampling_interval=0.2))
        try:
            import torch
            x = torch.ones(256 * 1024 * 1024 // 4, device="cuda")  # 256 MB on GPU 0
            print("torch", flush=True)
        except Exception as exc:
            print("no torch:", exc, flush=True)
        time.sleep(2.0)
        logger.finish()
    """, timeout=300)
    (run_dir,) = (root / "p").iterdir()
    rows = logger.Api(root).run(f"p/{run_dir.name}").history(stream="system", pandas=False)
    assert rows and all("system.gpu.0.gpu" in r for r in rows[1:])
    assert "system.gpu.0.powerPercent" in rows[-1]
    if proc.stdout.startswith("torch"):
        assert rows[-1]["system.gpu.process.0.usedMemoryBytes"] >= 256 * 1024 * 1024
