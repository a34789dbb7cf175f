"""Soak: one run logging at 1 kHz (5 s in CI, 30 minutes with --long). The writer's memory
stays flat (RSS sampled from /proc while it runs) and no step is lost. Prints the figures."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest
import relkit

SECONDS = relkit.scale(5.0, 1800.0)
SAMPLE_EVERY = relkit.scale(0.05, 2.0)
MAX_GROWTH_MB = 4.0  # after warm-up; a leak of 2 bytes a step shows past this in the long form

SOAKER = r"""
import os, sys, time
import logger
root, seconds = sys.argv[1], float(sys.argv[2])
logger.init(project="soak", id="soak", dir=root, config={"rate_hz": 1000})
print("GO", flush=True)
""" + relkit.SOAK_LOOP


def rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def test_soak_at_1khz_keeps_memory_flat_and_every_step(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "runs"
    child = relkit.Child(relkit.write_script(tmp_path, "soak.py", SOAKER), root, SECONDS)
    samples: list[int] = []
    try:
        child.expect("GO")
        while child.proc.poll() is None:
            kb = rss_kb(child.pid)
            if kb:
                samples.append(kb)
            time.sleep(SAMPLE_EVERY)
        rc, out, err = child.finish()
    finally:
        child.close()
    assert rc == 0, err
    logged, took = out.split("DONE")[1].split()
    logged_n = int(logged)
    run = relkit.read_root(root).runs["soak/soak"]
    assert run.state == "finished" and run.skipped_frames == 0
    relkit.assert_contiguous(run.history.steps)
    assert len(run.history) == logged_n
    assert len(samples) >= 10, f"only {len(samples)} RSS samples"
    steady = samples[len(samples) // 5:]  # the first fifth is warm-up
    fifth = max(1, len(steady) // 5)
    early, late = statistics.median(steady[:fifth]), statistics.median(steady[-fifth:])
    growth_mb = (late - early) / 1024
    size_mb = sum(p.stat().st_size for p in relkit.segment_files(run.dir)) / 1e6
    with capsys.disabled():
        print(f"\nsoak: {logged_n} steps in {float(took):.1f} s ({logged_n / float(took):.0f} Hz), "
              f"segment {size_mb:.1f} MB; writer RSS {samples[0] / 1024:.1f} MB at start, "
              f"{early / 1024:.1f} -> {late / 1024:.1f} MB steady (growth {growth_mb:+.2f} MB), "
              f"peak {max(samples) / 1024:.1f} MB, {len(samples)} samples")
    assert growth_mb < MAX_GROWTH_MB, f"writer RSS grew {growth_mb:.1f} MB while logging"
