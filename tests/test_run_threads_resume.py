"""Threads sharing one run, and what a resume costs the training process."""

from __future__ import annotations

import sys
import threading
import tracemalloc

import logger
from logger.reader import RootReader


def test_eight_threads_logging_into_one_run_never_rewrite_a_step(root):
    run = logger.init(project="p")
    per_thread = 3000
    start = threading.Barrier(8)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as CPython can: races show at once

    def work(t: int) -> None:
        start.wait()
        for i in range(per_thread):
            run.log({f"t{t}": i})

    try:
        threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(switch)
    run.finish()
    reader = RootReader(root)
    reader.scan()
    data = reader.runs[f"{run.project}/{run.id}"]
    assert data.history.rewritten == 0
    assert list(data.history.steps) == list(range(8 * per_thread))
    for t in range(8):
        steps, values = data.history.columns[f"t{t}"].series()
        assert values == list(range(per_thread))


def test_a_resume_reads_the_last_step_and_summary_without_the_history(root):
    run = logger.init(project="p", id="long")
    steps = 300_000
    for i in range(steps):
        run.log({"loss": 1.0 / (i + 1), "acc": i / steps, "lr": 1e-3, "epoch": i // 1000})
    run.summary["best"] = 0.5
    run.finish()
    tracemalloc.start()
    try:
        resumed = logger.init(project="p", id="long", resume="allow")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resumed.step == steps
    assert resumed.summary["loss"] == 1.0 / steps and resumed.summary["best"] == 0.5
    # Reading it whole held every row: ~190 MiB here, growing with the run. Now one read of
    # about a frame (4 MiB, decoded ~10x) is held at a time, however long the run.
    assert peak < 64 * 2**20, f"resume peaked at {peak / 2**20:.1f} MiB"
    resumed.log({"loss": 0.0})
    resumed.finish()
    reader = RootReader(root)
    reader.scan()
    assert reader.runs["p/long"].history.last_step == steps
